// Shows the progress of a year's sign-off (the job freezing its report) and reloads the page when it ends,
// which then says who signed off, or why it did not go through. The page works without it (refresh link).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("sign-off-job");
  var bar = document.getElementById("sign-off-progress");
  if (!box || !bar) { return; }
  var stage = box.querySelector("[data-sign-off-stage]");
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        if (job.status === "done" || job.status === "failed") {
          stage.textContent = job.status === "done" ? "Stored (100%)" : (job.error || "The report could not be made.");
          window.setTimeout(function () { window.location.reload(); }, 400);
        } else {
          stage.textContent = (job.stage || "Waiting to start") + " (" + job.progress + "%)";
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
});
