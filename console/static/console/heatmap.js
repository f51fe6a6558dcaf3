/* The heat map page: tooltips and cell labels from the texts the server put on each item (the same
 * figures as the table), a click on a warehouse of the map opens its alerts, and a drag from one
 * warehouse onto another opens the transfer draft with both filled in (planners only). */
(function () {
  "use strict";

  function texts(chart) {
    chart.setOption({
      tooltip: { formatter: function (p) { return (p.data && p.data.tip) || p.name; } },
      series: [{ label: { formatter: function (p) { return (p.data && (p.data.label || p.data.name)) || ""; } } }],
    });
  }

  function movable(el, chart) {
    var draft = el.dataset.draftUrl;
    var status = document.getElementById("move-status");
    var source = null;
    var moved = false;
    function say(text) { if (status) status.textContent = text; }
    chart.on("mousedown", function (p) {
      if (!draft || p.seriesType !== "scatter") return;
      source = p.data.code;
      moved = false;
      say("Moving stock out of " + source + ": release on the destination warehouse.");
    });
    chart.on("mouseup", function (p) {
      if (!source || p.seriesType !== "scatter") return;
      var destination = p.data.code;
      if (destination !== source) {
        moved = true;
        say("Drafting a transfer from " + source + " to " + destination + "…");
        window.location.href = draft + "?" + new URLSearchParams({ source: source, destination: destination });
      }
      source = null;
    });
    chart.getZr().on("mouseup", function () {
      // Released off any warehouse: nothing to draft (an item's own mouseup runs first).
      window.setTimeout(function () { if (source && !moved) { source = null; say(""); } }, 0);
    });
    el.addEventListener("chart-click", function (event) {
      var data = event.detail.data || {};
      if (!moved && data.href) window.location.href = data.href;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (!el.chart) return;
      texts(el.chart);
      if (el.dataset.map !== undefined) movable(el, el.chart);
    });
  });
})();
