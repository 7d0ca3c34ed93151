/* Beffroi answering desk: a saved reply opens in the reply box (never sent by itself), the
 * people on the same conversation are shown ("Claire is replying"), and keys for speed.
 * Every action is also a button; this file only adds speed.
 *
 *   r  write a reply      s  choose a saved reply      a  assign      e  resolve
 *   Ctrl+Enter (or Cmd+Enter) in the reply box  send the reply
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

  // --- saved replies ------------------------------------------------------------------

  function useSavedReply(select) {
    var option = select.options[select.selectedIndex];
    var form = document.querySelector("[data-reply-form]");
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

  // --- presence -----------------------------------------------------------------------

  var activity = "viewing";

  function beat() {
    var holder = document.querySelector("[data-presence-url]");
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
      var region = document.getElementById("presence");
      if (html !== null && region) {
        var wrapper = document.createElement("div");
        wrapper.innerHTML = html;
        var fresh = wrapper.querySelector("#presence");
        if (fresh) {
          region.replaceWith(fresh);
        }
      }
    }).catch(function () { /* the next beat tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-saved-replies]");
    if (select) {
      select.addEventListener("change", function () { useSavedReply(select); });
    }
    var form = document.querySelector("[data-reply-form]");
    if (form) {
      var box = form.querySelector("textarea");
      box.addEventListener("input", function () {
        if (activity !== "replying") {
          activity = "replying";
          beat();
        }
      });
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
    if (document.querySelector("[data-presence-url]")) {
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
