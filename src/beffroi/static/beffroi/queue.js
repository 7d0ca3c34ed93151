/* Beffroi review queue: keys for people who moderate all day. Every action is also a
 * button or a link; this file only adds speed (app.js keeps j/k/Enter on lists and ? help).
 *
 * On a page, the element marked data-key="<key>" is what the key does: a button is
 * clicked, a text field is focused. The case page marks:
 *   j next case (skipping this one)   k previous case   h hide   a keep (approve)
 *   x delete (asks first)   e escalate   r write a reply   u undo my last decision
 *   t take the case (opening a case takes nothing)
 * The queue marks n (review the next case) and u; there, s selects the focused row's case.
 *   v  shows (or blurs again) a sensitive text: the focused row's, the case's, or all.
 *
 * Keys are ignored while typing, with a modifier, while a dialog is open, and just after
 * "g" (app.js's "g then …" navigation must never hide a comment).
 */
(function () {
  "use strict";

  var ACTION_KEYS = "jkhaxerunt";
  var G_GRACE_MS = 1500;
  var lastG = 0;

  // Defined once in app.js, which base.html loads before this file.
  var isTyping = window.Beffroi.isTyping;

  function announce(text) {
    var region = document.getElementById("moderation-announce");
    if (!region || !text) {
      return;
    }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 120);
  }

  // --- sensitive texts ----------------------------------------------------------------

  function setRevealed(button, revealed) {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) {
      return;
    }
    button.setAttribute("aria-expanded", revealed ? "true" : "false");
    var label = revealed ? button.getAttribute("data-label-hide") : button.getAttribute("data-label-show");
    if (label) {
      button.textContent = label;
    }
    target.classList.toggle("is-revealed", revealed);
    if (revealed) {
      target.removeAttribute("aria-hidden");
    } else {
      target.setAttribute("aria-hidden", "true");
    }
  }

  function toggle(button) {
    var revealed = button.getAttribute("aria-expanded") !== "true";
    setRevealed(button, revealed);
    return revealed;
  }

  function revealKey() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("tr") : null;
    var button = row ? row.querySelector("[data-reveal]") : null;
    if (!button) {
      button = document.querySelector('[data-reveal][data-key="v"]');
    }
    if (button) {
      var shown = toggle(button);
      var region = document.getElementById("moderation-announce");
      if (region) {
        announce(region.getAttribute(shown ? "data-text-shown" : "data-text-blurred"));
      }
      return true;
    }
    var all = Array.prototype.slice.call(document.querySelectorAll("[data-reveal]"));
    if (!all.length) {
      return false;
    }
    var anyHidden = all.some(function (b) { return b.getAttribute("aria-expanded") !== "true"; });
    all.forEach(function (b) { setRevealed(b, anyHidden); });
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-reveal]") : null;
    if (button) {
      event.preventDefault();
      toggle(button);
    }
  });

  // --- selection in the queue ---------------------------------------------------------

  function updateSelected() {
    var counter = document.querySelector("[data-selected-count]");
    if (!counter) {
      return;
    }
    var count = document.querySelectorAll("[data-select]:checked").length;
    var template = counter.getAttribute("data-template") || "%(count)s";
    counter.textContent = count ? "(" + template.replace("%(count)s", String(count)) + ")" : "";
  }

  function selectFocusedRow() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("tr") : null;
    var box = row ? row.querySelector("[data-select]") : null;
    if (!box) {
      return false;
    }
    box.checked = !box.checked;
    updateSelected();
    return true;
  }

  function wireSelectAll() {
    var all = document.querySelector("[data-select-all]");
    if (!all || all.hasAttribute("data-wired")) {
      return;
    }
    all.setAttribute("data-wired", "");
    all.hidden = false;
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll("[data-select]"), function (box) {
        box.checked = all.checked;
      });
      updateSelected();
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-select")) {
      updateSelected();
    }
  });

  // --- actions ------------------------------------------------------------------------

  function runKey(key) {
    var element = document.querySelector('[data-key="' + key + '"]');
    if (!element || element.disabled) {
      return false;
    }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") {
      element.focus();
      return true;
    }
    element.click();
    return true;
  }

  // A button may ask before it submits (delete); app.js asks for whole forms.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === "g") {
      lastG = Date.now();
      return;
    }
    if (event.defaultPrevented || isTyping(event.target)) {
      return;
    }
    if (document.querySelector("dialog[open]")) {
      return;
    }
    if (Date.now() - lastG < G_GRACE_MS) {
      lastG = 0;
      return;
    }
    var key = event.key;
    var handled = false;
    if (key === "v") {
      handled = revealKey();
    } else if (key === "s") {
      handled = selectFocusedRow();
    } else if (key.length === 1 && ACTION_KEYS.indexOf(key) !== -1) {
      handled = runKey(key);
    }
    if (handled) {
      event.preventDefault();
    }
  });

  function start() {
    wireSelectAll();
    updateSelected();
    var region = document.getElementById("moderation-announce");
    if (region) {
      announce(region.getAttribute("data-announce"));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:afterSettle", function () {
    wireSelectAll();
    updateSelected();
  });
})();
