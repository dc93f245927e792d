// Behaviour every page shares, wired once and kept across htmx navigations: focus moves
// to the new page's heading (so a screen reader hears where it went), and forms that ask
// for confirmation (data-confirm) ask before they are sent.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "main") {
      var heading = document.querySelector("#main h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
