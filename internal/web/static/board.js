// The Scrum pages' drag and drop (SortableJS) and the board's live
// columns. Every action also works without this file: each card has a
// form to move it to a column, and planning has Add and Remove buttons.
//
// The board: a card dragged to another place posts the move and the
// columns are fetched again. htmx polls the columns every few seconds
// (hx-trigger="every 5s" on #board-columns) so that other people's moves
// show up; a poll waits while a card is being dragged, a move is on its
// way or a card's menu is open, and an answer that started before the
// last move is dropped, so that it never undoes what the person just did.
// With live updates (live.js) other people's changes fetch the columns at
// once, through the same checks, and the poll only runs once a minute, as
// a safety net; if the stream cannot open, the poll stays at 5 seconds.
//
// Planning: stories are dragged between the backlog and the sprint;
// dropping one posts Add or Remove and htmx swaps the planning body.
(function () {
  "use strict";

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function toast(message, isError) { window.Northstar.toast(message, isError); }

  // post sends a form with fetch as htmx would; it resolves on success and
  // rejects with the server's message.
  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data).toString()
    }).then(function (res) {
      if (res.ok) return;
      return res.text().then(function (text) {
        var plain = (res.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
        throw new Error(plain && text ? text : "That did not work (" + res.status + "). Please try again.");
      });
    }, function () {
      throw new Error("The server could not be reached. Check the connection and try again.");
    });
  }

  // ---- The board ------------------------------------------------------------

  function board() { return document.getElementById("board-columns"); }

  var dragging = false; // a card is in the air
  var moving = 0;       // moves on their way to the server
  var moves = 0;        // moves made on this page so far
  var wantRefresh = false;

  // boardText is what a board shows, for telling whether a poll brought
  // anything new: columns, cards in order, their texts and counts.
  function boardText(b) { return b.textContent.replace(/\s+/g, " ").trim(); }

  // busy says whether a poll must wait: swapping the columns now would
  // take a card from under the mouse, or close what the person opened.
  function busy(b) {
    if (dragging || moving > 0 || document.visibilityState === "hidden") return true;
    if (b.querySelector(".bcard-menu[open]")) return true;
    var a = document.activeElement;
    return !!(a && b.contains(a) && (a.tagName === "SELECT" || a.tagName === "INPUT"));
  }

  // refresh fetches the columns now (after a move), through htmx so that
  // the same checks apply.
  function refresh() {
    var b = board();
    if (!b || !window.htmx) return;
    if (b.classList.contains("htmx-request")) { wantRefresh = true; return; }
    window.htmx.trigger(b, "board-refresh");
  }

  function cardSibling(card, dir) {
    var el = dir < 0 ? card.previousElementSibling : card.nextElementSibling;
    while (el && !el.classList.contains("bcard")) el = dir < 0 ? el.previousElementSibling : el.nextElementSibling;
    return el;
  }

  function moveCard(b, ref, data) {
    moving++;
    moves++;
    return post(b.getAttribute("data-move-base") + encodeURIComponent(ref) + "/move", data)
      .then(function () { moving--; refresh(); },
        function (err) { moving--; toast(err.message, true); refresh(); });
  }

  function initBoard() {
    var b = board();
    if (!b || b.boardReady) return;
    b.boardReady = true;
    if (!window.Sortable || b.getAttribute("data-movable") !== "true") return;
    $all(".board-cards", b).forEach(function (list) {
      window.Sortable.create(list, {
        group: "lane:" + (list.getAttribute("data-lane") || ""),
        draggable: ".bcard",
        filter: ".locked, .bcard-menu",
        preventOnFilter: false,
        animation: window.Northstar.motion(140),
        delayOnTouchOnly: true,
        delay: 180,
        ghostClass: "drag-ghost",
        chosenClass: "drag-chosen",
        dragClass: "drag-dragging",
        onStart: function () {
          dragging = true;
          b.classList.add("is-dragging");
        },
        onMove: function (evt) {
          $all(".drop-hover", b).forEach(function (l) { if (l !== evt.to) l.classList.remove("drop-hover"); });
          evt.to.classList.add("drop-hover");
        },
        onEnd: function (evt) {
          dragging = false;
          b.classList.remove("is-dragging");
          $all(".drop-hover", b).forEach(function (l) { l.classList.remove("drop-hover"); });
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
          var card = evt.item;
          var prev = cardSibling(card, -1), next = cardSibling(card, 1);
          var data = { column: evt.to.getAttribute("data-column") };
          if (prev) data.after = prev.getAttribute("data-ref");
          else if (next) data.before = next.getAttribute("data-ref");
          card.classList.add("just-moved");
          moveCard(b, card.getAttribute("data-ref"), data);
        }
      });
    });
  }

  // A card's move form, sent without leaving the page.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("bcard-move")) return;
    var b = board(), card = form.closest(".bcard");
    if (!b || !card) return;
    e.preventDefault();
    var details = form.closest("details");
    if (details) details.open = false;
    moveCard(b, card.getAttribute("data-ref"), { column: form.elements.column.value }).then(function () {
      toast(card.getAttribute("data-ref") + " moved.");
    });
  });

  // Only one card menu open at a time; a click elsewhere closes it.
  document.addEventListener("click", function (e) {
    $all(".bcard-menu[open]").forEach(function (d) { if (!d.contains(e.target)) d.open = false; });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    $all(".bcard-menu[open]").forEach(function (d) {
      d.open = false;
      var s = d.querySelector("summary");
      if (s) s.focus();
    });
  });

  var lastFetch = Date.now(); // of the columns
  var LIVE_POLL = 60000;       // the poll's period while the stream is open

  function liveOn() { return !!(window.northstarLive && window.northstarLive.connected()); }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || elt.id !== "board-columns") return;
    if (busy(elt)) { e.preventDefault(); return; }
    // The timed poll (no triggering event) is not needed while changes
    // arrive live.
    var cfg = e.detail.requestConfig;
    var trigger = cfg && cfg.triggeringEvent;
    if (!trigger && liveOn() && Date.now() - lastFetch < LIVE_POLL) { e.preventDefault(); return; }
    lastFetch = Date.now();
    if (e.detail.xhr) e.detail.xhr.boardMoves = moves;
  });

  // ---- Live updates -----------------------------------------------------------

  var liveTimer = null;

  // liveRefresh fetches the columns soon: at once if nothing is in the
  // way, or once the card in the air has landed or the menu has closed.
  function liveRefresh(delay) {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () {
      var b = board();
      if (!b || document.visibilityState === "hidden") return; // caught up on return
      if (busy(b)) { liveRefresh(700); return; }
      refresh();
    }, delay);
  }

  document.addEventListener("northstar:change", function (e) {
    var change = e.detail;
    if (!change || change.own) return;
    if (change.kind !== "story" && change.kind !== "sprint" && change.kind !== "team") return;
    if (!board()) {
      // No active sprint on show: one that starts brings the board.
      if (change.kind === "sprint" && change.action === "started") window.location.reload();
      return;
    }
    liveRefresh(150);
  });
  document.addEventListener("northstar:resync", function () { liveRefresh(150); });
  document.addEventListener("visibilitychange", function () {
    // A hidden page skips its refreshes (see busy): catch up on return.
    if (document.visibilityState === "visible" && liveOn()) liveRefresh(50);
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target || target.id !== "board-columns") return;
    var xhr = e.detail.xhr;
    // Only the columns themselves: not an error page, nor the login page
    // after the session ended.
    if (!xhr || xhr.status !== 200 || xhr.responseText.indexOf('id="board-columns"') < 0) { e.detail.shouldSwap = false; return; }
    // Started before the last move, or a card is in the air: the next
    // poll brings the board as it is then.
    if (dragging || moving > 0 || xhr.boardMoves !== moves) {
      e.detail.shouldSwap = false;
      wantRefresh = true;
      return;
    }
    // Unchanged (the usual poll, and the first one after the page loaded):
    // keep the columns the person may be about to grab.
    var next = document.createElement("template");
    next.innerHTML = xhr.responseText;
    var fresh = next.content.getElementById("board-columns");
    if (fresh && boardText(fresh) === boardText(target)) e.detail.shouldSwap = false;
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || elt.id !== "board-columns" || !wantRefresh) return;
    wantRefresh = false;
    setTimeout(refresh, 60);
  });

  // ---- Planning -------------------------------------------------------------

  function planBody() { return document.getElementById("plan-body"); }

  function planPost(url, values) {
    var body = planBody();
    if (!body || !window.htmx) { window.location.reload(); return; }
    body.classList.add("is-busy");
    window.htmx.ajax("POST", url, { target: "#plan-body", swap: "outerHTML", values: values }).catch(function () {
      toast("The server could not be reached. Check the connection and try again.", true);
      window.location.reload();
    });
  }

  function initPlan() {
    var body = planBody();
    if (!body || body.planReady || !window.Sortable || body.getAttribute("data-editable") !== "true") return;
    body.planReady = true;
    var sprintID = body.getAttribute("data-sprint");
    var sprintList = document.getElementById("plan-sprint");
    if (!sprintList) return;
    var common = {
      draggable: ".plan-row",
      filter: "form, button, a",
      preventOnFilter: false,
      sort: false,
      animation: window.Northstar.motion(140),
      delayOnTouchOnly: true,
      delay: 180,
      ghostClass: "drag-ghost",
      chosenClass: "drag-chosen"
    };
    function opts(extra) {
      var o = {};
      Object.keys(common).forEach(function (k) { o[k] = common[k]; });
      Object.keys(extra).forEach(function (k) { o[k] = extra[k]; });
      return o;
    }
    window.Sortable.create(sprintList, opts({
      group: { name: "plan", pull: true, put: true },
      onAdd: function (evt) {
        planPost("/sprints/" + sprintID + "/stories", { ref: evt.item.getAttribute("data-ref") });
      }
    }));
    $all('.plan-list[data-list="backlog"]', body).forEach(function (list) {
      window.Sortable.create(list, opts({
        // A sprint's story goes back to its own product's backlog only.
        group: {
          name: "plan", pull: true,
          put: function (to, from, dragEl) {
            return from.el === sprintList && dragEl.getAttribute("data-product") === to.el.getAttribute("data-product");
          }
        },
        onAdd: function (evt) {
          planPost("/sprints/" + sprintID + "/stories/" + encodeURIComponent(evt.item.getAttribute("data-ref")) + "/remove", {});
        }
      }));
    });
  }

  // ---- Start --------------------------------------------------------------

  function start() {
    initBoard();
    initPlan();
  }
  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
  // New columns after a poll, a new planning body after a change.
  document.addEventListener("htmx:load", start);
})();
