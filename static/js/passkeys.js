// Passkeys and security keys (WebAuthn): adding one on the account's two-factor page ([data-passkey=register],
// a form) and answering the sign-in challenge or a step-up with one ([data-passkey=authenticate]). The server
// sends the options as JSON (binary values base64url-encoded), the browser asks the authenticator, and the
// answer goes back with the page's CSRF token: in the form's hidden field when adding, else as JSON. Status
// text goes to the box's aria-live region.
(function () {
  "use strict";
  if (window.trackerPasskeys) { return; }  // both partials on one page load the script twice
  window.trackerPasskeys = true;

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = window.atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return window.btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(box, url, body) {
    var token = box.querySelector("input[name=csrf_token]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token ? token.value : ""
      },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var error = new Error(data.error || (r.status === 429
            ? "Too many attempts. Wait a few minutes, then try again."
            : "Something went wrong (" + r.status + "). Try again."));
          error.server = data;
          throw error;
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var out = { type: c.type, id: toBytes(c.id) };
      if (c.transports) { out.transports = c.transports; }
      return out;
    });
  }

  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }

  function registrationJSON(cred) {
    var response = cred.response;
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function assertionJSON(cred) {
    var response = cred.response;
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null
      },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function browserMessage(err) {
    if (err && err.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again when you are ready.";
    }
    if (err && err.name === "InvalidStateError") {
      return "That passkey or security key is already on your account.";
    }
    return (err && err.message) || "Something went wrong. Try again.";
  }

  function setup(box) {
    var status = box.querySelector("[data-passkey-status]");
    var button = box.querySelector("[data-passkey-start]");
    var nameInput = box.querySelector("input[name=passkey_name]");
    var mode = box.getAttribute("data-passkey");
    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error-text", !!isError);
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      say("This browser cannot use passkeys or security keys. Use another way, or a browser that supports them.", true);
      return;
    }
    if (/^[0-9.]+$|:/.test(window.location.hostname)) {
      button.disabled = true;
      say("Passkeys do not work when the site is opened by its IP address. Open it by its name (for example http://localhost) instead.", true);
      return;
    }
    button.hidden = false;
    button.disabled = false;
    if (mode === "register") {
      box.addEventListener("submit", function (event) {  // Enter in the name box starts the ceremony
        event.preventDefault();
        if (!button.disabled) { button.click(); }
      });
    }
    button.addEventListener("click", function () {
      var name = nameInput ? nameInput.value.trim() : "";
      if (nameInput && !name) {
        say("Give the passkey a name first, such as “Work laptop”.", true);
        nameInput.setAttribute("aria-invalid", "true");
        nameInput.focus();
        return;
      }
      if (nameInput) { nameInput.removeAttribute("aria-invalid"); }
      button.disabled = true;
      say(mode === "register" ? "Follow your browser's prompt to create the passkey…" : "Follow your browser's prompt to use your passkey…");
      post(box, box.getAttribute("data-options-url"))
        .then(function (options) {
          if (mode === "register") {
            // the answer goes back as the box's own form: the next page is the server's (the list, or the
            // recovery codes that come with a first passkey)
            return navigator.credentials.create({ publicKey: creationOptions(options) }).then(function (cred) {
              say("Checking…");
              box.querySelector("input[name=credential]").value = JSON.stringify(registrationJSON(cred));
              box.submit();
              return new Promise(function () {});
            });
          }
          return navigator.credentials.get({ publicKey: requestOptions(options) }).then(function (cred) {
            say("Checking…");
            return post(box, box.getAttribute("data-verify-url"), {
              credential: assertionJSON(cred),
              next: box.getAttribute("data-next") || ""
            });
          });
        })
        .then(function (result) {
          say("Confirmed. Opening the page…");
          window.location.assign(result.redirect);
        })
        .catch(function (err) {
          say(browserMessage(err), true);
          button.disabled = false;
          if (err && err.server && err.server.redirect) {
            window.setTimeout(function () { window.location.assign(err.server.redirect); }, 2500);
          }
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
  });
})();
