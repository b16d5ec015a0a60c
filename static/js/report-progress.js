// Polls a background report job and offers the PDF when it is ready. The page works without it (refresh link).
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
        if (job.status === "done") {
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
