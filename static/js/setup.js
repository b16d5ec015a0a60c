// First-year setup, step 3 (templates/tracking/setup_past.html): "select all" per group and a live count of
// the selected items. Progressive enhancement only: without it every checkbox still works on its own.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("[data-past-form]");
  if (!form) { return; }
  var count = form.querySelector("[data-selected-count]");
  var boxes = function (group) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="items"]' + (group ? '[data-group="' + group + '"]' : "")));
  };
  function refresh() {
    form.querySelectorAll("[data-select-group]").forEach(function (all) {
      var mine = boxes(all.getAttribute("data-select-group"));
      var on = mine.filter(function (b) { return b.checked; }).length;
      all.checked = on === mine.length && on > 0;
      all.indeterminate = on > 0 && on < mine.length;
    });
    var n = boxes().filter(function (b) { return b.checked; }).length;
    if (count) { count.textContent = n + " selected"; }
  }
  form.querySelectorAll("[data-select-group]").forEach(function (all) {
    all.addEventListener("change", function () {
      boxes(all.getAttribute("data-select-group")).forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "items") { refresh(); }
  });
  refresh();
});
