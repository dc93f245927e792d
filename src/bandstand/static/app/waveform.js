// The song page: the waveform drawn with wavesurfer.js from the stored peaks (the audio is
// never downloaded for it), following the player's own audio element while this song
// plays; clicks on it, on a comment's mark or on a comment's moment seek (or start the
// song there). Also the comment form's "at the current moment" and the copy-link button.
// (A refused form's answer, 4xx, is swapped in like any page: base.html's htmx config.)
// Included by each song page, so it may run more than once: the first run does it all.
(function () {
  "use strict";

  if (window.bandstandSongPage) return;
  window.bandstandSongPage = true;
  var library = null;
  var drawn = [];

  function player() { return window.bandstandPlayer; }

  function playing(id) { return player() && player().currentSongId() === id; }

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    return Math.floor(total / 60) + ":" + ("0" + (total % 60)).slice(-2);
  }

  function wavesurfer(src) {
    if (!library) {
      library = new Promise(function (resolve, reject) {
        if (window.WaveSurfer) { resolve(window.WaveSurfer); return; }
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.WaveSurfer); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return library;
  }

  function cardOf(id) {
    return document.querySelector(".song-hero [data-song='" + id + "']");
  }

  // Play the song from ``seconds``: seek if it is the one playing, else start it there.
  function playFrom(id, seconds) {
    var bandstand = player();
    if (!bandstand) return;
    if (playing(id)) {
      bandstand.seek(seconds);
      if (bandstand.audio.paused) bandstand.audio.play().catch(function () {});
    } else if (cardOf(id)) {
      bandstand.play(cardOf(id), [cardOf(id)]);
      bandstand.seek(seconds);
    }
  }

  // (Re)draws a waveform: following the player's audio while its song is the one loaded
  // there, else on its own (wavesurfer then has a silent element with no source).
  function draw(element) {
    var id = element.dataset.song;
    var follow = Boolean(playing(id) && player().loaded());
    if (element.following === follow) return;
    element.following = follow;
    if (drawn.indexOf(element) < 0) drawn.push(element);
    wavesurfer(element.dataset.lib).then(function (WaveSurfer) {
      if (element.following !== follow || !element.isConnected) return; // superseded
      if (element.waveform) element.waveform.destroy();
      var options = {
        container: element,
        height: 96,
        barWidth: 2,
        barGap: 1,
        barRadius: 1,
        waveColor: "#9aa3b5",
        progressColor: "#1f4fd1",
        cursorColor: "#1b1f2a",
        peaks: [JSON.parse(element.dataset.peaks)],
        duration: parseFloat(element.dataset.duration)
      };
      if (follow) options.media = player().audio;
      var waves = WaveSurfer.create(options);
      // While following, wavesurfer seeks the player's audio itself.
      waves.on("interaction", function (seconds) { if (!follow) playFrom(id, seconds); });
      element.waveform = waves;
    });
  }

  function refresh() {
    drawn = drawn.filter(function (element) {
      if (element.isConnected) return true;
      if (element.waveform) element.waveform.destroy(); // swapped away: stop following
      return false;
    });
    document.querySelectorAll(".waveform[data-peaks]").forEach(draw);
    var bandstand = player();
    document.querySelectorAll("[data-moment]").forEach(function (output) {
      var form = output.closest("[data-moment-form]");
      var here = bandstand && playing(form.dataset.momentForm);
      output.value = clock(here ? bandstand.audio.currentTime : 0);
    });
  }

  document.addEventListener("click", function (event) {
    var at = event.target.closest("[data-time]");
    if (at) {
      var song = document.querySelector(".waveform[data-song]");
      if (song) playFrom(song.dataset.song, parseFloat(at.dataset.time));
      var comment = at.dataset.comment && document.getElementById("comment-" + at.dataset.comment);
      if (comment) comment.scrollIntoView({ block: "nearest" });
      return;
    }
    var copy = event.target.closest("[data-action=copy-link]");
    if (copy) {
      var field = document.getElementById(copy.dataset.target);
      var said = copy.parentNode.querySelector("[data-copied]");
      var done = function () { said.textContent = "Link copied."; };
      field.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          said.textContent = "Select the link and copy it.";
        });
      } else if (document.execCommand("copy")) {
        done();
      }
    }
  });

  // "At the current moment": the player's position in this song, set as the form is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-moment-form]");
    if (!form) return;
    var bandstand = player();
    var here = bandstand && playing(form.dataset.momentForm);
    form.elements.timestamp.value = here ? bandstand.audio.currentTime.toFixed(2) : "0";
  }, true);

  if (player()) {
    player().audio.addEventListener("loadedmetadata", refresh);
    player().audio.addEventListener("timeupdate", refresh);
  }
  document.addEventListener("bandstand:song", refresh);
  document.addEventListener("htmx:afterSettle", refresh);
  refresh();
})();
