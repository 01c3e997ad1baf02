// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Northstar.toast shows a short message at the bottom of the page (an
  // error stays longer); the pages' scripts use it for what a drag or a
  // quick edit did.
  var toastTimer;
  window.Northstar = window.Northstar || {};
  window.Northstar.toast = function (message, isError) {
    var t = document.getElementById("toast");
    if (!t) {
      t = document.createElement("div");
      t.id = "toast";
      t.className = "toast";
      t.setAttribute("role", "status");
      document.body.appendChild(t);
    }
    t.textContent = message;
    t.classList.toggle("toast-error", !!isError);
    t.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.classList.remove("show"); }, isError ? 6000 : 2500);
  };

  // Northstar.motion is how long a drag-and-drop list animates, in ms:
  // none for people who ask their system for reduced motion.
  window.Northstar.motion = function (ms) {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? 0 : ms;
  };

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  onReady(function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
        document.documentElement.setAttribute("data-theme", next);
        try { localStorage.setItem("northstar-theme", next); } catch (e) {}
      });
    }
  });

  // Forms with data-confirm ask before they submit.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);

  // Selects with data-autosubmit save as soon as they change.
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-autosubmit") && e.target.form) {
      e.target.form.requestSubmit ? e.target.form.requestSubmit() : e.target.form.submit();
    }
  });

  // Buttons with data-copy copy the value of the element they name.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var input = document.querySelector(btn.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    if (navigator.clipboard) navigator.clipboard.writeText(input.value);
    btn.textContent = "Copied";
  });
})();
