// The player bar. It lives outside <main> and is never swapped (hx-preserve), so what it
// plays keeps playing while htmx replaces the page. A play button in a [data-queue] list
// plays its card ([data-song] with data-title, -artist, -cover, -hls, -src, -gain,
// -duration) with the list as the queue. HLS natively where the browser can, else with
// hls.js (loaded once, when first needed), else the AAC file. Loudness is evened out
// from each song's gain with Web Audio; each play is reported once to the API.
// #player carries data-state (empty|playing|paused) and data-song for tests and CSS.
(function () {
  "use strict";

  var HLS_TYPE = "application/vnd.apple.mpegurl";
  var VOLUME_KEY = "bandstand.volume";
  var bar = document.getElementById("player");
  if (!bar || window.bandstandPlayer) return;
  var audio = document.getElementById("player-audio");
  var seekRange = document.getElementById("player-seek");
  var volumeRange = document.getElementById("player-volume");
  var toggleButton = bar.querySelector("[data-action=toggle]");
  var queue = [];
  var index = -1;
  var hls = null;
  var hlsLibrary = null;
  var loading = 0; // which load is the latest: a slow one must not win over it
  var pendingSeek = null; // where to start once the new song's length is known
  var settled = false; // the audio element holds the current song's metadata
  var reported = false;
  var graph = null;

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = ("0" + (total % 60)).slice(-2);
    return hours ? hours + ":" + ("0" + minutes).slice(-2) + ":" + secs : minutes + ":" + secs;
  }

  function songOf(item) {
    if (!(item instanceof Element)) return item;
    var data = item.dataset;
    return {
      id: data.song, title: data.title, artist: data.artist, cover: data.cover,
      hls: data.hls, src: data.src, duration: parseFloat(data.duration) || 0,
      gain: data.gain === "" || data.gain === undefined ? null : parseFloat(data.gain)
    };
  }

  function current() { return queue[index] || null; }

  function length() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : (current() || {}).duration || 0;
  }

  // Web Audio, made on the first play (browsers allow it only after a gesture).
  function loudness(gain) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!graph) {
      try {
        var context = new Context();
        var node = context.createGain();
        context.createMediaElementSource(audio).connect(node);
        node.connect(context.destination);
        graph = { context: context, node: node };
      } catch (error) {
        return;
      }
    }
    if (graph.context.state === "suspended") graph.context.resume();
    graph.node.gain.value = gain === null ? 1 : Math.pow(10, gain / 20);
  }

  function hlsJs() {
    if (!hlsLibrary) {
      hlsLibrary = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = document.body.dataset.hls;
        script.onload = function () { resolve(window.Hls); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return hlsLibrary;
  }

  function fallBack(song) {
    if (hls) { hls.destroy(); hls = null; }
    audio.src = song.src;
  }

  // Points the audio element at the song; resolves when it may be told to play.
  function attach(song, ticket) {
    if (hls) { hls.destroy(); hls = null; }
    if (!song.hls || audio.canPlayType(HLS_TYPE)) {
      audio.src = song.hls || song.src;
      return Promise.resolve();
    }
    if (!window.MediaSource) {
      audio.src = song.src;
      return Promise.resolve();
    }
    return hlsJs().then(function (Hls) {
      if (ticket !== loading) return;
      if (!Hls || !Hls.isSupported()) return fallBack(song);
      hls = new Hls();
      hls.on(Hls.Events.ERROR, function (event, data) {
        if (data.fatal) { fallBack(song); audio.play().catch(function () {}); }
      });
      hls.loadSource(song.hls);
      hls.attachMedia(audio);
    }, function () {
      if (ticket === loading) fallBack(song);
    });
  }

  function load(at) {
    var song = queue[at];
    if (!song) return;
    index = at;
    reported = false;
    settled = false;
    pendingSeek = null;
    var ticket = ++loading;
    audio.pause();
    loudness(song.gain);
    show();
    attach(song, ticket).then(function () {
      if (ticket !== loading) return;
      audio.play().catch(function () { setState(); });
    });
    document.dispatchEvent(new CustomEvent("bandstand:song", { detail: song }));
  }

  function play(item, list) {
    var song = songOf(item);
    queue = (list && list.length ? Array.prototype.slice.call(list) : [song]).map(songOf);
    var at = queue.findIndex(function (queued) { return queued.id === song.id; });
    if (at < 0) { queue.unshift(song); at = 0; }
    load(at);
  }

  function seek(seconds) {
    if (!settled) { pendingSeek = seconds; return; }
    audio.currentTime = Math.max(0, Math.min(seconds, length()));
  }

  function toggle() {
    if (!current()) return;
    loudness(current().gain);
    if (audio.paused) audio.play().catch(function () {}); else audio.pause();
  }

  function step(by) {
    if (by < 0 && audio.currentTime > 3) { seek(0); return; }
    if (queue[index + by]) load(index + by);
  }

  function report(song) {
    if (reported || document.body.dataset.signedIn !== "yes") return;
    reported = true;
    var send = function () {
      return fetch("/api/v1/songs/" + encodeURIComponent(song.id), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": document.body.dataset.csrf }
      });
    };
    // A login that ran out while the song played is refreshed once (session.js).
    send().then(function (response) {
      var session = window.bandstandSession;
      if (response.status !== 401 || !session) return;
      session.refresh().then(function (refreshed) { if (refreshed) send(); });
    }).catch(function () {});
  }

  function setState() {
    var song = current();
    var playing = song && !audio.paused && !audio.ended;
    bar.dataset.state = song ? (playing ? "playing" : "paused") : "empty";
    toggleButton.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  function markCards() {
    var id = current() ? current().id : null;
    document.querySelectorAll("[data-queue] [data-song]").forEach(function (card) {
      card.classList.toggle("playing", card.dataset.song === id);
    });
  }

  function showTime() {
    var total = length();
    seekRange.max = total;
    if (!seekRange.matches(":active")) seekRange.value = audio.currentTime; // not while dragged
    bar.querySelector(".elapsed").textContent = clock(audio.currentTime);
    bar.querySelector(".length").textContent = clock(total);
  }

  function show() {
    var song = current();
    bar.dataset.song = song.id;
    var title = bar.querySelector(".now-title");
    title.textContent = song.title;
    title.setAttribute("href", "/songs/" + song.id);
    if (window.htmx) window.htmx.process(title); // boosted with its new address
    bar.querySelector(".now-artist").textContent = song.artist || "";
    if (song.cover) bar.querySelector(".now-cover").src = song.cover;
    bar.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
    bar.querySelector("[data-action=next]").disabled = index >= queue.length - 1;
    seekRange.disabled = false;
    setState();
    showTime();
    markCards();
  }

  audio.addEventListener("loadedmetadata", function () {
    settled = true;
    if (pendingSeek !== null) { audio.currentTime = pendingSeek; pendingSeek = null; }
    showTime();
  });
  audio.addEventListener("timeupdate", showTime);
  audio.addEventListener("durationchange", showTime);
  audio.addEventListener("play", setState);
  audio.addEventListener("pause", setState);
  audio.addEventListener("playing", function () {
    setState();
    if (current()) report(current());
  });
  audio.addEventListener("ended", function () {
    if (queue[index + 1]) { load(index + 1); return; }
    reported = false; // playing it again is another play
    setState();
  });

  seekRange.addEventListener("input", function () { seek(parseFloat(seekRange.value)); });

  var kept = parseFloat(window.localStorage.getItem(VOLUME_KEY));
  if (kept >= 0 && kept <= 1) volumeRange.value = kept;
  audio.volume = parseFloat(volumeRange.value);
  volumeRange.addEventListener("input", function () {
    audio.volume = parseFloat(volumeRange.value);
    window.localStorage.setItem(VOLUME_KEY, volumeRange.value);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var action = button.dataset.action;
    if (action === "play-song") {
      var card = button.closest("[data-song]");
      if (current() && current().id === card.dataset.song) { toggle(); return; }
      var list = button.closest("[data-queue]");
      var cards = list ? list.querySelectorAll("[data-song]") : [card];
      play(card, Array.prototype.filter.call(cards, function (each) {
        return each === card || each.querySelector("[data-action=play-song]");
      }));
    } else if (action === "toggle") {
      toggle();
    } else if (action === "previous") {
      step(-1);
    } else if (action === "next") {
      step(1);
    }
  });

  // A page swapped in shows which of its cards is playing.
  document.addEventListener("htmx:afterSettle", markCards);

  window.bandstandPlayer = {
    audio: audio,
    play: play,
    seek: seek,
    // Whether the audio element holds the current song yet (its metadata arrived).
    loaded: function () { return settled; },
    currentSongId: function () { return current() ? current().id : null; }
  };
})();
