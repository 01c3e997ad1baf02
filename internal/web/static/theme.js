// Runs before the page paints, so a dark-theme user never sees a white flash.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("northstar-theme"); } catch (e) {}
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
