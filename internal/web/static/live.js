// Live updates: one EventSource per page on /api/v1/events for the
// products the page names, and a DOM event per change. A page opts in
// with data-live-product="BOOK" (several keys: "BOOK,EBOOK") on <body> or
// on any element, data-live-user="<id of the signed-in user>" and,
// optionally, data-live-item="story:BOOK-12". Pages decide what to do:
//
//   northstar:change  detail: the change ({id, type, product, kind, ref,
//                     action, actor, actor_id, at, fields}) plus own: true
//                     when this tab made it (the user's own write, sent
//                     from this tab a moment ago); pages skip those.
//   northstar:resync  changes were missed (a slow or reconnected stream):
//                     reload what the page shows.
//   northstar:live    detail {connected}: the stream opened or failed, so
//                     pages can poll less, or fall back to polling.
//
// window.northstarLive.connected() says whether the stream is open now.
(function () {
  "use strict";

  var root = document.querySelector("[data-live-product]");
  if (!root || !window.EventSource || window.northstarLive) return;
  var products = (root.getAttribute("data-live-product") || "").trim();
  if (!products) return;
  var me = parseInt(root.getAttribute("data-live-user") || "0", 10) || 0;
  var item = (root.getAttribute("data-live-item") || "").trim();

  // The change actions the server sends as event names (event: <action>).
  var ACTIONS = ["created", "updated", "deleted", "moved", "commented", "comment_edited", "comment_deleted",
    "stage_changed", "member_set", "member_removed", "strategy_updated", "linked", "unlinked",
    "stories_added", "story_removed", "started", "closed", "imported", "message"];

  // ---- This tab's own writes ---------------------------------------------
  // A change by the signed-in user that arrives while a write of this tab
  // is on its way, or just after one came back, is this tab's own: the
  // page already shows it. The same user's changes from another tab are
  // not, and do refresh this one.
  var OWN_WINDOW = 4000; // ms after a write's answer
  var pending = 0;
  var lastWrite = 0;

  function isWrite(method) {
    method = (method || "GET").toUpperCase();
    return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
  }
  function writeStarted() { pending++; }
  function writeEnded() { pending = Math.max(0, pending - 1); lastWrite = Date.now(); }

  if (window.fetch) {
    var fetch0 = window.fetch;
    window.fetch = function (input, init) {
      var method = (init && init.method) || (input && typeof input === "object" && input.method) || "GET";
      if (!isWrite(method)) return fetch0.apply(this, arguments);
      writeStarted();
      var p = fetch0.apply(this, arguments);
      p.then(writeEnded, writeEnded);
      return p;
    };
  }
  // htmx forms and buttons.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var cfg = e.detail && e.detail.requestConfig;
    if (cfg && isWrite(cfg.verb) && e.detail.xhr) {
      e.detail.xhr.liveWrite = true;
      writeStarted();
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.xhr && e.detail.xhr.liveWrite) {
      e.detail.xhr.liveWrite = false;
      writeEnded();
    }
  });
  // A plain form leaves the page: nothing to refresh after it anyway.

  function own(change) {
    return !!me && change.actor_id === me && (pending > 0 || Date.now() - lastWrite < OWN_WINDOW);
  }

  // ---- The stream ----------------------------------------------------------

  var url = "/api/v1/events?product=" + encodeURIComponent(products) + (item ? "&item=" + encodeURIComponent(item) : "");
  var source = null;
  var connected = false;
  var wasConnected = false;
  var seen = {}; // activity ids already dispatched (a reconnect may repeat none, but be safe)

  function emit(type, detail) {
    document.dispatchEvent(new CustomEvent(type, { detail: detail }));
  }

  function setConnected(on) {
    if (connected === on) return;
    connected = on;
    root.setAttribute("data-live", on ? "on" : "off");
    emit("northstar:live", { connected: on });
  }

  function onChange(e) {
    var change;
    try { change = JSON.parse(e.data); } catch (err) { return; }
    if (!change || typeof change !== "object") return;
    if (change.id) {
      if (seen[change.id]) return;
      seen[change.id] = true;
    }
    change.own = own(change);
    emit("northstar:change", change);
    // Someone else's change may have brought a notification: the bell
    // (collab.js) looks now rather than at its next poll.
    if (!change.own) bell();
  }

  var bellTimer = null;
  function bell() {
    var ns = window.Northstar;
    if (!ns || typeof ns.refreshBell !== "function") return;
    clearTimeout(bellTimer);
    bellTimer = setTimeout(function () { ns.refreshBell(); }, 500);
  }

  function connect() {
    source = new EventSource(url);
    source.addEventListener("ready", function () {
      setConnected(true);
      // Back after a drop: what happened meanwhile is not on the stream.
      if (wasConnected) emit("northstar:resync", { reason: "reconnected" });
      wasConnected = true;
    });
    source.addEventListener("resync", function () {
      emit("northstar:resync", { reason: "missed" });
    });
    source.addEventListener("denied", function () {
      // No longer allowed to read the product: stop for good.
      source.close();
      setConnected(false);
    });
    ACTIONS.forEach(function (a) { source.addEventListener(a, onChange); });
    source.onerror = function () {
      // EventSource retries by itself after a dropped connection; after
      // an HTTP error (signed out, no access) it gives up.
      setConnected(false);
      if (source.readyState === EventSource.CLOSED) {
        // Try again later, once: the session may come back (sign-in in
        // another tab) or the server may have restarted.
        setTimeout(function () { if (!connected && source.readyState === EventSource.CLOSED) connect(); }, 30000);
      }
    };
  }

  window.northstarLive = {
    connected: function () { return connected; },
    products: products.split(",")
  };
  // Browsers keep at most six connections per server over HTTP/1.1: let
  // the stream go with the page.
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) connect(); });
  connect();
})();
