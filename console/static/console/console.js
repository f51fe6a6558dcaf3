/* Charts from the option each page renders on the server (a <script type="application/json"> named by
 * data-chart), drawn with ECharts' SVG renderer; a click on an item with a `url` opens it. Charts are
 * (re)drawn after every htmx swap too. */
(function () {
  "use strict";

  function draw(root) {
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source || !window.echarts) return;
      var old = echarts.getInstanceByDom(el);
      if (old) old.dispose();
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      chart.on("click", function (params) {
        var data = params.data || {};
        if (data.url) window.location.href = data.url;
        el.dispatchEvent(new CustomEvent("chart-click", { bubbles: true, detail: params }));
      });
      el.chart = chart;
    });
  }

  window.TriplineConsole = { draw: draw };
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) { if (el.chart) el.chart.resize(); });
  });
})();
