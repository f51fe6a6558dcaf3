/* What-if sandbox: show the fields of the chosen scenario kind, let a refused run (400) show its
 * messages, and switch the chart (and its table) between the rolled-up series and one position's. */
(function () {
  "use strict";

  function showKind() {
    var select = document.getElementById("sandbox-kind");
    if (!select) return;
    document.querySelectorAll(".sandbox-form fieldset[data-kind]").forEach(function (set) {
      set.hidden = set.dataset.kind.split(" ").indexOf(select.value) < 0;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showKind();
    var select = document.getElementById("sandbox-kind");
    if (select) select.addEventListener("change", showKind);
  });

  // htmx swaps no 4xx by default: a refused scenario's messages are the answer to show.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.id !== "sandbox-chart-of") return;
    var chosen = event.target.value;
    var chart = document.getElementById("sandbox-chart");
    chart.dataset.chart = chosen;
    window.TriplineConsole.draw(chart.parentNode);
    document.querySelectorAll("[data-series-of]").forEach(function (table) {
      table.hidden = table.dataset.seriesOf !== chosen;
    });
  });
})();
