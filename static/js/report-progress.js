// Polls a background job (a report, a register import, a year's sign-off) and shows its progress; when it is
// done it offers the PDF ([data-report-ready]), or, with data-when-done="reload" on the box, reloads the page,
// which then says how it ended. The page works without it (refresh link).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("report-job");
  var bar = document.getElementById("report-progress");
  if (!box || !bar) { return; }
  var stage = box.querySelector("[data-report-stage]");
  var ready = box.querySelector("[data-report-ready]");
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        if ((job.status === "done" || job.status === "failed") && box.getAttribute("data-when-done") === "reload") {
          stage.textContent = job.status === "done" ? "Stored (100%)" : (job.error || "The report could not be made.");
          window.setTimeout(function () { window.location.reload(); }, 400);
        } else if (job.status === "done") {
          stage.textContent = "Ready (100%)";
          var link = ready.querySelector("a");
          link.href = job.download;
          ready.hidden = false;
          link.focus();
        } else if (job.status === "failed") {
          stage.textContent = job.error || "The report could not be made.";
          stage.setAttribute("role", "alert");
        } else {
          stage.textContent = (job.stage || "Waiting to start") + " (" + job.progress + "%)";
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
});
