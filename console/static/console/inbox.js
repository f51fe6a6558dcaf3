/* The inbox's checkboxes: select all on the page, a count of the selected, and rows that the live
 * update adds at the top (an alert already listed is not listed twice; what was checked stays checked). */
(function () {
  "use strict";

  function boxes() { return document.querySelectorAll('#inbox-body input[name="ids"]'); }

  function count() {
    var label = document.getElementById("selected-count");
    var checked = document.querySelectorAll('#inbox-body input[name="ids"]:checked').length;
    if (label) label.textContent = checked + " selected";
    var all = document.getElementById("select-all");
    if (all) all.checked = checked > 0 && checked === boxes().length;
  }

  function dedupe() {
    var seen = {};
    document.querySelectorAll("#inbox-body tr[data-id]").forEach(function (row) {
      var id = row.dataset.id;
      if (seen[id]) {
        // Keep the row listed first unless it is the new copy of one already there.
        (row.classList.contains("new") ? row : seen[id]).remove();
        if (!row.classList.contains("new")) seen[id] = row;
      } else {
        seen[id] = row;
      }
    });
    var empty = document.getElementById("inbox-empty");
    if (empty && document.querySelector("#inbox-body tr")) empty.hidden = true;
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.id === "select-all" || event.target.name === "ids") count();
  });
  document.addEventListener("htmx:oobAfterSwap", function () { dedupe(); count(); });
  document.addEventListener("DOMContentLoaded", count);
})();
