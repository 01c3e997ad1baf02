// Working together: the notifications bell, the discussion block of item
// pages (loaded after the page, its forms sent without a reload), older
// timeline entries, and @mention autocomplete in comment boxes. Every
// part works without this file: the bell is a link, the discussion a page
// of its own, the forms plain posts.
(function () {
  "use strict";

  var HX = { "HX-Request": "true" };

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // --- The bell ---

  var bellTimer = null;

  function refreshBell() {
    var bell = document.querySelector("[data-bell]");
    if (!bell) return;
    fetch(bell.getAttribute("data-bell"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var n = data.unread || 0;
        var count = bell.querySelector(".bell-count");
        count.textContent = n > 99 ? "99+" : String(n);
        count.hidden = n === 0;
        bell.classList.toggle("has-unread", n > 0);
        var label = n === 0 ? "Notifications" : "Notifications, " + n + " unread";
        bell.setAttribute("aria-label", label);
        bell.setAttribute("title", label);
      })
      .catch(function () {});
  }

  function scheduleBell() {
    clearInterval(bellTimer);
    // Polling is the fallback; live pages call Northstar.refreshBell().
    bellTimer = setInterval(function () { if (!document.hidden) refreshBell(); }, 30000);
  }

  // --- The discussion ---

  function rootOf(el) { return el.closest("[data-discussion-root]"); }

  function swapDiscussion(root, html) {
    var active = document.activeElement;
    var keepFocus = active && root.contains(active) && active.id ? active.id : null;
    root.innerHTML = html;
    root.classList.remove("is-loading");
    if (keepFocus) {
      var again = document.getElementById(keepFocus);
      if (again) again.focus();
    }
    root.dispatchEvent(new CustomEvent("northstar:discussion", { bubbles: true }));
  }

  function loadDiscussion(root) {
    var url = root.getAttribute("data-discussion");
    if (!url) return Promise.resolve();
    root.classList.add("is-loading");
    return fetch(url, { headers: HX, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { swapDiscussion(root, html); })
      .catch(function () { root.classList.remove("is-loading"); });
  }

  // Forms of the discussion are sent with fetch; the answer is the
  // discussion as it is now, or with the error and what was typed.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-collab")) return;
    var root = rootOf(form);
    if (!root || !window.fetch) return;
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin", headers: HX,
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) {
      if (r.status >= 500) return Promise.reject(r.status);
      return r.text();
    }).then(function (html) {
      swapDiscussion(root, html);
      refreshBell();
    }).catch(function () {
      if (button) button.disabled = false;
      var alert = form.querySelector(".form-error") || document.createElement("div");
      alert.className = "form-error";
      alert.setAttribute("role", "alert");
      alert.textContent = "That did not go through. Try again in a moment.";
      form.insertBefore(alert, form.firstChild);
    });
  });

  // Older timeline entries are added under the ones shown.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("[data-timeline-more]");
    if (!link || !window.fetch) return;
    e.preventDefault();
    var li = link.closest("li");
    var url = link.getAttribute("href");
    url += (url.indexOf("?") < 0 ? "?" : "&") + "part=timeline";
    fetch(url, { headers: HX, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        li.insertAdjacentHTML("afterend", html);
        li.remove();
      })
      .catch(function () { window.location.href = link.href; });
  });

  // Following a notification's link marks it read.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[data-read]");
    if (!link || !window.fetch) return;
    fetch(link.getAttribute("data-read"), { method: "POST", headers: HX, credentials: "same-origin", keepalive: true }).catch(function () {});
  });

  // --- @mention autocomplete ---

  // The handle being typed: "@" at the start of a word, up to the caret.
  var mentionAt = /(^|[^\w@.])@([A-Za-z0-9._%+-]*)$/;
  var cache = {};
  var listSeq = 0;

  function Mentions(textarea) {
    this.ta = textarea;
    this.url = textarea.getAttribute("data-mentions");
    this.items = [];
    this.active = -1;
    this.start = -1;
    this.seq = 0;
    var id = "mention-list-" + (++listSeq);
    this.list = document.createElement("ul");
    this.list.className = "mention-list";
    this.list.id = id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "People to mention");
    this.list.hidden = true;
    textarea.parentNode.appendChild(this.list);
    textarea.setAttribute("role", "combobox");
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", id);
    textarea.setAttribute("aria-expanded", "false");
    var self = this;
    textarea.addEventListener("input", function () { self.update(); });
    textarea.addEventListener("click", function () { self.update(); });
    textarea.addEventListener("keydown", function (e) { self.key(e); });
    textarea.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    this.list.addEventListener("mousedown", function (e) {
      var li = e.target.closest("li[data-handle]");
      if (!li) return;
      e.preventDefault();
      self.choose(Number(li.getAttribute("data-index")));
    });
  }

  Mentions.prototype.update = function () {
    var ta = this.ta;
    var before = ta.value.slice(0, ta.selectionStart);
    var m = mentionAt.exec(before);
    if (!m || ta.selectionStart !== ta.selectionEnd) { this.close(); return; }
    var q = m[2].toLowerCase();
    this.start = before.length - m[2].length - 1;
    var self = this, seq = ++this.seq;
    var key = this.url + "?q=" + encodeURIComponent(q);
    var got = cache[key] ? Promise.resolve(cache[key]) :
      fetch(key, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (list) { cache[key] = list; return list; });
    got.then(function (list) {
      if (seq !== self.seq) return; // an older answer
      self.show(list || []);
    }).catch(function () { self.close(); });
  };

  Mentions.prototype.show = function (items) {
    this.items = items;
    var list = this.list;
    list.innerHTML = "";
    if (items.length === 0) { this.close(); return; }
    items.forEach(function (p, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("data-handle", p.handle);
      li.setAttribute("data-index", String(i));
      var name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = p.name;
      var handle = document.createElement("span");
      handle.className = "mention-handle";
      handle.textContent = "@" + p.handle;
      li.appendChild(name);
      li.appendChild(handle);
      list.appendChild(li);
    });
    list.hidden = false;
    this.ta.setAttribute("aria-expanded", "true");
    this.select(0);
  };

  Mentions.prototype.select = function (i) {
    var lis = this.list.querySelectorAll("li");
    if (lis.length === 0) return;
    this.active = (i + lis.length) % lis.length;
    for (var j = 0; j < lis.length; j++) {
      lis[j].setAttribute("aria-selected", j === this.active ? "true" : "false");
    }
    this.ta.setAttribute("aria-activedescendant", lis[this.active].id);
  };

  Mentions.prototype.close = function () {
    this.list.hidden = true;
    this.items = [];
    this.active = -1;
    this.ta.setAttribute("aria-expanded", "false");
    this.ta.removeAttribute("aria-activedescendant");
  };

  Mentions.prototype.isOpen = function () { return !this.list.hidden && this.items.length > 0; };

  Mentions.prototype.key = function (e) {
    if (!this.isOpen()) return;
    switch (e.key) {
      case "ArrowDown": e.preventDefault(); this.select(this.active + 1); break;
      case "ArrowUp": e.preventDefault(); this.select(this.active - 1); break;
      case "Enter": case "Tab": e.preventDefault(); swallowNext(e.key); this.choose(this.active); break;
      case "Escape": e.preventDefault(); this.close(); break;
    }
  };

  Mentions.prototype.choose = function (i) {
    var p = this.items[i];
    if (!p || this.start < 0) { this.close(); return; }
    var ta = this.ta, caret = ta.selectionStart;
    var insert = "@" + p.handle + " ";
    ta.value = ta.value.slice(0, this.start) + insert + ta.value.slice(caret);
    var at = this.start + insert.length;
    ta.setSelectionRange(at, at);
    ta.focus();
    this.close();
    ta.dispatchEvent(new Event("input", { bubbles: true }));
  };

  // Test drivers and remote desktops may send a key's character on its
  // own after a cancelled keydown: hold it back once.
  function swallowNext(key) {
    function onPress(ev) { if (ev.key === key) { ev.preventDefault(); done(); } }
    function done() {
      document.removeEventListener("keypress", onPress, true);
      document.removeEventListener("keyup", done, true);
    }
    document.addEventListener("keypress", onPress, true);
    document.addEventListener("keyup", done, true);
  }

  function enhanceMentions(scope) {
    var tas = (scope || document).querySelectorAll("textarea[data-mentions]");
    for (var i = 0; i < tas.length; i++) {
      if (!tas[i].northstarMentions) tas[i].northstarMentions = new Mentions(tas[i]);
    }
  }

  document.addEventListener("northstar:discussion", function (e) { enhanceMentions(e.target); });

  // Live pages (server-sent events) ask for fresh data through these.
  window.Northstar = window.Northstar || {};
  window.Northstar.refreshBell = refreshBell;
  window.Northstar.refreshDiscussion = function () {
    var roots = document.querySelectorAll("[data-discussion]");
    for (var i = 0; i < roots.length; i++) {
      // Never throw away what someone is typing.
      var ta = roots[i].querySelector("textarea");
      if (ta && (ta.value !== ta.defaultValue || roots[i].contains(document.activeElement))) continue;
      loadDiscussion(roots[i]);
    }
  };

  // Live updates: the discussion names its product and item for live.js
  // (server-sent events), which this file loads once a discussion is on
  // the page; others' changes to the item reload the discussion, and any
  // change of theirs may have rung the bell (live.js asks for that).
  function startLive() {
    if (window.northstarLive || document.querySelector("script[data-live-loader]")) return;
    if (!document.querySelector("[data-live-product]")) return;
    var s = document.createElement("script");
    s.src = "/static/live.js";
    s.defer = true;
    s.setAttribute("data-live-loader", "");
    document.head.appendChild(s);
  }

  document.addEventListener("northstar:discussion", startLive);
  document.addEventListener("northstar:change", function (e) {
    var c = e.detail || {};
    if (c.own) return;
    var roots = document.querySelectorAll("[data-discussion]");
    for (var i = 0; i < roots.length; i++) {
      var live = roots[i].querySelector("[data-live-item]");
      if (live && live.getAttribute("data-live-item") === c.kind + ":" + c.ref) {
        window.Northstar.refreshDiscussion();
        return;
      }
    }
  });
  document.addEventListener("northstar:resync", function () { window.Northstar.refreshDiscussion(); });

  onReady(function () {
    refreshBell();
    scheduleBell();
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refreshBell(); });
    window.addEventListener("focus", refreshBell);
    var roots = document.querySelectorAll("[data-discussion]");
    for (var i = 0; i < roots.length; i++) loadDiscussion(roots[i]);
    enhanceMentions(document);
  });
})();
