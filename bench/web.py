"""The web app section: what the HTML home page costs beside the JSON feed, what a first
visit downloads, and how long a click on play takes to sound.

One ``bandstand serve --workers 2`` on PostgreSQL + Redis with ``bench/seed.py``'s
catalogue and one processed song (uploaded through the API, processed by ``bandstand
worker``). wrk loads ``GET /api/v1/songs/home?limit=24`` (bearer token) and ``GET /``
(the same listener's access cookie; the page shows the same 24 songs) in turn. Then
Debian's Chromium (Playwright) opens ``/`` in a fresh profile and adds up the compressed
bytes of every script and stylesheet it downloaded, and clicks the first song's play
button five times (a fresh page each), timing in the page from the click to the audio
element's ``playing`` event. Targets: HTML req/s ≥ 50 % of JSON's; first load ≤ 250 KB of
compressed JS and CSS; click to playing ≤ 300 ms.
Alone, from the repository root: ``.venv/bin/python bench/run.py --only web``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import (
    OUT_DIR,
    UNLIMITED,
    BenchError,
    Load,
    Report,
    Section,
    load_table,
    lua_load,
    lua_script,
    measure_lua,
    postgresql_env,
    preamble,
    reproduce,
    running_server,
    running_worker,
    seed,
    seeded_tokens,
    wrk_options,
)

from songs import tone_wav, upload_song

WEB = "web"
TITLE = "## Web app: the HTML home page, a first visit, a click on play"
FEED = 24
USERS, SONGS = 2_000, 20_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TARGET_RATIO, TARGET_KB, TARGET_MS = 0.5, 250, 300
CLICKS = 5


@dataclass(frozen=True)
class WebResult:
    json_home: Load
    html_home: Load
    first_load_kb: float
    first_load_files: int
    click_ms: list[float]

    @property
    def ratio(self) -> float:
        return self.html_home.requests_per_s / self.json_home.requests_per_s

    @property
    def click_median_ms(self) -> float:
        return statistics.median(self.click_ms)


# In the page: the time of the click (capture phase, before the player hears it) and of
# the audio element's first ``playing`` after it.
CLICK_TIMER = """
() => new Promise((resolve) => {
  const audio = document.getElementById('player-audio');
  let clicked = null;
  document.addEventListener('click', () => { clicked = performance.now(); },
                            { capture: true, once: true });
  audio.addEventListener('playing', () => resolve(performance.now() - clicked), { once: true });
})
"""


async def browse(site: str) -> tuple[float, int, list[float]]:
    """First-load compressed JS and CSS bytes and file count; click-to-playing times."""
    from playwright.async_api import Request, async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        context = await browser.new_context(base_url=site)
        page = await context.new_page()
        finished: list[Request] = []

        def keep(request: Request) -> None:
            finished.append(request)

        page.on("requestfinished", keep)
        await page.goto("/", wait_until="networkidle")
        total, files = 0, 0
        for request in finished:
            if request.resource_type in ("script", "stylesheet"):
                sizes = await request.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                files += 1
        times = []
        for _ in range(CLICKS):
            await page.goto("/", wait_until="networkidle")
            timer = asyncio.ensure_future(page.evaluate(CLICK_TIMER))
            await page.wait_for_timeout(50)
            await page.locator("[data-action=play-song]").first.click()
            times.append(float(await timer))
        await browser.close()
    return total / 1000, files, times


def bench_web(args: argparse.Namespace) -> WebResult:
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-web-") as tmp:
        data_dir = Path(tmp)
        with postgresql_env(data_dir) as env:
            seed(env, data_dir, USERS, SONGS)
            env = env | UNLIMITED
            server_log, worker_log = OUT_DIR / "server-web.log", OUT_DIR / "worker-web.log"
            with (
                running_server(env, data_dir, server_log, args.api_workers) as base_url,
                running_worker(env, data_dir, worker_log),
            ):
                token = seeded_tokens(base_url, 1)[0]
                song = upload_song(base_url, token, tone_wav(60))
                wait_ready(base_url, token, song["_id"])
                plain = lua_script("stats")
                json_home = measure_lua(
                    "GET /api/v1/songs/home?limit=24 (JSON)",
                    f"{base_url}/api/v1/songs/home?limit={FEED}",
                    plain,
                    args,
                    [f"Authorization: Bearer {token}"],
                )
                html_home = measure_lua(
                    "GET / (HTML, 24 songs)",
                    f"{base_url}/",
                    plain,
                    args,
                    [f"Cookie: accessToken={token}", "Accept: text/html"],
                )
                kb, files, clicks = asyncio.run(browse(base_url))
    print(f"  first load: {kb:.1f} KB of JS and CSS in {files} files", flush=True)
    print(f"  click to playing: {', '.join(f'{t:.0f}' for t in clicks)} ms", flush=True)
    return WebResult(json_home, html_home, kb, files, clicks)


def wait_ready(base_url: str, token: str, song_id: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{base_url}/api/v1/songs/{song_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        status = answer.json()["data"]["status"]
        if status == "ready":
            return
        if status == "failed":
            raise BenchError(f"the bench song failed to process: {answer.text}")
        time.sleep(0.5)
    raise BenchError("the bench song was not ready within 300 s")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown(r: WebResult, args: argparse.Namespace, machine_load: float) -> str:
    command = reproduce(WEB, *wrk_options(args))
    more = [
        f"- Data: {SONGS:,} songs and {USERS:,} users from `bench/seed.py`, and one "
        "processed one-minute song at the top of the feed",
        "- Browser: Debian's Chromium through Playwright, a fresh profile, on loopback",
    ]
    lines = [
        *preamble(command, lua_load(args), machine_load, more),
        *load_table([r.json_home, r.html_home]),
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        f"| HTML home req/s ≥ {TARGET_RATIO:.0%} of the JSON feed's | {r.ratio:.0%} | "
        f"{_met(r.ratio >= TARGET_RATIO and not r.html_home.errors)} |",
        f"| first load: compressed JS and CSS ≤ {TARGET_KB} KB | {r.first_load_kb:.1f} KB "
        f"({r.first_load_files} files) | {_met(r.first_load_kb <= TARGET_KB)} |",
        f"| click on play to audio playing ≤ {TARGET_MS} ms (median of {CLICKS}) | "
        f"{r.click_median_ms:.0f} ms | {_met(r.click_median_ms <= TARGET_MS)} |",
        "",
        f"Each click to playing: {', '.join(f'{t:.0f} ms' for t in r.click_ms)}.",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    result = bench_web(args)
    return Report(
        markdown(result, args, machine_load),
        failed=[x.label for x in (result.json_home, result.html_home) if x.errors],
        summary=[
            f"web: HTML ÷ JSON home = {result.ratio:.0%}, first load "
            f"{result.first_load_kb:.0f} KB, click to playing {result.click_median_ms:.0f} ms"
        ],
    )


SECTION = Section(WEB, TITLE, run)
