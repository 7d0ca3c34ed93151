/* Beffroi keyboard shortcuts. Every page works without this file; it only adds speed.
 *
 *   j / k      next / previous row of a list (rows are links marked data-row-link)
 *   Enter / o  open the focused row
 *   /          focus the search field
 *   g then d   go to the dashboard
 *   g then i   go to the inbox
 *   ?          show the shortcuts help
 *
 * Shortcuts are ignored while typing in a field and when a modifier key is held.
 */
(function () {
  "use strict";

  var G_TIMEOUT_MS = 1200;
  var pendingG = false;
  var pendingTimer = null;

  function isTyping(element) {
    if (!element || element === document.body) {
      return false;
    }
    if (element.isContentEditable) {
      return true;
    }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    if (tag === "INPUT") {
      var type = (element.getAttribute("type") || "text").toLowerCase();
      return ["button", "submit", "reset", "checkbox", "radio", "image", "hidden"].indexOf(type) === -1;
    }
    return false;
  }

  // Shared with queue.js (loaded after this file): one definition of "the user is typing".
  window.Beffroi = window.Beffroi || {};
  window.Beffroi.isTyping = isTyping;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
  }

  function moveFocus(step) {
    var list = rows();
    if (!list.length) {
      return false;
    }
    var index = list.indexOf(document.activeElement);
    var next;
    if (index === -1) {
      next = step > 0 ? 0 : list.length - 1;
    } else {
      next = Math.min(list.length - 1, Math.max(0, index + step));
    }
    list[next].focus();
    list[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function openFocused() {
    var active = document.activeElement;
    if (active && active.hasAttribute("data-row-link")) {
      active.click();
      return true;
    }
    return false;
  }

  function focusSearch() {
    var field = document.querySelector("[data-shortcut-search]") ||
      document.querySelector("input[type=search]");
    if (!field) {
      return false;
    }
    field.focus();
    if (typeof field.select === "function") {
      field.select();
    }
    return true;
  }

  function shortcutsDialog() {
    return document.getElementById("shortcuts-dialog");
  }

  function openHelp() {
    var dialog = shortcutsDialog();
    if (!dialog || typeof dialog.showModal !== "function") {
      return false;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    return true;
  }

  function goTo(attribute) {
    var url = document.body.getAttribute(attribute);
    if (url) {
      window.location.assign(url);
      return true;
    }
    return false;
  }

  function clearPending() {
    pendingG = false;
    if (pendingTimer) {
      window.clearTimeout(pendingTimer);
      pendingTimer = null;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (isTyping(target)) {
      if (event.key === "Escape" && target.getAttribute("type") === "search") {
        event.preventDefault(); // leave the field, keep the words (browsers would clear them)
        target.blur();
      }
      return;
    }
    var dialog = shortcutsDialog();
    if (dialog && dialog.open) {
      return; // the dialog handles Escape itself
    }

    var key = event.key;
    var handled = false;

    if (pendingG) {
      clearPending();
      if (key === "i") {
        handled = goTo("data-inbox-url");
      } else if (key === "d") {
        handled = goTo("data-dashboard-url");
      }
    } else if (key === "g") {
      pendingG = true;
      pendingTimer = window.setTimeout(clearPending, G_TIMEOUT_MS);
      handled = true;
    } else if (key === "j") {
      handled = moveFocus(1);
    } else if (key === "k") {
      handled = moveFocus(-1);
    } else if (key === "o") {
      handled = openFocused();
    } else if (key === "/") {
      handled = focusSearch();
    } else if (key === "?") {
      handled = openHelp();
    }

    if (handled) {
      event.preventDefault();
    }
  });

  // When htmx replaces a list, keep the focus on the same row (or the list's first row).
  var focusedHref = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedHref = active && active.hasAttribute("data-row-link") ? active.getAttribute("href") : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedHref) {
      return;
    }
    var list = rows();
    var same = list.filter(function (row) { return row.getAttribute("href") === focusedHref; });
    var target = same[0] || list[0];
    focusedHref = null;
    if (target) {
      target.focus();
    }
  });

  // Forms that undo something ask first (without JavaScript they simply submit).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A table wider than its .table-scroll box scrolls there: while it does, the box is a named
  // region a keyboard user reaches with Tab and scrolls with the arrow keys. Boxes whose
  // template already makes them focusable are left as they are.
  function tableName(box) {
    var caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) {
      return caption.textContent.trim();
    }
    for (var node = box; node && node !== document.body; node = node.parentElement) {
      for (var before = node.previousElementSibling; before; before = before.previousElementSibling) {
        if (/^H[1-3]$/.test(before.tagName)) {
          return before.textContent.trim();
        }
      }
    }
    var title = document.querySelector("h1");
    return title ? title.textContent.trim() : document.title;
  }

  function markScrollingTables() {
    var boxes = document.querySelectorAll(".table-scroll");
    Array.prototype.forEach.call(boxes, function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var named = box.hasAttribute("aria-label") || box.hasAttribute("aria-labelledby");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!named) {
          box.setAttribute("aria-label", tableName(box));
        }
        box.setAttribute("data-scroll-marked", named ? "" : "named");
      } else if (!scrolls && box.hasAttribute("data-scroll-marked")) {
        var added = ["tabindex", "role", "data-scroll-marked"];
        if (box.getAttribute("data-scroll-marked") === "named") {
          added.push("aria-label");
        }
        added.forEach(function (name) {
          box.removeAttribute(name);
        });
      }
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(markScrollingTables, 150);
  });
  document.addEventListener("htmx:afterSettle", markScrollingTables);
  document.addEventListener("toggle", markScrollingTables, true); // a <details> opened

  document.addEventListener("DOMContentLoaded", function () {
    markScrollingTables();
    var dialog = shortcutsDialog();
    var openers = document.querySelectorAll("[data-open-shortcuts]");
    Array.prototype.forEach.call(openers, function (button) {
      if (dialog && typeof dialog.showModal === "function") {
        button.hidden = false; // only offered when it can work
        button.addEventListener("click", openHelp);
      }
    });
  });
})();
