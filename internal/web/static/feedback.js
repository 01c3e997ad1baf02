// The feedback page: link by highlight. Selecting words in the feedback's
// text quotes them in the "Link an insight" form (a hidden passage
// field), and the passages already linked are marked in the text. Without
// this file the form has a textarea to paste the passage into.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  function squash(s) { return s.replace(/\s+/g, " ").trim(); }

  onReady(function () {
    var text = document.getElementById("feedback-text");
    var form = document.getElementById("link-form");
    markInsights(text);
    if (!text || !form || text.getAttribute("data-selectable") !== "true") return;

    var field = document.getElementById("passage-field");
    var preview = document.getElementById("passage-preview");
    var quote = document.getElementById("passage-quote");
    var empty = document.getElementById("passage-empty");
    var clear = document.getElementById("passage-clear");
    var fallback = document.getElementById("passage-fallback");
    var fallbackText = document.getElementById("passage-text");
    var feature = document.getElementById("link-feature");
    var newIdea = document.getElementById("new-idea-field");
    var hint = document.getElementById("select-hint");

    // With this script the passage comes from the selection; a passage
    // typed into the fallback before (a form sent back with an error)
    // moves into the quote.
    if (fallbackText && fallbackText.value && !field.value) field.value = fallbackText.value;
    if (fallbackText) fallbackText.value = "";
    fallback.hidden = true;
    preview.hidden = false;
    text.classList.add("is-selectable");
    if (hint) hint.classList.add("is-live");

    function show(passage) {
      field.value = passage;
      quote.textContent = passage;
      quote.hidden = !passage;
      clear.hidden = !passage;
      empty.hidden = !!passage;
      preview.classList.toggle("has-passage", !!passage);
    }
    show(field.value);

    // The selection counts when it lies within the text.
    function selected() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return "";
      var range = sel.getRangeAt(0);
      if (!text.contains(range.commonAncestorContainer)) return "";
      return squash(sel.toString());
    }

    var floating = document.createElement("button");
    floating.type = "button";
    floating.className = "button primary small link-floating";
    floating.textContent = "Link this passage";
    floating.hidden = true;
    document.body.appendChild(floating);

    function place() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0) return;
      var rect = sel.getRangeAt(0).getBoundingClientRect();
      floating.style.top = (window.scrollY + rect.bottom + 8) + "px";
      floating.style.left = Math.max(8, Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - 170)) + "px";
    }

    document.addEventListener("selectionchange", function () {
      var passage = selected();
      if (passage) {
        show(passage.slice(0, 2000));
        floating.hidden = false;
        place();
      } else {
        floating.hidden = true;
      }
    });
    window.addEventListener("resize", function () { if (!floating.hidden) place(); });

    floating.addEventListener("mousedown", function (e) { e.preventDefault(); });
    floating.addEventListener("click", function () {
      floating.hidden = true;
      form.scrollIntoView({ behavior: "smooth", block: "center" });
      var target = (feature && feature.value === "" && document.getElementById("link-new-idea")) || feature;
      if (target) target.focus({ preventScroll: true });
    });

    clear.addEventListener("click", function () {
      show("");
      var sel = window.getSelection();
      if (sel) sel.removeAllRanges();
    });

    // A chosen idea needs no new title.
    function toggleNewIdea() {
      if (!newIdea || !feature) return;
      newIdea.hidden = feature.value !== "";
      var input = newIdea.querySelector("input");
      if (input) input.disabled = feature.value !== "";
    }
    if (feature) feature.addEventListener("change", toggleNewIdea);
    toggleNewIdea();
  });

  // markInsights marks the passages already linked in the text: each
  // insight of the list carries its passage; its words are found in the
  // rendered text (Markdown marks and spacing aside) and wrapped in <mark>.
  function markInsights(text) {
    if (!text) return;
    var items = document.querySelectorAll(".insight[data-passage]");
    Array.prototype.forEach.call(items, function (item) {
      var passage = squash((item.getAttribute("data-passage") || "").replace(/\*\*|__|[*_`]/g, ""));
      if (!passage) return;
      var flat = flatten(text);
      var at = flat.text.indexOf(passage);
      if (at < 0) return;
      // Wrap each text node's part of the passage, last first so that the
      // offsets still hold.
      var parts = [];
      for (var k = at; k < at + passage.length; k++) {
        var m = flat.map[k];
        var p = parts[parts.length - 1];
        if (p && p.node === m[0]) p.to = m[1] + 1; else parts.push({ node: m[0], from: m[1], to: m[1] + 1 });
      }
      for (var j = parts.length - 1; j >= 0; j--) {
        var part = parts[j];
        var range = document.createRange();
        range.setStart(part.node, part.from);
        range.setEnd(part.node, part.to);
        var mark = document.createElement("mark");
        mark.className = "insight-mark";
        mark.title = "Linked to " + (item.getAttribute("data-feature") || "an idea");
        range.surroundContents(mark);
      }
    });
  }

  // flatten returns an element's text with spaces squashed, and for each
  // character its text node and offset.
  function flatten(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var chars = [], map = [], node, lastSpace = true;
    while ((node = walker.nextNode())) {
      var v = node.nodeValue;
      for (var i = 0; i < v.length; i++) {
        var c = v[i];
        if (/\s/.test(c)) {
          if (lastSpace) continue;
          c = " ";
          lastSpace = true;
        } else {
          lastSpace = false;
        }
        chars.push(c);
        map.push([node, i]);
      }
    }
    return { text: chars.join(""), map: map };
  }
})();
