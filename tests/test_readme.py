"""The README's walk-through, run as written against a live ``bandstand serve``.

A reader pastes the walk-through's shell blocks into a terminal beside ``make run``; this
test does the same with bash, in a fresh folder whose ``var/`` is the server's data dir,
changing only the server's address and the ``/path/to/...`` files. Every answer must
succeed, and each step must print what the README says it does — so the README cannot
drift from the server again.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests import services
from tests.audio import tone
from tests.images import png_bytes
from tests.processes import Bandstand, free_port
from tests.readme import README, Printed, localise, transcript, walkthrough_blocks

embedded_pass_only = pytest.mark.skipif(
    services.DATABASE_URL is not None,
    reason="the walk-through is of the embedded default; it runs in the SQLite pass",
)

# The walk takes about ten seconds, most of them the song's processing.
WALK_WITHIN_S = 60
EMAIL, USERNAME = "jane@example.com", "janedoe"


@pytest.fixture
def bash() -> str:
    """The shell, and the two tools the README promises are all a reader needs."""
    for tool in ("curl", "python3"):
        if shutil.which(tool) is None:
            services.missing(tool, "not on PATH (the README's walk-through needs it)")
    found = shutil.which("bash")
    if found is None:
        services.missing("bash", "not on PATH")
    assert found is not None
    return found


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reader's folder: no ``.env``, no ``BANDSTAND_*`` from this shell, ``var/`` fresh."""
    for name in list(os.environ):
        if name.startswith("BANDSTAND_") and not name.startswith("BANDSTAND_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def server(reader_folder: Path) -> Iterator[str]:
    """``bandstand serve`` on the embedded defaults, as ``make run`` starts it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    serve = Bandstand(
        ["serve", "--port", str(port)],
        env={"BANDSTAND_DATA_DIR": str(reader_folder / "var")},
        log=reader_folder / "serve.log",
    )
    serve.start()
    try:
        serve.wait_until_serving(base_url)
        yield base_url
    finally:
        serve.stop()


def _files(folder: Path) -> dict[str, Path]:
    """Real files for the README's placeholders: a 10 s song, an avatar and a cover."""
    track, picture, cover = folder / "track.mp3", folder / "picture.png", folder / "cover.jpg"
    track.write_bytes(tone("mp3", 10))
    picture.write_bytes(png_bytes())
    Image.new("RGB", (320, 320), (20, 90, 160)).save(cover, format="JPEG")
    return {
        "/path/to/track.mp3": track,
        "/path/to/picture.png": picture,
        "/path/to/cover.jpg": cover,
    }


def _walk(bash: str, script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Stricter than a reader's shell: an unset variable or a failed command stops the
    walk, and ``-x`` traces where. Past ``WALK_WITHIN_S`` it is stopped with everything
    it started."""
    walk = subprocess.Popen(
        [bash, "-euxo", "pipefail", "-c", script],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = walk.communicate(timeout=WALK_WITHIN_S)
    except subprocess.TimeoutExpired:
        os.killpg(walk.pid, signal.SIGKILL)
        stdout, stderr = walk.communicate()
        pytest.fail(f"the walk took over {WALK_WITHIN_S} s\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(walk.args, walk.returncode, stdout, stderr)


# --- what each step must print, in order ------------------------------------------------------


@dataclass
class Seen:
    """What the steps so far showed, for the steps after them."""

    base: str
    ids: dict[str, str] = field(default_factory=dict)


def _data(printed: Printed) -> Any:
    envelope = printed.envelope
    return envelope["data"] if envelope is not None else None


def _status(printed: Printed) -> int | None:
    envelope = printed.envelope
    return envelope["statusCode"] if envelope is not None else None


def _signed_up(p: Printed, seen: Seen) -> bool:
    return _data(p)["email"] == EMAIL and bool(_data(p)["registrationId"])


def _verified(p: Printed, seen: Seen) -> bool:
    return _status(p) == 201 and _data(p)["username"] == USERNAME


def _who_am_i(p: Printed, seen: Seen) -> bool:
    return _status(p) == 200 and _data(p)["username"] == USERNAME and _data(p)["email"] == EMAIL


def _uploaded(p: Printed, seen: Seen) -> bool:
    stream = rf"{re.escape(seen.base)}/api/v1/songs/([0-9a-f-]+)/stream\?\S+"
    found = re.fullmatch(f"processing {stream}", p.text)
    if found:
        seen.ids["song"] = found.group(1)
    return found is not None


def _ready(p: Printed, seen: Seen) -> bool:
    found = re.fullmatch(rf"ready ({re.escape(seen.base)}/api/v1/media/\S+/master\.m3u8)", p.text)
    if found:
        seen.ids["hls"] = found.group(1)
    return found is not None


def _player(p: Printed, seen: Seen) -> bool:
    if p.text.startswith(f"{seen.base}/static/player/index.html?src="):
        seen.ids["player"] = p.text
        return True
    return False


def _played(p: Printed, seen: Seen) -> bool:
    # Jane plays her own song: it joins her history, and is no view.
    song = _data(p)
    return song["_id"] == seen.ids["song"] and song["viewCounted"] is False and song["views"] == 0


def _liked(p: Printed, seen: Seen) -> bool:
    like = _data(p)
    return like["songId"] == seen.ids["song"] and like["liked"] is True and like["likeCount"] == 1


def _replied(p: Printed, seen: Seen) -> bool:
    reply = _data(p)
    if _status(p) == 201 and reply["song"] == seen.ids["song"] and reply["parentComment"]:
        seen.ids["comment"] = reply["parentComment"]
        return True
    return False


def _threads_listed(p: Printed, seen: Seen) -> bool:
    (thread,) = _data(p)["docs"]
    return bool(
        thread["_id"] == seen.ids["comment"]
        and thread["timestamp"] == 2
        and thread["replyCount"] == 1
        and [reply["parentComment"] for reply in thread["replies"]] == [seen.ids["comment"]]
    )


def _replies_listed(p: Printed, seen: Seen) -> bool:
    (reply,) = _data(p)["docs"]
    return bool(reply["parentComment"] == seen.ids["comment"])


def _playlist_made(p: Printed, seen: Seen) -> bool:
    playlist = _data(p)
    return _status(p) == 201 and [s["_id"] for s in playlist["songs"]] == [seen.ids["song"]]


def _history(p: Printed, seen: Seen) -> bool:
    return [entry["song"]["_id"] for entry in _data(p)["docs"]] == [seen.ids["song"]]


def _analytics(p: Printed, seen: Seen) -> bool:
    found = _data(p)
    return bool(
        found["songId"] == seen.ids["song"]
        and found["totals"]["views"] == 0
        and found["totals"]["likes"] == 1
        and found["totals"]["comments"] >= 1
        and len(found["series"]) == 7
    )


Step = Callable[[Printed, Seen], bool]
STEPS: list[tuple[str, Step]] = [
    ("signed up", _signed_up),
    ("verified", _verified),
    ("logged in: who am I", _who_am_i),
    ("uploaded: processing, with its stream URL", _uploaded),
    ("processed: ready, with its HLS playlist", _ready),
    ("the player's address", _player),
    ("played (the owner's own play is no view)", _played),
    ("liked", _liked),
    ("commented, and replied", _replied),
    ("threads listed, the reply nested", _threads_listed),
    ("the thread's replies listed", _replies_listed),
    ("playlist made with the song", _playlist_made),
    ("history lists the song", _history),
    ("analytics: no views, one like, the comments", _analytics),
]


def _shows(step: Step, printed: Printed, seen: Seen) -> bool:
    try:
        return step(printed, seen)
    except (KeyError, TypeError, IndexError, ValueError):
        return False


def _steps_not_shown(printed: list[Printed], seen: Seen) -> list[str]:
    """From the first step not shown on: each must be printed after the one before it."""
    remaining = iter(printed)
    for position, (_, step) in enumerate(STEPS):
        if not any(_shows(step, item, seen) for item in remaining):
            return [name for name, _ in STEPS[position:]]
    return []


# --- the tests -------------------------------------------------------------------------------


@embedded_pass_only
def test_the_readme_walk_through_runs_as_written(
    bash: str, server: str, reader_folder: Path
) -> None:
    blocks = walkthrough_blocks(README.read_text())
    script = localise("\n".join(blocks), server, _files(reader_folder))

    ran = _walk(bash, script, reader_folder)
    report = f"stdout:\n{ran.stdout[-3000:]}\nstderr (the trace):\n{ran.stderr[-3000:]}"
    assert ran.returncode == 0, f"the walk stopped (exit {ran.returncode})\n{report}"

    printed = transcript(ran.stdout)
    failed = [p.envelope for p in printed if p.envelope is not None and not p.envelope["success"]]
    assert not failed, f"answers that failed: {failed}\n{report}"
    seen = Seen(server)
    missing = _steps_not_shown(printed, seen)
    assert not missing, f"not shown, from the first: {missing}\n{report}"

    # The addresses printed for a browser work.
    hls = httpx.get(seen.ids["hls"], timeout=10)
    assert hls.status_code == 200 and hls.text.startswith("#EXTM3U")
    assert httpx.get(seen.ids["player"], timeout=10).status_code == 200


def test_the_walk_through_is_its_own_shell_blocks_only() -> None:
    """The set-up block (``make run``) is not part of it; every block of the section is."""
    text = README.read_text()
    blocks = walkthrough_blocks(text)
    assert len(blocks) >= 4
    assert not any("make run" in block for block in blocks)
    section = text[text.index("## A first walk-through") :].split("\n## ", 1)[0]
    assert section.count("```sh\n") == len(blocks)


def test_what_the_walk_printed_is_read_in_order() -> None:
    """``curl -s`` ends its JSON without a newline: what follows shares the line."""
    stdout = '{"a": 1}{"b": [2]}ready http://x/master.m3u8\nplain line\n[3]'
    assert transcript(stdout) == [
        Printed(json={"a": 1}),
        Printed(json={"b": [2]}),
        Printed(text="ready http://x/master.m3u8"),
        Printed(text="plain line"),
        Printed(json=[3]),
    ]
