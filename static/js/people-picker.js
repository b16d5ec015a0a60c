// The people picker (templates/training/_people_picker.html). Progressive enhancement: without this file the
// picker is a plain list of checkboxes. With it: a name search that hides who does not match, a "select all"
// box per group (it ticks the people of that group who are shown), and a live count of who is selected.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var search = picker.querySelector("[data-picker-search]");
    var count = picker.querySelector("[data-picker-count]");
    var none = picker.querySelector("[data-picker-none]");
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-group]"));
    var tools = picker.querySelector("[data-picker-tools]");
    if (tools) { tools.hidden = false; }

    function people(group) {
      return Array.prototype.slice.call(group.querySelectorAll("li[data-name] input[type=checkbox]"));
    }
    function shown(group) {
      return people(group).filter(function (box) { return !box.closest("li").hidden; });
    }
    function refresh() {
      var selected = picker.querySelectorAll("li[data-name] input[type=checkbox]:checked").length;
      count.textContent = selected + " selected";
      var anyShown = false;
      groups.forEach(function (group) {
        var visible = shown(group);
        var all = group.querySelector("[data-picker-all]");
        var ticked = visible.filter(function (box) { return box.checked; }).length;
        group.hidden = visible.length === 0;
        anyShown = anyShown || visible.length > 0;
        all.checked = visible.length > 0 && ticked === visible.length;
        all.indeterminate = ticked > 0 && ticked < visible.length;
        var scope = group.querySelector("[data-picker-all-scope]");
        scope.textContent = search && search.value.trim() ? " matching “" + search.value.trim() + "”" : "";
      });
      if (none) { none.hidden = anyShown; }
    }
    groups.forEach(function (group) {
      var label = group.querySelector("[data-picker-all-label]");
      label.hidden = false;
      label.querySelector("[data-picker-all]").addEventListener("change", function (event) {
        shown(group).forEach(function (box) { box.checked = event.target.checked; });
        refresh();
      });
    });
    picker.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-picker-all")) { refresh(); }
    });
    if (search) {
      search.addEventListener("input", function () {
        var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
        picker.querySelectorAll("li[data-name]").forEach(function (li) {
          var name = li.getAttribute("data-name");
          li.hidden = !words.every(function (w) { return name.indexOf(w) !== -1; });
        });
        refresh();
      });
      // Enter in the search box must not send the whole form
      search.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
    }
    refresh();
  });
});
