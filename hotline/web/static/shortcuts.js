// Keyboard shortcuts for the console's lists, explained on the "?" overlay. Progressive
// enhancement only: every action a key takes is a link or a button already on the page.
//
// What it reads from the markup (any list of any page can opt in):
//   [data-ticket-url]           a row of a list (tr, li…): j / k move between the rows
//   [data-shortcut="open"]      inside a row: Enter / o activate it (a link, or a button such as
//                               the inbox's "open and mark read"); without one the row's
//                               data-ticket-url is followed
//   [data-shortcut="dispatch"]  inside a row: d brings it forward — a button or link gets the
//                               focus (Enter then sends it: one stray key dispatches nothing),
//                               a <details> (or its <summary>) is opened and its first field
//                               focused, a field is focused
//   [data-dispatch-url]         on a row: d follows it when the row has no dispatch element
//   [data-shortcut-key="x"]     a link anywhere: the key x follows it (the header: "/" 查询,
//                               "i" 收件箱)
//   [data-shortcut="search"]    a field: "/" focuses it instead of following the "/" link
//   #shortcuts-help             the <dialog> that "?" opens; [data-shortcuts-open] buttons
//                               (hidden without this script) open it too
// Keys do nothing while typing in a field, with Ctrl/Alt/Meta held, or while a dialog is open.
(function () {
  "use strict";
  var current = null;
  var toast = null;
  var toastTimer = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-ticket-url]"));
  }

  function typing(element) {
    if (!element || !element.tagName) {
      return false;
    }
    var tag = element.tagName;
    if (element.isContentEditable || tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    return tag === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(element.type);
  }

  function say(text) {
    if (!toast) {
      toast = document.createElement("p");
      toast.className = "shortcut-toast";
      toast.setAttribute("role", "status");
      document.body.appendChild(toast);
    }
    toast.textContent = text;
    toast.classList.add("is-shown");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { toast.classList.remove("is-shown"); }, 2500);
  }

  function opener(row) {
    return row.querySelector("[data-shortcut='open']") || row.querySelector("a[href]");
  }

  function choose(row) {
    if (current && current !== row) {
      current.classList.remove("is-current");
      current.removeAttribute("aria-current");
    }
    current = row;
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    var target = opener(row);
    if (target) {
      target.focus({ preventScroll: true });
    }
    row.scrollIntoView({ block: "nearest" });
  }

  // The row to move from: the one holding the focus (after Tab or a click), else the chosen.
  function here(list) {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("[data-ticket-url]") : null;
    if (row && list.indexOf(row) >= 0) {
      return row;
    }
    return current && list.indexOf(current) >= 0 ? current : null;
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      say("本页没有可选择的工单");
      return;
    }
    var row = here(list);
    var index = row ? list.indexOf(row) + step : 0;
    choose(list[Math.max(0, Math.min(index, list.length - 1))]);
  }

  function open(row) {
    var target = opener(row);
    if (target) {
      target.click();
    } else {
      window.location.assign(row.getAttribute("data-ticket-url"));
    }
  }

  function dispatch(row) {
    var target = row.querySelector("[data-shortcut='dispatch']");
    if (!target) {
      var url = row.getAttribute("data-dispatch-url");
      if (url) {
        window.location.assign(url);
      } else {
        say("这一行没有派单操作");
      }
      return;
    }
    var box = target.tagName === "DETAILS" ? target
      : (target.tagName === "SUMMARY" ? target.parentElement : null);
    if (box) {
      box.open = true;
      var field = box.querySelector("select, input:not([type=hidden]), textarea, button");
      (field || box.querySelector("summary") || box).focus();
    } else {
      // A dispatch is not undone by a key: the button gets the focus, Enter sends it.
      target.focus();
      if (!typing(target)) {
        say("按 Enter 确认：" + target.textContent.trim());
      }
    }
  }

  function help() {
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
      dialog.showModal();
    }
  }

  function anyDialogOpen() {
    return document.querySelector("dialog[open]") !== null;
  }

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey ||
        anyDialogOpen() || typing(event.target)) {
      return;
    }
    var key = event.key;
    var list;
    var row;
    if (key === "?") {
      help();
    } else if (key === "j" || key === "k") {
      move(key === "j" ? 1 : -1);
    } else if (key === "Enter" || key === "o") {
      list = rows();
      row = here(list);
      var active = document.activeElement;
      // Enter on a focused link or button already does what it says.
      if (!row || (key === "Enter" && active && active.matches("a[href], button, summary"))) {
        return;
      }
      open(row);
    } else if (key === "d") {
      row = here(rows());
      if (!row) {
        say("请先用 j / k 选择一件工单");
      } else {
        dispatch(row);
      }
    } else if (key === "/" && document.querySelector("[data-shortcut='search']")) {
      var search = document.querySelector("[data-shortcut='search']");
      search.focus();
      if (search.select) {
        search.select();
      }
    } else {
      var link = null;
      var links = document.querySelectorAll("a[data-shortcut-key]");
      for (var i = 0; i < links.length && !link; i++) {
        if (links[i].getAttribute("data-shortcut-key") === key) {
          link = links[i];
        }
      }
      if (!link) {
        return;
      }
      link.click();
    }
    event.preventDefault();
  }

  function start() {
    var buttons = document.querySelectorAll("[data-shortcuts-open]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", help);
    }
    document.addEventListener("keydown", onKey);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
