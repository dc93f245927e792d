"""The bundled player page (static/player): its script, run by Node.js against a stand-in
for the few browser objects it touches, for each kind of ``?src=``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests import services
from tests.conftest import Harness

PLAYER = Path(str(resources.files("bandstand").joinpath("static/player/player.js")))
PAGE = "http://127.0.0.1:8000/static/player/index.html"

# The browser, as far as player.js sees it: two elements, the address, and optionally a
# native HLS player or hls.js. Prints what the page ended up showing and loading.
BROWSER = """
const vm = require("vm");
const fs = require("fs");
const [script, href, nativeHls, withHlsJs] = JSON.parse(process.argv[1]);
const audio = { hidden: false, src: "", listeners: [],
  canPlayType: (type) => (nativeHls && type === "application/vnd.apple.mpegurl" ? "maybe" : ""),
  addEventListener(name) { this.listeners.push(name); } };
const status = { textContent: "" };
const loaded = [];
class Hls {
  static isSupported() { return true; }
  on() {}
  loadSource(src) { loaded.push(src); }
  attachMedia() {}
}
Hls.Events = { MANIFEST_PARSED: "parsed", ERROR: "error" };
const location = new URL(href);
const window = withHlsJs ? { Hls } : {};
const context = { URL, URLSearchParams, location, window,
  document: { getElementById: (id) => ({ player: audio, status })[id] } };
vm.runInNewContext(fs.readFileSync(script, "utf8"), context);
console.log(JSON.stringify({ status: status.textContent, src: audio.src, hidden: audio.hidden,
  hlsjs: loaded, listeners: audio.listeners }));
"""


def _open(query: str, *, native_hls: bool = False, hls_js: bool = True) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        services.missing("Node.js", "the player page's script is run by `node`")
        raise AssertionError  # unreachable: missing() skips or fails
    args = json.dumps([str(PLAYER), PAGE + query, native_hls, hls_js])
    done = subprocess.run(
        [node, "-e", BROWSER, args], capture_output=True, text=True, timeout=30, check=True
    )
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


@pytest.mark.parametrize("query", ["", "?src=", "?other=1"])
def test_without_a_link_it_says_how_to_give_one_and_loads_nothing(query: str) -> None:
    shown = _open(query)
    assert shown["status"].startswith("Add ?src=")
    assert shown["src"] == "" and shown["hlsjs"] == []  # never /static/player/null
    assert shown["hidden"] is True


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:audio/mpeg;base64,AAAA"])
def test_a_link_that_is_not_http_is_refused(link: str) -> None:
    shown = _open("?src=" + link)
    assert "not an http(s) link" in shown["status"]
    assert shown["src"] == "" and shown["hlsjs"] == []


def test_a_progressive_file_plays_in_the_audio_element() -> None:
    link = "http://127.0.0.1:8000/api/v1/media/1/sig/songs/ab/aac160.m4a"
    shown = _open("?src=" + link)
    assert shown["src"] == link and shown["status"] == "Playing the file."
    assert "error" in shown["listeners"]


def test_hls_plays_natively_where_it_can_and_with_hls_js_elsewhere() -> None:
    link = "http://127.0.0.1:8000/api/v1/media/1/sig/songs/ab/master.m3u8"
    native = _open("?src=" + link, native_hls=True)
    assert native["src"] == link and native["status"] == "Playing HLS natively."
    library = _open("?src=" + link)
    assert library["src"] == "" and library["hlsjs"] == [link]
    neither = _open("?src=" + link, hls_js=False)
    assert neither["status"].startswith("This browser plays neither")


async def test_the_page_loads_its_script_from_a_file(harness: Harness) -> None:
    client = harness.client()
    page = (await client.get("/static/player/index.html")).text
    assert re.findall(r"<script\b[^>]*>([^<]*)</script>", page) == ["", ""]  # none inline
    script = await client.get("/static/player/player.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
