// Planning poker: keeps a round's page current. It reloads the round's
// fragment when a live change names the round (live.js, the board's
// channel) and otherwise every two seconds, swapping it in only when the
// round's version moved. Votes are sent without leaving the page; every
// form still works without JavaScript.
(function () {
  "use strict";

  var POLL_MS = 2000;

  function round() { return document.getElementById("poker-round"); }
  if (!round() || !window.fetch) return;

  var busy = false;
  function refresh(force) {
    var el = round();
    if (!el || busy) return;
    busy = true;
    fetch(el.getAttribute("data-fragment"), { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        busy = false;
        if (!html) return;
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var next = tmp.querySelector("#poker-round");
        var cur = round();
        if (!next || !cur) return;
        if (!force && next.getAttribute("data-version") === cur.getAttribute("data-version")) return;
        var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[id^='poker-']");
        cur.replaceWith(next);
        if (focused && focused.id) {
          var again = document.getElementById(focused.id);
          var btn = again && again.querySelector(".est-card.is-mine, button");
          if (btn) btn.focus({ preventScroll: true });
        }
      })
      .catch(function () { busy = false; });
  }

  // A vote is sent in the background and the round redrawn.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.closest || !form.closest("#poker-round") || !form.classList.contains("est-cards")) return;
    var btn = e.submitter;
    if (!btn || !btn.name) return;
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.set(btn.name, btn.value);
    // getAttribute: the form has a field named "action", which form.action would return.
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin", headers: { "Content-Type": "application/x-www-form-urlencoded" } })
      .then(function () { refresh(true); });
  });

  document.addEventListener("northstar:change", function (e) {
    var c = e.detail || {};
    var el = round();
    if (el && c.kind === "poker" && String(c.ref) === el.getAttribute("data-round")) refresh(false);
  });
  document.addEventListener("northstar:resync", function () { refresh(false); });

  setInterval(function () {
    if (document.visibilityState === "visible") refresh(false);
  }, POLL_MS);
})();
