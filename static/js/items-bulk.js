// The item list's bulk bar, made nicer: select-all boxes for the page, a live "12 selected" count in a bar that
// stays in view while the list scrolls, and Enter in a field pressing that change's own button. Without this
// file the form still works: tick the boxes, open "Change the selected items", choose a change, press its
// button.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-bulk]");
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=items]"));
  var alls = Array.prototype.slice.call(form.querySelectorAll("[data-select-all]"));
  var count = document.getElementById("bulk-count");
  var panel = document.getElementById("bulk-panel");

  function update() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    count.textContent = n + " selected";
    alls.forEach(function (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    });
    boxes.forEach(function (b) { b.closest("tr").classList.toggle("row-selected", b.checked); });
    return n;
  }

  alls.forEach(function (all) {
    all.hidden = false;
    var wrap = all.closest("label");
    if (wrap) { wrap.hidden = false; }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
  });
  boxes.forEach(function (b) { b.addEventListener("change", update); });

  // Enter in a field of one change presses that change's button, not the first button of the form
  form.querySelectorAll(".bulk-action").forEach(function (group) {
    group.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") {
        event.preventDefault();
        group.querySelector("button[name=change]").click();
      }
    });
  });

  form.addEventListener("submit", function (event) {
    if (update() === 0) {
      event.preventDefault();
      count.textContent = "0 selected: tick at least one item in the list first.";
    }
  });
  update();
});
