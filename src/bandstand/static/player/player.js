// The bundled player: plays a song's `hls` link (or any of its `renditions`) given as
// index.html?src=<link>; HLS natively where the browser can (Safari), else with hls.js.
"use strict";

(() => {
  const audio = document.getElementById("player");
  const status = document.getElementById("status");
  const given = new URLSearchParams(location.search).get("src");

  // Only an http(s) link plays; no ?src= at all is the usual first visit, not an error.
  function linkFrom(text) {
    if (!text) return null;
    try {
      const url = new URL(text, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  const src = linkFrom(given);
  if (src === null) {
    audio.hidden = true;
    status.textContent = given
      ? "The src given is not an http(s) link. Use a song's hls link (from its JSON)."
      : "Add ?src= with a song's hls link (from its JSON) to this page's address.";
    return;
  }
  audio.addEventListener("error", () => {
    status.textContent = "Could not play this link (an expired link?).";
  });
  const hlsLink = new URL(src).pathname.endsWith(".m3u8");
  if (!hlsLink || audio.canPlayType("application/vnd.apple.mpegurl")) {
    audio.src = src; // a progressive file, or a browser that plays HLS itself (Safari)
    status.textContent = hlsLink ? "Playing HLS natively." : "Playing the file.";
  } else if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls();
    hls.on(window.Hls.Events.MANIFEST_PARSED, (_, data) => {
      status.textContent =
        "HLS with hls.js: " + data.levels.length + " bit rates, chosen by your connection.";
    });
    hls.on(window.Hls.Events.ERROR, (_, data) => {
      if (data.fatal) status.textContent = "Could not play: " + data.details + " (an expired link?)";
    });
    hls.loadSource(src);
    hls.attachMedia(audio);
  } else {
    status.textContent = "This browser plays neither HLS nor Media Source Extensions.";
  }
})();
