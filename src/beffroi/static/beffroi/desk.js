/* Beffroi answering desk: a saved reply opens in the reply box (never sent by itself), the
 * people on the same conversation are shown ("Claire is replying"), a reply is written from
 * the list in a box opened under the conversation's row, and keys for speed.
 * Every action is also a button or a link; this file only adds speed.
 *
 * On the conversation page:
 *   r  write a reply      s  choose a saved reply      a  assign      e  resolve
 * In the list (on the row selected with j/k):
 *   r  open the reply box under the row      s  the same, at its saved replies
 *   Esc in the box  close it (the draft is kept until the page is left)
 * In a reply box: Ctrl+Enter (or Cmd+Enter) sends the reply.
 *
 * Keys are ignored while typing, with a modifier or while a dialog is open.
 */
(function () {
  "use strict";

  var HEARTBEAT_MS = 20000;
  var isTyping = window.Beffroi.isTyping;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // --- a reply box: its saved replies and its form --------------------------------------

  function useSavedReply(select) {
    var option = select.options[select.selectedIndex];
    // The box the chooser belongs to: one opened from the list, else the page's only one.
    var scope = select.closest("[data-reply-box]") || document;
    var form = scope.querySelector("[data-reply-form]");
    if (!form || !option) {
      return;
    }
    var box = form.querySelector("textarea");
    var hidden = form.querySelector("input[name=saved_reply]");
    if (option.value) {
      box.value = option.getAttribute("data-text") || "";
    }
    if (hidden) {
      hidden.value = option.value;
    }
    box.focus();
  }

  function wireReplyBox(scope, onInput) {
    var select = scope.querySelector("[data-saved-replies]");
    if (select) {
      select.addEventListener("change", function () { useSavedReply(select); });
    }
    var form = scope.querySelector("[data-reply-form]");
    if (!form) {
      return;
    }
    var box = form.querySelector("textarea");
    if (onInput) {
      box.addEventListener("input", onInput);
    }
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
        event.preventDefault();
        form.requestSubmit(); // as the button does: the form is checked, the button disabled
      }
    });
    form.addEventListener("submit", function () {
      // One click sends once: the key makes a second submission the same reply anyway.
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
    });
  }

  // --- presence -----------------------------------------------------------------------

  var activity = "viewing";

  // Whose presence this page announces: the conversation page's reply box, or on the list the
  // reply box open under a row (one at a time).
  function presenceHolder() {
    return document.querySelector("[data-presence-page][data-presence-url]") ||
      document.querySelector("[data-reply-box-row]:not([hidden]) [data-presence-url]");
  }

  function beat() {
    var holder = presenceHolder();
    if (!holder || document.hidden) {
      return;
    }
    var body = new URLSearchParams();
    body.set("activity", activity);
    fetch(holder.getAttribute("data-presence-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      var region = holder.querySelector("[data-presence]");
      if (html !== null && region) {
        var wrapper = document.createElement("div");
        wrapper.innerHTML = html;
        var fresh = wrapper.querySelector("[data-presence]");
        if (fresh) {
          region.replaceWith(fresh);
        }
      }
    }).catch(function () { /* the next beat tries again */ });
  }

  function startWriting() {
    if (activity !== "replying") {
      activity = "replying";
      beat();
    }
  }

  // --- replying from the list -------------------------------------------------------------
  // The row's "Reply" link leads to the conversation page's reply box; here it opens the box
  // under the row instead (fetched as a fragment), in a row of its own that follows it.

  function rowOf(element) {
    var row = element && element.closest ? element.closest("[data-keyboard-row]") : null;
    return row && row.querySelector("[data-reply-open]") ? row : null;
  }

  function holderOf(row) {
    var next = row.nextElementSibling;
    return next && next.hasAttribute("data-reply-box-row") ? next : null;
  }

  function focusInBox(holder, where) {
    var target = (where === "saved" && holder.querySelector("[data-saved-replies]")) ||
      holder.querySelector("[data-reply-form] textarea");
    if (target) {
      target.focus();
    }
  }

  function closeReplyBox(holder, giveFocusBack) {
    holder.hidden = true;
    var row = holder.previousElementSibling;
    row.querySelector("[data-reply-open]").setAttribute("aria-expanded", "false");
    if (giveFocusBack) {
      (holder.beffroiOpener || row.querySelector("[data-row-link]")).focus();
    }
  }

  function openReplyBox(row, where, opener) {
    var control = row.querySelector("[data-reply-open]");
    var holder = holderOf(row);
    // One box open at a time; a closed one keeps its draft (and its key) for later.
    Array.prototype.forEach.call(
      document.querySelectorAll("[data-reply-box-row]:not([hidden])"),
      function (other) {
        if (other !== holder) {
          closeReplyBox(other, false);
        }
      }
    );
    control.setAttribute("aria-expanded", "true");
    if (holder) {
      holder.hidden = false;
      holder.beffroiOpener = opener;
      activity = "viewing";
      beat();
      focusInBox(holder, where);
      return;
    }
    holder = document.createElement("tr");
    holder.setAttribute("data-reply-box-row", "");
    holder.beffroiOpener = opener;
    var cell = document.createElement("td");
    cell.colSpan = row.cells.length;
    var list = row.closest("[data-keyboard-list]");
    cell.textContent = (list && list.getAttribute("data-reply-loading")) || "…";
    holder.appendChild(cell);
    row.after(holder);
    var url = control.getAttribute("data-reply-box-url") +
      "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("reply box: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        // Parsed apart from the page (a detached template), then moved in.
        var template = document.createElement("template");
        template.innerHTML = html;
        cell.replaceChildren(template.content);
        var box = cell.querySelector("[data-reply-box]");
        if (box) {
          control.setAttribute("aria-controls", box.id);
        }
        wireReplyBox(cell, startWriting);
        activity = "viewing";
        beat(); // the others see this person on the conversation from the box's opening
        holder.addEventListener("keydown", function (event) {
          if (event.key === "Escape" && !event.ctrlKey && !event.metaKey && !event.altKey) {
            event.preventDefault();
            closeReplyBox(holder, true);
          }
        });
        if (!holder.hidden) {
          focusInBox(holder, where);
        }
      })
      .catch(function () {
        // The box could not be fetched: the conversation page's box instead.
        holder.remove();
        window.location.assign(control.href);
      });
  }

  function toggleReplyBox(row, opener) {
    var holder = holderOf(row);
    if (holder && !holder.hidden) {
      closeReplyBox(holder, true);
    } else {
      openReplyBox(row, "text", opener);
    }
  }

  function listKey(event) {
    if (event.key !== "r" && event.key !== "s") {
      return;
    }
    var where = event.key === "s" ? "saved" : "text";
    var active = document.activeElement;
    var inBox = active && active.closest ? active.closest("[data-reply-box-row]") : null;
    if (inBox) {
      event.preventDefault();
      focusInBox(inBox, where);
      return;
    }
    var row = rowOf(active);
    if (row) {
      event.preventDefault();
      openReplyBox(row, where, active);
    }
  }

  function wireList() {
    var controls = document.querySelectorAll("[data-reply-open]");
    Array.prototype.forEach.call(controls, function (control) {
      control.setAttribute("aria-expanded", "false");
      control.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
          return; // a new tab or window: the conversation page
        }
        event.preventDefault();
        toggleReplyBox(control.closest("[data-keyboard-row]"), control);
      });
    });
    // Back from sending, the address ends with the row's link (…#conversation-12): the
    // browser focuses it, the row is selected as it was left.
  }

  // --- wiring and keys ----------------------------------------------------------------------

  function isList() {
    return document.querySelector("[data-keyboard-list]") !== null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (isList()) {
      wireList();
      window.setInterval(beat, HEARTBEAT_MS); // for the reply box open under a row, if any
      return;
    }
    wireReplyBox(document, startWriting);
    if (presenceHolder()) {
      beat(); // at once: the others see this person from the start
      window.setInterval(beat, HEARTBEAT_MS);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
      return;
    }
    if (document.querySelector("dialog[open]")) {
      return;
    }
    if (isList()) {
      listKey(event);
      return;
    }
    var target = null;
    if (event.key === "r") {
      target = document.querySelector("[data-reply-form] textarea");
    } else if (event.key === "s") {
      target = document.querySelector("[data-saved-replies]");
    } else if (event.key === "a") {
      target = document.querySelector("#id_assignee");
    } else if (event.key === "e") {
      target = document.querySelector('button[name=state][value=resolved]');
      if (target) {
        event.preventDefault();
        target.click();
        return;
      }
    }
    if (target) {
      event.preventDefault();
      target.focus();
    }
  });
})();
