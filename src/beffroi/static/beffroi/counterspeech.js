/* Counter-speech suggestions: "Answer with it" puts the entry's text in the reply box of the
 * same page when there is one (a conversation), to be edited and sent by the person; elsewhere
 * it is a plain link to the reply box that opens with the text. Key c answers with the first
 * suggestion. Nothing is ever sent from here. */
(function () {
  "use strict";

  var isTyping = window.Beffroi && window.Beffroi.isTyping ? window.Beffroi.isTyping : function (target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  };

  function replyForm() {
    return document.querySelector("form[data-reply-form]");
  }

  function announce(panel, text) {
    var region = panel && panel.querySelector("[data-counter-speech-announce]");
    if (region) {
      region.textContent = "";
      window.setTimeout(function () { region.textContent = text; }, 100);
    }
  }

  function useEntry(link) {
    var form = replyForm();
    var box = form && form.querySelector("textarea");
    if (!box) {
      return false; // no reply box here: the link opens one
    }
    var panel = link.closest("[data-counter-speech-panel]");
    var text = link.getAttribute("data-text") || "";
    if (box.value.trim() && box.value !== text &&
        !window.confirm(panel.getAttribute("data-replace-question"))) {
      return true;
    }
    box.value = text;
    var origin = form.querySelector("input[name=drafted_from]");
    if (origin) {
      origin.value = link.getAttribute("data-ref") || "";
    }
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    announce(panel, panel.getAttribute("data-done"));
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("[data-counter-speech-use]") : null;
    if (link && useEntry(link)) {
      event.preventDefault();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "c" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    if (isTyping(event.target) || document.querySelector("dialog[open]")) {
      return;
    }
    var first = document.querySelector("[data-counter-speech-first]");
    if (first) {
      event.preventDefault();
      first.click();
    }
  });
})();
