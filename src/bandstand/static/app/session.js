// Keeps the login alive, so a listener is never thrown out mid-song.
//
// The access cookie lasts 15 minutes; the refresh cookie (HttpOnly, sent only to
// /api/v1/users/...) trades for a new pair. Signed in, this script refreshes a little
// before the access token runs out, and at once when the tab comes back after a long
// sleep. When an htmx request is still answered 401, it refreshes once and sends the
// request again; when the refresh itself is refused, the login is over: to /signin.
// A browser that was signed in (localStorage remembers) and comes back with only the
// refresh cookie left is signed in again without a word.
(function () {
  "use strict";

  var REFRESH_URL = "/api/v1/users/refresh-token";
  // The access token's life (BANDSTAND_ACCESS_TOKEN_TTL_S), if the page says it.
  var LIFETIME_MS = (Number(document.body.dataset.accessTtl) || 15 * 60) * 1000;
  var EARLY_MS = Math.min(2 * 60 * 1000, LIFETIME_MS / 4);  // refresh this long before it runs out
  var STAMP = "bandstand.refreshedAt";  // shared by the tabs: one refresh serves them all
  var HAD_LOGIN = "bandstand.signedIn";

  var pending = null;  // the refresh in flight, shared by whoever asks meanwhile
  var timer = null;
  var retried = new WeakSet();  // elements whose request was sent again once already

  function store(key, value) {
    try {
      if (value === null) { localStorage.removeItem(key); } else { localStorage.setItem(key, value); }
    } catch (e) { /* storage refused (private mode): timers alone still work */ }
  }

  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function signedIn() {
    return document.body.dataset.signedIn === "yes";
  }

  // Resolves true (refreshed), false (refused: the login is over) or null (no answer:
  // offline, or the server is down; try again later).
  function refresh() {
    if (pending) { return pending; }
    pending = fetch(REFRESH_URL, {
      method: "POST",
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) {
        store(STAMP, String(Date.now()));
        store(HAD_LOGIN, "1");
        return true;
      }
      if (response.status === 401 || response.status === 403) {
        store(HAD_LOGIN, null);
        return false;
      }
      return null;
    }, function () {
      return null;
    }).then(function (outcome) {
      pending = null;
      schedule();
      return outcome;
    });
    return pending;
  }

  function signIn(path) {
    window.location.assign("/signin?next=" + encodeURIComponent(path || window.location.pathname + window.location.search));
  }

  function dueIn() {
    var last = Number(stored(STAMP)) || 0;
    return last + LIFETIME_MS - EARLY_MS - Date.now();
  }

  function schedule() {
    if (!signedIn()) { return; }
    clearTimeout(timer);
    // Without a stamp (the first page after signing in) the token's age is unknown:
    // refresh soon rather than late.
    timer = setTimeout(keepAlive, Math.max(dueIn(), 1000));
  }

  function keepAlive() {
    if (dueIn() > 0) { schedule(); return; }  // another tab refreshed meanwhile
    refresh().then(function (outcome) {
      if (outcome === false) { signIn(); }
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && signedIn()) { keepAlive(); }
  });

  // An htmx request answered 401 by the API's envelope (a page that needs a login):
  // refresh once, and send the same request again from the same element.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var type = detail.xhr.getResponseHeader("content-type") || "";
    if (detail.xhr.status !== 401 || type.indexOf("application/json") !== 0) { return; }
    detail.shouldSwap = false;
    detail.isError = false;
    var config = detail.requestConfig;
    var elt = config.elt;
    var path = config.verb === "get" ? config.path : null;
    if (retried.has(elt)) {
      retried.delete(elt);
      signIn(path);
      return;
    }
    refresh().then(function (outcome) {
      if (outcome !== true) { signIn(path); return; }
      retried.add(elt);
      htmx.ajax(config.verb, config.path, { source: elt, target: detail.target }).then(function () {
        retried.delete(elt);
      });
    });
  });

  document.addEventListener("submit", function (event) {
    if (event.target.getAttribute("action") === "/signout") { store(HAD_LOGIN, null); }
  });

  function start() {
    if (signedIn()) {
      store(HAD_LOGIN, "1");
      schedule();
    } else if (stored(HAD_LOGIN)) {
      // Signed in before, and the access cookie is gone: the refresh cookie may be left.
      // Signed in again, the page comes back as the server now shows it (/signin sends
      // on to its "next"). The mark goes first, so a page still signed out is no loop.
      refresh().then(function (outcome) {
        if (outcome !== true) { return; }
        store(HAD_LOGIN, null);
        window.location.reload();
      });
    }
  }

  // Other scripts (the player's play reports) may ask for a fresh login too.
  window.bandstandSession = { refresh: refresh };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
