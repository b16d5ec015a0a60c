// The first download of a draft report takes a few seconds while the PDF is made: show that it is working
// instead of a dead click. Links (and GET forms) marked data-pdf-progress fetch the PDF while a progress bar
// and a status (read out by screen readers through the page's aria-live region) say what is happening, then
// save the file. A large report, made in the background, answers with a redirect: the browser then opens its
// progress page (reports/job.html). Without this file the links are plain downloads.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.fetch || !window.URL || !URL.createObjectURL) { return; }
  if (!document.querySelector("[data-pdf-progress]")) { return; }
  // a page may hold its own status region and box (reports/index.html); otherwise they are made here
  var live = document.getElementById("pdf-status");
  if (!live) {
    live = document.createElement("p");
    live.id = "pdf-status";
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    (document.getElementById("main") || document.body).appendChild(live);
  }
  var box = document.querySelector("[data-pdf-box]");
  if (!box) {
    box = document.createElement("div");
    box.className = "pdf-progress";
    box.setAttribute("data-pdf-box", "");
    box.hidden = true;
    box.innerHTML = '<progress aria-label="Making the PDF"></progress><p class="small" data-pdf-text></p>';
    document.body.appendChild(box);
  }
  var text = box.querySelector("[data-pdf-text]");
  var busy = null;
  var timer = null;

  function filename(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) { try { return decodeURIComponent(star[1]); } catch (e) { /* fall through */ } }
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : fallback;
  }

  function place(trigger) {
    var anchor = trigger.closest("li, form, p") || trigger;
    anchor.insertAdjacentElement("afterend", box);
    box.hidden = false;
  }

  function finish(message, alert) {
    window.clearInterval(timer);
    box.querySelector("progress").hidden = true;
    text.textContent = message;
    live.textContent = message;
    if (alert) { live.setAttribute("role", "alert"); } else { live.setAttribute("role", "status"); }
    if (busy) { busy.removeAttribute("aria-busy"); busy.removeAttribute("aria-disabled"); }
    busy = null;
  }

  function start(url, trigger, label) {
    if (busy) {
      live.textContent = "A report is already being made. Please wait for it to finish.";
      return;
    }
    busy = trigger;
    trigger.setAttribute("aria-busy", "true");
    trigger.setAttribute("aria-disabled", "true");
    place(trigger);
    box.querySelector("progress").hidden = false;
    box.querySelector("progress").removeAttribute("value"); // indeterminate: the time it takes is not known
    var began = Date.now();
    var message = "Making " + label + ". The first download takes a few seconds; the file is saved when it is ready.";
    text.textContent = message;
    live.setAttribute("role", "status");
    live.textContent = message;
    timer = window.setInterval(function () {
      text.textContent = message + " (" + Math.round((Date.now() - began) / 1000) + " s)";
    }, 1000);
    fetch(url, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/pdf") === 0) {
          return response.blob().then(function (blob) {
            var name = filename(response, "report.pdf");
            var link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = name;
            link.hidden = true;
            document.body.appendChild(link);
            link.click();
            window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 60000);
            finish("Ready: " + name + " was downloaded.", false);
          });
        }
        // a large report's progress page, an expired sign-in or an error page: let the browser show it
        finish("Opening the report's page…", false);
        window.location.href = url;
        return null;
      })
      .catch(function () {
        finish("The report could not be fetched here; trying a plain download.", true);
        window.location.href = url;
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-pdf-progress]");
    if (!link || event.defaultPrevented || event.button !== 0) { return; }
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    event.preventDefault();
    start(link.href, link, "“" + link.textContent.trim() + "”");
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-pdf-progress]") || event.defaultPrevented) { return; }
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    var url = form.action + (form.action.indexOf("?") === -1 ? "?" : "&") + query;
    var select = form.querySelector("select");
    var label = select && select.selectedIndex >= 0 ? select.options[select.selectedIndex].text : "the report";
    start(url, form.querySelector("[type=submit]") || form, "the training record of " + label);
  });
});
