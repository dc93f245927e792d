// The studio's file forms: a cover's preview before it is sent, and the song upload, whose
// drop zone is its file input, whose title and genre are read from the file's own tags,
// and which goes to the JSON API by XMLHttpRequest (fetch cannot report an upload's
// progress), then opens the song's studio page; and the upload of many files (or a
// folder), each its own request with its own progress. Listeners are delegated on the
// document, added once however often a page brings this script in again.
(function () {
  "use strict";
  if (window.bandstandUpload) return;
  window.bandstandUpload = true;

  var HEAD_BYTES = 1024 * 1024; // where FLAC and Ogg keep their comments
  var MAX_ID3_BYTES = 16 * 1024 * 1024; // an ID3 tag with a big picture in it

  // ---- Tags: ID3v2 (TIT2, TCON, TPE1), and Vorbis comments (FLAC, Ogg Vorbis, Opus).

  function ascii(bytes, at, length) {
    return String.fromCharCode.apply(null, bytes.subarray(at, at + length));
  }

  function syncsafe(bytes, at) {
    return (bytes[at] << 21) | (bytes[at + 1] << 14) | (bytes[at + 2] << 7) | bytes[at + 3];
  }

  function firstValue(text) {
    return text.split("\u0000").map(function (v) { return v.trim(); }).filter(Boolean)[0] || "";
  }

  function id3Text(data) {
    var encoding = data[0];
    var body = data.subarray(1);
    var label = "latin1";
    if (encoding === 1) {
      var bigEndian = body[0] === 0xfe && body[1] === 0xff;
      var bom = bigEndian || (body[0] === 0xff && body[1] === 0xfe);
      label = bigEndian ? "utf-16be" : "utf-16le";
      if (bom) body = body.subarray(2);
    } else if (encoding === 2) {
      label = "utf-16be";
    } else if (encoding === 3) {
      label = "utf-8";
    }
    return firstValue(new TextDecoder(label).decode(body));
  }

  function id3(bytes) {
    var version = bytes[3];
    var end = Math.min(bytes.length, 10 + syncsafe(bytes, 6));
    var at = 10;
    var names = version === 2
      ? { TT2: "title", TCO: "genre", TP1: "artist" }
      : { TIT2: "title", TCON: "genre", TPE1: "artist" };
    var idLength = version === 2 ? 3 : 4;
    var headLength = version === 2 ? 6 : 10;
    if (bytes[5] & 0x40 && version > 2) {
      // An extended header: v2.4 counts its own size, v2.3 does not.
      at += version === 4 ? syncsafe(bytes, at) : 4 + new DataView(bytes.buffer).getUint32(at);
    }
    var tags = {};
    while (at + headLength <= end && bytes[at] !== 0) {
      var id = ascii(bytes, at, idLength);
      var size = version === 2
        ? (bytes[at + 3] << 16) | (bytes[at + 4] << 8) | bytes[at + 5]
        : version === 4 ? syncsafe(bytes, at + 4) : new DataView(bytes.buffer).getUint32(at + 4);
      var start = at + headLength;
      if (size <= 0 || start + size > end) break;
      if (names[id]) tags[names[id]] = id3Text(bytes.subarray(start, start + size));
      at = start + size;
    }
    // "(13)Pop" or "(13)": a reference to ID3v1's list; the server names those.
    if (tags.genre) tags.genre = tags.genre.replace(/^(\(\d+\))+/, "").trim();
    return tags;
  }

  function vorbisComments(bytes, at) {
    var view = new DataView(bytes.buffer);
    var utf8 = new TextDecoder("utf-8");
    var names = { TITLE: "title", GENRE: "genre", ARTIST: "artist" };
    var tags = {};
    if (at + 4 > bytes.length) return tags;
    at += 4 + view.getUint32(at, true); // the vendor string
    if (at + 4 > bytes.length) return tags;
    var count = view.getUint32(at, true);
    at += 4;
    for (var i = 0; i < count && at + 4 <= bytes.length; i++) {
      var length = view.getUint32(at, true);
      at += 4;
      if (at + length > bytes.length) break;
      var comment = utf8.decode(bytes.subarray(at, at + length));
      at += length;
      var equals = comment.indexOf("=");
      var name = names[comment.slice(0, equals).toUpperCase()];
      if (equals > 0 && name && !tags[name]) tags[name] = comment.slice(equals + 1).trim();
    }
    return tags;
  }

  function flac(bytes) {
    var at = 4;
    while (at + 4 <= bytes.length) {
      var last = bytes[at] & 0x80;
      var type = bytes[at] & 0x7f;
      var length = (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
      if (type === 4) return vorbisComments(bytes, at + 4);
      if (last) break;
      at += 4 + length;
    }
    return {};
  }

  function indexOf(bytes, marker, limit) {
    outer: for (var i = 0; i + marker.length <= Math.min(bytes.length, limit); i++) {
      for (var j = 0; j < marker.length; j++) {
        if (bytes[i + j] !== marker.charCodeAt(j)) continue outer;
      }
      return i;
    }
    return -1;
  }

  function ogg(bytes) {
    // The comment header follows the identification header, in the first pages.
    var markers = ["\u0003vorbis", "OpusTags"];
    for (var k = 0; k < markers.length; k++) {
      var found = indexOf(bytes, markers[k], 64 * 1024);
      if (found >= 0) return vorbisComments(bytes, found + markers[k].length);
    }
    return {};
  }

  function readHead(file, length) {
    return file.slice(0, Math.min(file.size, length)).arrayBuffer().then(function (buffer) {
      return new Uint8Array(buffer);
    });
  }

  // What the file's own tags say of it: {title, genre, artist}, each perhaps missing.
  function readTags(file) {
    return readHead(file, HEAD_BYTES).then(function (bytes) {
      var magic = ascii(bytes, 0, 4);
      if (magic.slice(0, 3) === "ID3") {
        var whole = 10 + syncsafe(bytes, 6);
        if (whole <= bytes.length) return id3(bytes);
        return readHead(file, Math.min(whole, MAX_ID3_BYTES)).then(id3);
      }
      if (magic === "fLaC") return flac(bytes);
      if (magic === "OggS") return ogg(bytes);
      return {};
    }).catch(function () {
      return {}; // an odd file: the server reads its tags itself
    });
  }

  // ---- The form.

  function fill(field, value) {
    // Only a field the artist left empty, or that the previous file filled.
    if (!field || !value) return;
    if (field.value === "" || field.value === field.dataset.fromFile) {
      field.value = value;
      field.dataset.fromFile = value;
    }
  }

  function chosen(form, file) {
    readTags(file).then(function (tags) {
      var stem = file.name.replace(/\.[^.]+$/, "").replace(/[_]+/g, " ").trim();
      fill(form.elements.title, tags.title || stem);
      fill(form.elements.genre, tags.genre);
      var note = form.querySelector("[data-tagged]");
      if (note) {
        note.textContent = tags.artist ? "Artist, from the file's tags: " + tags.artist : "";
        note.hidden = !tags.artist;
      }
    });
  }

  function preview(input) {
    var image = input.closest("form").querySelector("[data-preview]");
    if (!image) return;
    if (image.src.indexOf("blob:") === 0) URL.revokeObjectURL(image.src);
    var file = input.files && input.files[0];
    image.hidden = !file;
    if (file) image.src = URL.createObjectURL(file);
  }

  function say(form, message) {
    var problem = form.querySelector("[data-problem]");
    problem.textContent = message;
    problem.hidden = !message;
  }

  // The envelope's message, with each field's problem under the field's own label.
  function refusal(form, xhr) {
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (e) { /* not the API's answer */ }
    if (!body || !body.message) return "The upload failed (HTTP " + xhr.status + "). Try again.";
    var parts = [body.message];
    (body.errors || []).forEach(function (error) {
      var field = error.field && form.elements[error.field];
      var label = field && field.labels && field.labels[0] ? field.labels[0].textContent : error.field;
      parts.push((label ? label + ": " : "") + error.message);
    });
    return parts.join(" ");
  }

  function open(form, song) {
    var outcome = form.querySelector("[data-outcome]");
    var link = document.createElement("a");
    link.href = "/studio/songs/" + encodeURIComponent(song._id);
    link.textContent = "Open “" + song.title + "” in your studio";
    outcome.textContent = "Uploaded. ";
    outcome.appendChild(link);
    // Boosted (the form is not): htmx swaps the page in, and what plays keeps playing.
    link.setAttribute("hx-boost", "true");
    if (window.htmx) window.htmx.process(link);
    link.click();
  }

  function send(form) {
    var progress = form.querySelector("progress");
    var percent = form.querySelector("[data-percent]");
    var button = form.querySelector("button[type=submit]");
    var show = function (value) {
      progress.value = value;
      percent.textContent = value + "%";
    };
    say(form, "");
    show(0);
    form.querySelector("[data-progress]").hidden = false;
    button.disabled = true;

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", document.body.dataset.csrf || "");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) show(Math.floor((100 * event.loaded) / event.total));
    });
    xhr.upload.addEventListener("load", function () { show(100); });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      if (xhr.status === 201) {
        open(form, JSON.parse(xhr.responseText).data);
      } else {
        form.querySelector("[data-progress]").hidden = true;
        say(form, refusal(form, xhr));
      }
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      say(form, "The upload was cut off. Check your connection and try again.");
    });
    xhr.send(new FormData(form));
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches("[data-cover-input]")) preview(input);
    if (input.matches("[data-song-input]") && input.files && input.files[0]) {
      chosen(input.form, input.files[0]);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-upload]")) return;
    event.preventDefault();
    send(form);
  });

  // ---- Many files: one request each, in the order of their paths, each with its folder's
  // cover picture if it has one (cover.jpg, folder.png ...). The server reads their tags.

  var COVER_NAMES = ["cover", "folder", "front", "album", "albumart", "albumartsmall"];
  var MAX_WAIT_S = 600; // a longer wait (the day's uploads are spent) is said, not waited
  var IMAGE = /\.(jpe?g|png|webp|gif)$/i;

  function pathOf(file) { return file.webkitRelativePath || file.name; }

  function folderOf(file) {
    var path = pathOf(file);
    return path.indexOf("/") >= 0 ? path.slice(0, path.lastIndexOf("/")) : "";
  }

  // "2 Song" before "10 Song", as a file manager sorts them.
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // The cover picture of each folder, by the names players look for, best first.
  function folderCovers(files) {
    var best = {};
    files.forEach(function (file) {
      if (!IMAGE.test(file.name)) return;
      var rank = COVER_NAMES.indexOf(file.name.replace(/\.[^.]+$/, "").toLowerCase());
      var folder = folderOf(file);
      if (rank >= 0 && (!best[folder] || rank < best[folder].rank)) {
        best[folder] = { rank: rank, file: file };
      }
    });
    return best;
  }

  function chosenFiles(form) {
    var files = [];
    form.querySelectorAll("[data-many-input]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) { files.push(file); });
    });
    // Hidden files (".DS_Store", "._song.mp3") are the system's, not songs.
    return files.filter(function (file) { return file.name.charAt(0) !== "."; });
  }

  function listItem(list, file) {
    var item = document.createElement("li");
    item.className = "progress";
    var name = document.createElement("span");
    name.textContent = pathOf(file);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + pathOf(file));
    var status = document.createElement("span");
    status.className = "hint";
    status.textContent = "Waiting.";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { bar: bar, status: status };
  }

  // Why one of many was refused: the envelope's message (the field is always the file).
  function reason(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.message) return body.message;
    } catch (e) { /* not the API's answer */ }
    return "The upload failed (HTTP " + xhr.status + ").";
  }

  function sendOne(form, file, cover, shown) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("songFile", file, file.name);
      if (cover) data.append("folderCover", cover, cover.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", document.body.dataset.csrf || "");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) shown.bar.value = Math.floor((100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", function () {
        var wait = Number(xhr.getResponseHeader("Retry-After"));
        if (xhr.status === 429 && wait > 0 && wait <= MAX_WAIT_S) {
          // Too many uploads at once for the server's budget: this one again, once it allows.
          shown.bar.value = 0;
          shown.status.textContent = "Waiting " + wait + " s: uploads are limited to so many at a time.";
          setTimeout(function () {
            sendOne(form, file, cover, shown).then(resolve);
          }, wait * 1000);
          return;
        }
        shown.bar.value = 100;
        if (xhr.status === 201) {
          var added = JSON.parse(xhr.responseText).data;
          shown.status.textContent = "";
          var link = document.createElement("a");
          link.href = added.page;
          link.textContent = added.song.title;
          shown.status.appendChild(document.createTextNode("Uploaded: "));
          shown.status.appendChild(link);
          if (added.release) {
            shown.status.appendChild(document.createTextNode(", on " + added.release.title));
          }
          resolve(true);
        } else {
          shown.status.textContent = "Not uploaded. " + reason(xhr);
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        shown.status.textContent = "Not uploaded: the connection was cut off.";
        resolve(false);
      });
      shown.status.textContent = "Uploading…";
      xhr.send(data);
    });
  }

  function sendMany(form) {
    var files = chosenFiles(form);
    var covers = folderCovers(files);
    var songs = files.filter(function (file) { return !IMAGE.test(file.name); });
    songs.sort(function (a, b) { return collator.compare(pathOf(a), pathOf(b)); });
    var outcome = form.querySelector("[data-many-outcome]");
    var list = form.querySelector("[data-many-list]");
    var button = form.querySelector("button[type=submit]");
    if (!songs.length) {
      outcome.textContent = "Choose the songs, or a folder of them, first.";
      return;
    }
    list.textContent = "";
    var shown = songs.map(function (file) { return listItem(list, file); });
    var uploaded = 0;
    button.disabled = true;
    outcome.textContent = "Uploading " + songs.length + " files…";
    // One at a time: a release is made by the first of its songs, and the rest join it.
    songs.reduce(function (previous, file, index) {
      return previous.then(function () {
        var cover = covers[folderOf(file)];
        return sendOne(form, file, cover && cover.file, shown[index]).then(function (ok) {
          if (ok) uploaded += 1;
        });
      });
    }, Promise.resolve()).then(function () {
      button.disabled = false;
      var refused = songs.length - uploaded;
      outcome.textContent = uploaded + " uploaded" + (refused ? ", " + refused + " not (see why below)." : ".");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-upload-many]")) return;
    event.preventDefault();
    sendMany(form);
  });

  // The drop zone hands what is dropped to its file input, as if chosen.
  function zone(event) {
    return event.target.closest ? event.target.closest("[data-drop]") : null;
  }
  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var target = zone(event);
      if (!target) return;
      event.preventDefault();
      target.classList.add("over");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var target = zone(event);
    if (target && !target.contains(event.relatedTarget)) target.classList.remove("over");
  });
  document.addEventListener("drop", function (event) {
    var target = zone(event);
    if (!target) return;
    event.preventDefault();
    target.classList.remove("over");
    var input = target.querySelector("input[type=file]");
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
