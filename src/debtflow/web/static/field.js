// Field app: the check-in button asks the browser for its position
// (navigator.geolocation) and posts latitude, longitude and accuracy to the JSON API with
// the page's CSRF token. The server asks the compliance gate, stores the check-in with its
// distance to the debtor's address and appends it to the evidence log; the page is then
// reloaded to show it. A visit the gate refuses shows the gate's reasons, worded in the page's
// language (data-reason-words: the catalog's gate.<code> texts).
(function () {
  "use strict";

  function show(app, text) {
    var box = document.getElementById("field-message");
    if (!box) { window.alert(text); return; }
    box.textContent = text;
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }

  // the gate's reason codes in the page's language, from the server's catalog
  function reasonWords(app) {
    try { return JSON.parse(app.getAttribute("data-reason-words") || "{}"); }
    catch (error) { return {}; }
  }

  function post(app, button, position) {
    var caseId = button.getAttribute("data-case-id");
    var body = {
      latitude: position.coords.latitude,
      longitude: position.coords.longitude,
      accuracy_m: Math.max(0, Math.min(100000, Math.round(position.coords.accuracy || 0)))
    };
    fetch("/api/field/stops/" + encodeURIComponent(caseId) + "/checkin", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": app.getAttribute("data-csrf")
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          window.location.assign("/field?checked_in=" + caseId + "#stop-" + caseId);
          return;
        }
        var text = answer && answer.reasons
          ? app.getAttribute("data-msg-denied") + ": " + answer.reasons.map(function (code) {
              return reasonWords(app)[code] || code;
            }).join(", ")
          : (answer && answer.detail && answer.detail.detail) || (answer && answer.detail) || response.statusText;
        show(app, typeof text === "string" ? text : JSON.stringify(text));
        button.disabled = false;
      });
    }).catch(function (error) {
      show(app, String(error));
      button.disabled = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.field-checkin") : null;
    if (!button) { return; }
    var app = document.getElementById("field-app");
    if (!navigator.geolocation) {
      show(app, app.getAttribute("data-msg-no-geo"));
      return;
    }
    button.disabled = true;
    show(app, app.getAttribute("data-msg-locating"));
    navigator.geolocation.getCurrentPosition(
      function (position) { post(app, button, position); },
      function (error) {
        show(app, app.getAttribute("data-msg-no-geo") + " (" + error.message + ")");
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
    );
  });
})();
