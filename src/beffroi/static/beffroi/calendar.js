/* Beffroi publishing calendar: move a post to another day with the keyboard or by dragging it.
 * Every post that can move has its own "Move" form (a date and a button): this file only
 * fills that form's date and sends it, so the server's answer (and its message, when the
 * post cannot move) is the same as without JavaScript.
 *
 * On a focused post:  m  start moving it
 *   Left / Right       one day earlier / later     Shift+Left / Shift+Right, Up / Down  one week
 *   Enter              move it there                Esc                                cancel
 * A post can also be dragged onto another day of the grid.
 *
 * Keys are ignored while typing or with Ctrl, Alt or Meta held.
 */
(function () {
  "use strict";

  var isTyping = (window.Beffroi && window.Beffroi.isTyping) || function () { return false; };
  var DAY_MS = 86400000;
  var moving = null; // {post, origin (its cell), date ("YYYY-MM-DD")}

  function status() {
    return document.getElementById("cal-status");
  }

  function say(key, post, date) {
    var region = status();
    if (!region) {
      return;
    }
    var text = region.getAttribute("data-" + key) || "";
    var title = post ? post.getAttribute("data-title") || "" : "";
    region.textContent = text.replace("{title}", title).replace("{date}", date ? readable(date) : "");
  }

  function parse(iso) {
    var parts = iso.split("-");
    return Date.UTC(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }

  function iso(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function readable(isoDate) {
    var lang = document.documentElement.lang || undefined;
    return new Date(parse(isoDate)).toLocaleDateString(lang, {
      weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC"
    });
  }

  function cellOf(date) {
    return document.querySelector(".cal-day[data-date='" + date + "']");
  }

  function listOf(cell) {
    var list = cell.querySelector(".cal-posts");
    if (!list) {
      list = document.createElement("ul");
      list.className = "cal-posts";
      cell.appendChild(list);
    }
    return list;
  }

  // Show the post in the cell of `date` while it moves (when that day is on the page).
  function place(post, date) {
    var cell = cellOf(date);
    if (cell) {
      listOf(cell).appendChild(post);
      post.focus();
    }
  }

  function send(post, date) {
    var form = post.querySelector("[data-move-form]");
    if (!form) {
      return;
    }
    form.querySelector("input[name=date]").value = date;
    say("saving", post, date);
    form.requestSubmit();
  }

  function start(post) {
    var origin = post.closest(".cal-day");
    moving = { post: post, origin: origin, date: origin.getAttribute("data-date") };
    post.classList.add("cal-moving");
    say("moving", post, moving.date);
  }

  function stop() {
    if (!moving) {
      return;
    }
    moving.post.classList.remove("cal-moving");
    moving = null;
  }

  function cancel() {
    var post = moving.post;
    listOf(moving.origin).appendChild(post);
    post.focus();
    stop();
    say("cancelled");
  }

  function shift(days) {
    moving.date = iso(parse(moving.date) + days * DAY_MS);
    place(moving.post, moving.date);
    say("moving", moving.post, moving.date);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || isTyping(event.target)) {
      return;
    }
    if (moving) {
      var steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
      if (event.key in steps) {
        event.preventDefault();
        var step = steps[event.key];
        shift(event.shiftKey && Math.abs(step) === 1 ? step * 7 : step);
      } else if (event.key === "Enter") {
        event.preventDefault();
        var moved = moving.post;
        var date = moving.date;
        var unchanged = date === moving.origin.getAttribute("data-date");
        stop();
        if (!unchanged) {
          send(moved, date);
        }
      } else if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
      return;
    }
    var post = event.key === "m" && event.target.closest && event.target.closest(".cal-post[data-movable]");
    if (post) {
      event.preventDefault();
      start(post);
    }
  });

  // A focus leaving the moving post (a click elsewhere, Tab) cancels the move.
  document.addEventListener("focusin", function (event) {
    if (moving && event.target !== moving.post) {
      cancel();
    }
  });

  // --- drag and drop --------------------------------------------------------------------

  document.addEventListener("dragstart", function (event) {
    var post = event.target.closest && event.target.closest(".cal-post[data-movable]");
    if (!post) {
      return;
    }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", post.getAttribute("data-post"));
    post.classList.add("cal-moving");
  });

  document.addEventListener("dragend", function (event) {
    if (event.target.classList) {
      event.target.classList.remove("cal-moving");
    }
  });

  function dropCell(event) {
    return event.target.closest && event.target.closest("[data-calendar-moves] .cal-day");
  }

  document.addEventListener("dragover", function (event) {
    var cell = dropCell(event);
    if (cell) {
      event.preventDefault(); // allows the drop
      event.dataTransfer.dropEffect = "move";
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = dropCell(event);
    if (!cell) {
      return;
    }
    event.preventDefault();
    var id = event.dataTransfer.getData("text/plain");
    var post = document.querySelector(".cal-post[data-movable][data-post='" + id.replace(/\D/g, "") + "']");
    if (!post || post.closest(".cal-day") === cell) {
      return;
    }
    var date = cell.getAttribute("data-date");
    listOf(cell).appendChild(post);
    send(post, date);
  });
})();
