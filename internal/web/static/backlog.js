// The backlog and story panel: drag and drop (SortableJS), move buttons
// without a reload, the side panel, keyboard shortcuts and the live
// preview of the story sentence, and live updates: other people's changes
// (live.js) refresh the rows. Every action also works without this file:
// the rows' move buttons and all panel forms are plain forms.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function list() { return document.getElementById("backlog-list"); }
  function rows() { var l = list(); return l ? $all(".story-row", l) : []; }

  // ---- Messages ---------------------------------------------------------

  function toast(message, isError) { window.Northstar.toast(message, isError); }

  // ---- Ordering ---------------------------------------------------------

  function siblingRow(row, dir) {
    var el = dir < 0 ? row.previousElementSibling : row.nextElementSibling;
    while (el && !el.classList.contains("story-row")) {
      el = dir < 0 ? el.previousElementSibling : el.nextElementSibling;
    }
    return el;
  }

  // postMove sends a move; it resolves on success and rejects with the
  // server's message.
  var movesInFlight = 0; // moves on their way to the server
  var moveCount = 0;     // moves made on this page so far

  function postMove(ref, data) {
    var l = list();
    var base = l ? l.getAttribute("data-move-base") : null;
    if (!base) return Promise.reject(new Error("This page cannot move stories."));
    movesInFlight++;
    moveCount++;
    var settle = function () { movesInFlight--; };
    return fetch(base + encodeURIComponent(ref) + "/move", {
      method: "POST",
      credentials: "same-origin",
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data).toString()
    }).then(function (res) {
      if (res.ok) return;
      return res.text().then(function (text) {
        var plain = (res.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
        throw new Error(plain && text ? text : "The move failed (" + res.status + "). Please try again.");
      });
    }).then(function (v) { settle(); return v; }, function (err) { settle(); throw err; });
  }

  // reloadList fetches the list again, after a failed move left the page
  // showing an order the server does not have.
  function reloadList() {
    var form = $(".backlog-filters");
    if (form && window.htmx) {
      window.htmx.trigger(form, "submit");
    } else {
      window.location.reload();
    }
  }

  function refreshMoreFlag() {
    var l = list();
    if (l) l.classList.toggle("has-more", !!$("#load-more a"));
  }

  var dragging = false; // a row is in the air

  function initSortable() {
    var l = list();
    if (!l || !window.Sortable || l.getAttribute("data-sortable") !== "true" || l.sortableReady) return;
    l.sortableReady = true;
    window.Sortable.create(l, {
      handle: ".drag-handle",
      draggable: ".story-row",
      animation: window.Northstar.motion(120),
      ghostClass: "drag-ghost",
      chosenClass: "drag-chosen",
      dragClass: "drag-dragging",
      onStart: function () { dragging = true; },
      onEnd: function (evt) {
        dragging = false;
        if (evt.oldIndex === evt.newIndex) return;
        var row = evt.item;
        var prev = siblingRow(row, -1), next = siblingRow(row, 1);
        var data = prev ? { after: prev.getAttribute("data-ref") } : next ? { before: next.getAttribute("data-ref") } : null;
        if (!data) return;
        select(row, false);
        postMove(row.getAttribute("data-ref"), data).catch(function (err) {
          toast(err.message, true);
          reloadList();
        });
      }
    });
  }

  // The move buttons: the same forms a browser without JavaScript posts,
  // sent with fetch, with the neighbours as the page shows them now.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("move-form")) return;
    var row = form.closest(".story-row");
    if (!row || !list()) return;
    e.preventDefault();
    var how = form.getAttribute("data-move"), data, apply;
    var prev = siblingRow(row, -1), next = siblingRow(row, 1);
    if (how === "top") {
      data = { position: "top" };
      apply = function () { list().insertBefore(row, list().firstElementChild); };
    } else if (how === "up") {
      if (!prev) return;
      data = { before: prev.getAttribute("data-ref") };
      apply = function () { prev.before(row); };
    } else {
      var after = next ? next.getAttribute("data-ref") : (form.elements.after && form.elements.after.value);
      if (!after) return;
      data = { after: after };
      // Moved below the rows loaded so far: it shows up again with "load more".
      apply = next ? function () { next.after(row); } : function () { row.remove(); };
    }
    var button = form.querySelector("button");
    postMove(row.getAttribute("data-ref"), data).then(function () {
      apply();
      select(row, false);
      row.classList.remove("moved");
      void row.offsetWidth; // restart the highlight
      row.classList.add("moved");
      // Keep the keyboard where it was: on the same button of the moved row.
      var again = row.querySelector('.move-form[data-move="' + how + '"] button');
      if (again && button === document.activeElement) again.focus();
      else if (again && document.activeElement === document.body) again.focus();
      if (how === "top") toast(row.getAttribute("data-ref") + " moved to the top.");
    }).catch(function (err) { toast(err.message, true); });
  });

  // ---- Selection and the side panel -------------------------------------

  function selected() { return $(".story-row.selected"); }

  function select(row, scroll) {
    rows().forEach(function (r) { if (r !== row) r.classList.remove("selected"); });
    if (!row) return;
    row.classList.add("selected");
    if (scroll !== false) row.scrollIntoView({ block: "nearest" });
  }

  function step(dir) {
    var all = rows();
    if (!all.length) return;
    var cur = selected();
    var i = cur ? all.indexOf(cur) + dir : (dir > 0 ? 0 : all.length - 1);
    var row = all[Math.max(0, Math.min(all.length - 1, i))];
    select(row);
    // Focus follows the selection, so Enter opens it like a click.
    var link = $(".row-title", row);
    if (link) link.focus({ preventScroll: true });
  }

  function panel() { return document.getElementById("story-panel"); }

  function openPanel() {
    var p = panel();
    if (!p) return;
    p.classList.add("open");
    document.body.classList.add("panel-open");
    var detail = $("#story-detail", p);
    var ref = detail && detail.getAttribute("data-ref");
    rows().forEach(function (r) { r.classList.toggle("active", r.getAttribute("data-ref") === ref); });
    var row = ref && document.getElementById("story-" + ref);
    if (row) select(row);
  }

  function closePanel() {
    var p = panel();
    if (!p || !p.classList.contains("open")) return false;
    p.classList.remove("open");
    document.body.classList.remove("panel-open");
    var body = document.getElementById("story-panel-body");
    if (body) body.innerHTML = "";
    var active = $(".story-row.active");
    rows().forEach(function (r) { r.classList.remove("active"); });
    if (active) {
      var link = $(".row-title", active);
      if (link) link.focus({ preventScroll: true });
    }
    return true;
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    if (t.closest("[data-close-panel]")) { closePanel(); return; }
    if (t.closest("[data-open-shortcuts]")) { openShortcuts(); return; }
    var row = t.closest(".story-row");
    if (row) select(row, false);
  });

  // ---- htmx hooks -------------------------------------------------------

  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target) return;
    if (target.id === "story-panel-body") openPanel();
    var deleted = $("#story-detail[data-deleted]");
    if (deleted) {
      var ref = deleted.getAttribute("data-deleted");
      if (deleted.closest("#story-panel")) closePanel();
      toast(ref + " deleted.");
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    // "Load more" can bring back a story that the bottom quick-add put at
    // the end of the loaded rows: keep the one in its real place.
    var seen = {};
    rows().reverse().forEach(function (r) {
      var ref = r.getAttribute("data-ref");
      if (seen[ref]) r.remove(); else seen[ref] = true;
    });
    refreshMoreFlag();
    var active = $("#story-panel.open #story-detail");
    if (active) {
      var ref = active.getAttribute("data-ref");
      rows().forEach(function (r) { r.classList.toggle("active", r.getAttribute("data-ref") === ref); });
    }
  });

  // A filtered backlog's URL names only the filters in use.
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || !elt.classList || !elt.classList.contains("backlog-filters")) return;
    var params = e.detail.parameters;
    Object.keys(params).forEach(function (k) { if (params[k] === "") delete params[k]; });
  });

  // A quick-add that worked empties its input for the next story.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (!form || !form.classList || !form.classList.contains("quick-add")) return;
    if (e.detail.successful && e.detail.xhr && e.detail.xhr.status < 300) {
      var err = $(".quick-add-error", form);
      if (err) err.innerHTML = "";
      form.reset();
      var input = $(".quick-add-input", form);
      if (input) input.focus();
    }
  });

  // A failed request that htmx does not swap (a server error, the network).
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status >= 500) toast("Something went wrong on the server (" + xhr.status + "). Please try again.", true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check the connection and try again.", true);
  });

  // ---- The story sentence ------------------------------------------------

  // sentence mirrors Story.Sentence in story.go, for a live preview.
  function withArticle(p) {
    var lower = p.toLowerCase();
    var articles = ["a ", "an ", "the ", "my ", "our "];
    for (var i = 0; i < articles.length; i++) {
      if (lower.indexOf(articles[i]) === 0) return p;
    }
    var c = p.charAt(0);
    if (c >= "A" && c <= "Z") return p;
    return ("aeiou".indexOf(lower.charAt(0)) >= 0 ? "an " : "a ") + p;
  }

  function sentence(persona, want, benefit) {
    persona = persona.trim(); want = want.trim(); benefit = benefit.trim();
    if (!persona && !want && !benefit) return "";
    var b = "";
    if (persona) b += "As " + withArticle(persona) + ", ";
    if (want) b += "I want " + want.replace(/\.$/, "");
    if (benefit) {
      if (b) b += " ";
      b += "so that " + benefit.replace(/\.$/, "");
    }
    b = b.trim().replace(/,$/, "");
    return b.charAt(0).toUpperCase() + b.slice(1) + ".";
  }

  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("[data-sentence-form]");
    if (!form) return;
    var preview = document.getElementById("sentence-preview");
    if (!preview) return;
    var s = sentence(form.elements.persona.value, form.elements.want.value, form.elements.benefit.value);
    preview.textContent = s || preview.getAttribute("data-empty");
    preview.classList.toggle("empty", !s);
  });

  // The title wraps like a heading but saves on Enter like a one-line field.
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || !el.hasAttribute || !el.hasAttribute("data-enter-submits")) return;
    e.preventDefault();
    swallowNextChar("Enter");
    // Saved now: leaving the field must not save it a second time.
    el.removeAttribute("data-autosubmit");
    if (el.form) el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
  });

  // ---- Keyboard shortcuts -------------------------------------------------

  function openShortcuts() {
    var d = document.getElementById("shortcuts-dialog");
    if (d && !d.open && d.showModal) d.showModal();
  }

  // A shortcut that moves the focus into a field must not also type its
  // own letter there. Cancelling keydown is enough for a keyboard; tools
  // that send the keypress on its own (remote desktops, test drivers) are
  // held back here.
  function swallowNextChar(key) {
    function onPress(ev) { if (ev.key === key) { ev.preventDefault(); done(); } }
    function onUp(ev) { if (ev.key === key) done(); }
    function done() {
      document.removeEventListener("keypress", onPress, true);
      document.removeEventListener("keyup", onUp, true);
    }
    document.addEventListener("keypress", onPress, true);
    document.addEventListener("keyup", onUp, true);
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var el = e.target;
    if (typing(el)) {
      if (e.key === "Escape" && (el.classList.contains("quick-add-input") || el.id === "backlog-q")) el.blur();
      return;
    }
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && dialog.open) return; // the dialog handles its own keys
    switch (e.key) {
      case "c":
        var add = document.getElementById("quick-add-top-input");
        if (add) { e.preventDefault(); swallowNextChar("c"); add.focus(); }
        break;
      case "/":
        var q = document.getElementById("backlog-q");
        if (q) { e.preventDefault(); swallowNextChar("/"); q.focus(); q.select(); }
        break;
      case "j":
        if (list()) { e.preventDefault(); step(1); }
        break;
      case "k":
        if (list()) { e.preventDefault(); step(-1); }
        break;
      case "Enter":
        // A focused link or button keeps its own Enter.
        if (el !== document.body && el !== document.documentElement) return;
        var row = selected();
        var link = row && $(".row-title", row);
        if (link) { e.preventDefault(); link.click(); }
        break;
      case "?":
        if (document.getElementById("shortcuts-dialog")) { e.preventDefault(); openShortcuts(); }
        break;
      case "Escape":
        if (closePanel()) e.preventDefault();
        break;
    }
  });

  // ---- Live updates ---------------------------------------------------------
  //
  // live.js reports other people's changes. The rows loaded so far (the
  // first page and those "load more" added) are fetched again with the
  // page's filters and swapped in at once, keeping the scroll position,
  // the selection, the focus and the side panel. A refresh waits while a
  // row is being dragged or moved and is dropped if a move was made while
  // it was on its way; the page's own changes do not trigger one.

  var liveTimer = null;
  var liveBusy = false;
  var liveAgain = false;
  var liveHidden = false;
  var liveChanged = {}; // refs others changed since the last refresh

  function scheduleLive(ms) {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(liveRefresh, ms);
  }

  function liveBlocked() {
    if (dragging || movesInFlight > 0 || document.querySelector(".drag-chosen")) return true;
    // A filter or "load more" on its way brings the list anyway.
    return !!document.querySelector(".backlog-filters.htmx-request, #load-more .htmx-request, #backlog-results.htmx-request");
  }

  function parseHTML(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  // fragment fetches a part of the backlog page as htmx would.
  function fragment(url, target) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true", "HX-Target": target } })
      .then(function (res) {
        if (!res.ok || res.redirected) throw new Error("backlog: " + res.status);
        return res.text();
      });
  }

  // loadRest adds the pages after the first to a fresh list until it has
  // as many rows as the page showed.
  function loadRest(results, shown) {
    var newList = results.querySelector("#backlog-list");
    var more = results.querySelector("#load-more a");
    if (!newList || !more || $all(".story-row", newList).length >= shown) return Promise.resolve(results);
    return fragment(more.getAttribute("href"), "load-more").then(function (html) {
      var part = parseHTML(html);
      var ol = part.querySelector("ol");
      if (ol) $all(".story-row", ol).forEach(function (r) { newList.appendChild(r); });
      var next = part.querySelector("#load-more"), old = results.querySelector("#load-more");
      if (next && old) old.replaceWith(next);
      return loadRest(results, shown);
    });
  }

  function liveRefresh() {
    if (!list()) return;
    if (document.visibilityState === "hidden") { liveHidden = true; return; }
    if (liveBusy) { liveAgain = true; return; }
    if (liveBlocked()) { scheduleLive(800); return; }
    liveBusy = true;
    liveAgain = false;
    var moves = moveCount;
    var shown = rows().length;
    fragment(window.location.pathname + window.location.search, "backlog-results").then(function (html) {
      var results = parseHTML(html).querySelector("#backlog-results");
      if (!results) throw new Error("backlog: no list in the answer");
      return loadRest(results, shown);
    }).then(function (results) {
      liveBusy = false;
      // A move since the fetch began, or a new change: fetch again.
      if (moves !== moveCount || liveAgain || liveBlocked()) { scheduleLive(300); return; }
      swapResults(results);
    }).catch(function () {
      liveBusy = false; // the page stays as it is; the next change tries again
    });
  }

  function swapResults(fresh) {
    var old = document.getElementById("backlog-results");
    if (!old) return;
    var x = window.scrollX, y = window.scrollY;
    var sel = selected(), selRef = sel && sel.getAttribute("data-ref");
    // Where the keyboard was: a row's title or one of its move buttons.
    var a = document.activeElement, focusRef = null, focusSel = null;
    if (a && old.contains(a) && a.closest) {
      var row = a.closest(".story-row");
      var form = a.closest(".move-form");
      if (row) {
        focusRef = row.getAttribute("data-ref");
        focusSel = form ? '.move-form[data-move="' + form.getAttribute("data-move") + '"] button' : ".row-title";
      }
    }
    var node = document.importNode(fresh, true);
    old.replaceWith(node);
    if (window.htmx) window.htmx.process(node);
    initSortable();
    refreshMoreFlag();
    var active = $("#story-panel.open #story-detail");
    var activeRef = active && active.getAttribute("data-ref");
    rows().forEach(function (r) {
      var ref = r.getAttribute("data-ref");
      if (ref === selRef) r.classList.add("selected");
      if (ref === activeRef) r.classList.add("active");
      if (liveChanged[ref]) r.classList.add("moved"); // the highlight of a changed row
    });
    liveChanged = {};
    if (focusRef) {
      var again = document.getElementById("story-" + focusRef);
      var target = again && again.querySelector(focusSel);
      if (target) target.focus({ preventScroll: true });
    }
    window.scrollTo(x, y);
  }

  // The story open in the side panel is not swapped under the person,
  // who may be editing it: they are told, and a save that clashes shows
  // both versions (the conflict box) as it always does.
  function livePanel(change) {
    var detail = $("#story-panel.open #story-detail");
    if (!detail || detail.getAttribute("data-ref") !== change.ref) return;
    var who = change.actor || "Someone";
    toast(change.action === "deleted" ? who + " deleted " + change.ref + "." : who + " just changed " + change.ref + ".", change.action === "deleted");
  }

  document.addEventListener("northstar:change", function (e) {
    var change = e.detail;
    if (!change || change.own || change.kind !== "story" || !list()) return;
    liveChanged[change.ref] = true;
    livePanel(change);
    scheduleLive(250);
  });
  document.addEventListener("northstar:resync", function () { scheduleLive(250); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && liveHidden) {
      liveHidden = false;
      scheduleLive(50);
    }
  });

  // ---- Start ----------------------------------------------------------------

  function start() {
    $all("[data-open-shortcuts]").forEach(function (b) { b.hidden = false; });
    initSortable();
    refreshMoreFlag();
  }
  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
  // The list is new after a filter or going back: make it sortable again.
  document.addEventListener("htmx:load", function () { initSortable(); });
  document.addEventListener("htmx:historyRestore", function () {
    // The page htmx kept for the back button may hold an open panel.
    var p = panel();
    if (p) p.classList.remove("open");
    var body = document.getElementById("story-panel-body");
    if (body) body.innerHTML = "";
    document.body.classList.remove("panel-open");
    rows().forEach(function (r) { r.classList.remove("active", "selected"); });
    initSortable();
    refreshMoreFlag();
  });
})();
