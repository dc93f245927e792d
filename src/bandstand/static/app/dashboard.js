// A song's dashboard: its plays, likes and comments per day drawn with uPlot from the JSON
// block the page carries (no inline script). Drawn whenever a dashboard is swapped in;
// added once however often a page brings this script in again.
(function () {
  "use strict";
  if (window.bandstandDashboard) return;
  window.bandstandDashboard = true;

  var HEIGHT = 240;
  var LINES = [
    { key: "plays", label: "Plays", colour: "#1f4fd1" },
    { key: "likes", label: "Likes", colour: "#a12d1f" },
    { key: "comments", label: "Comments", colour: "#1d6b38" },
  ];

  function draw(figure) {
    var holder = figure.querySelector("[data-plot]");
    var source = document.getElementById(figure.getAttribute("data-chart"));
    if (!holder || !source || holder.dataset.drawn || !window.uPlot) return;
    holder.dataset.drawn = "yes";
    var series = JSON.parse(source.textContent).series;
    var data = [series.map(function (d) { return Date.parse(d.date + "T00:00:00Z") / 1000; })];
    LINES.forEach(function (line) {
      data.push(series.map(function (d) { return d[line.key]; }));
    });
    var options = {
      width: Math.max(280, holder.clientWidth),
      height: HEIGHT,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, max)]; } } },
      series: [{ label: "Day" }].concat(LINES.map(function (line) {
        return { label: line.label, stroke: line.colour, width: 2, points: { show: true } };
      })),
      axes: [{}, { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] }],
    };
    var plot = new window.uPlot(options, data, holder);
    new ResizeObserver(function () {
      if (holder.isConnected) plot.setSize({ width: Math.max(280, holder.clientWidth), height: HEIGHT });
    }).observe(holder);
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-chart]").forEach(draw);
    if (root.matches && root.matches("[data-chart]")) draw(root);
  }

  init(document);
  if (window.htmx) window.htmx.onLoad(init);
})();
