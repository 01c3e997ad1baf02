// The now / next / later board: a product manager drags a feature card to
// another column (SortableJS) and the new horizon is saved at once. The
// board works without this file: every card has a plain move form.
(function () {
  "use strict";

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function toast(message, isError) { window.Northstar.toast(message, isError); }

  // postHorizon saves a feature's horizon; it resolves on success and
  // rejects with the server's message.
  function postHorizon(base, ref, horizon) {
    return fetch(base + encodeURIComponent(ref) + "/horizon", {
      method: "POST",
      credentials: "same-origin",
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ horizon: horizon }).toString()
    }).then(function (res) {
      if (res.ok) return;
      return res.text().then(function (text) {
        var plain = (res.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
        throw new Error(plain && text ? text : "The move failed (" + res.status + "). Please try again.");
      });
    });
  }

  function label(horizon) {
    return horizon ? horizon.charAt(0).toUpperCase() + horizon.slice(1) : "Not placed";
  }

  // recount updates the counters of the columns after a move.
  function recount() {
    $all(".rm-cards").forEach(function (list) {
      var box = list.closest(".rm-column, .rm-unplaced");
      var pill = box && box.querySelector("[data-count]");
      if (!pill) return;
      var n = list.querySelectorAll(".rm-card").length;
      pill.textContent = String(n);
      pill.classList.toggle("zero", n === 0);
    });
  }

  function start() {
    var board = document.querySelector(".rm-board[data-move-base]");
    if (!board || !window.Sortable || board.sortableReady) return;
    board.sortableReady = true;
    var base = board.getAttribute("data-move-base");
    board.classList.add("is-draggable");
    $all(".rm-cards[data-horizon]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "horizons",
        sort: false,
        draggable: ".rm-card",
        animation: window.Northstar.motion(120),
        ghostClass: "drag-ghost",
        chosenClass: "drag-chosen",
        onAdd: function (evt) {
          var card = evt.item, from = evt.from, oldIndex = evt.oldIndex;
          var horizon = evt.to.getAttribute("data-horizon");
          var ref = card.getAttribute("data-ref");
          var select = card.querySelector('.rm-move-form select[name="horizon"]');
          if (select) select.value = horizon;
          recount();
          postHorizon(base, ref, horizon).then(function () {
            card.classList.remove("moved");
            void card.offsetWidth; // restart the highlight
            card.classList.add("moved");
            toast(ref + " moved to " + label(horizon).toLowerCase() + ".");
          }).catch(function (err) {
            // Put the card back where the server still has it.
            var before = from.children[oldIndex] || null;
            from.insertBefore(card, before);
            if (select) select.value = from.getAttribute("data-horizon");
            recount();
            toast(err.message, true);
          });
        }
      });
    });
  }

  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
})();
