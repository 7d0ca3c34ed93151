/* Beffroi publishing desk: the composer's checks while typing, and keys on a post's page.
 * Every page works without this file (the checks show after saving); it only adds speed.
 *
 * In the composer, the form is posted to its check address (data-check-url) 400 ms after
 * the last change, with htmx; the server answers the checks and previews (no counting
 * here: the networks' rules live in one place, on the server).
 *
 * On a post's page:
 *   a  approve            x  send back (focus the comment first)
 *   e  edit the post      ?  list the shortcuts (app.js)
 * Keys are ignored while typing, with a modifier or while a dialog is open.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;
  var isTyping = window.Beffroi && window.Beffroi.isTyping;

  function wireComposer(form) {
    var url = form.getAttribute("data-check-url");
    var target = form.getAttribute("data-check-target");
    if (!url || !target || !window.htmx) {
      return;
    }
    var region = form.querySelector(target);
    if (!region) {
      return;
    }
    var timer = null;
    function check() {
      timer = null;
      // The region (inside the form) is the source: htmx sends its form's fields, without
      // checking the form's validity as it would for the form itself (no error bubbles while
      // a link is half typed: the server says what is wrong).
      window.htmx.ajax("POST", url, { source: region, target: region, swap: "innerHTML" });
    }
    function later() {
      if (timer) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(check, DEBOUNCE_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  function click(selector) {
    var button = document.querySelector(selector);
    if (button) {
      button.click();
      return true;
    }
    return false;
  }

  function postKey(event) {
    if (event.key === "a") {
      return click("[data-post-approve]");
    }
    if (event.key === "x") {
      // Sending back says why: the comment first, then the button.
      var form = document.querySelector("[data-decide-form]");
      var comment = form && form.querySelector("textarea");
      if (comment) {
        comment.focus();
        return true;
      }
      return false;
    }
    if (event.key === "e") {
      return click("[data-post-edit]");
    }
    return false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-composer]"), wireComposer);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if ((isTyping && isTyping(event.target)) || document.querySelector("dialog[open]")) {
      return;
    }
    if (!document.querySelector("[data-post-page]")) {
      return;
    }
    if (postKey(event)) {
      event.preventDefault();
    }
  });
})();
