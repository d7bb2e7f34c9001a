// Progressive enhancement for the dispatch form's units (console/_unit_picker.html): a search
// box over the grouped unit list and the co-unit checkboxes, and the "已选" line kept up to
// date. Without this script the grouped select and the checkbox lists work as they are.
(function () {
  "use strict";

  function matches(text, words) {
    return words === "" || text.toLowerCase().indexOf(words) !== -1;
  }

  function searchBox(target, what) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "unit-search";
    box.id = target.id + "-search";
    box.setAttribute("placeholder", "输入名称筛选，如 城管、和平");
    box.setAttribute("aria-label", "筛选" + what);
    box.setAttribute("autocomplete", "off");
    // Enter in the box must not submit the form (its first button may dispatch).
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
    target.parentNode.insertBefore(box, target);
    return box;
  }

  function enhanceSelect(select) {
    var box = searchBox(select, "主办单位");
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var shown = 0;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
          var hit = matches(option.textContent.trim(), words);
          option.hidden = !hit;
          if (hit) { shown += 1; if (!first) { first = option; } }
        });
        group.hidden = shown === 0;
      });
      var current = select.options[select.selectedIndex];
      if (words && first && (!current || current.hidden || current.value === "")) {
        first.selected = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function enhanceChecks(fieldset) {
    var picked = document.getElementById(fieldset.id + "-picked");
    var boxes = fieldset.querySelectorAll("input[type=checkbox]");
    function summarise() {
      var names = [];
      Array.prototype.forEach.call(boxes, function (box) {
        if (box.checked) { names.push(box.parentNode.textContent.trim()); }
      });
      if (picked) { picked.textContent = "已选：" + (names.length ? names.join("、") : "无"); }
    }
    fieldset.addEventListener("change", summarise);
    var legend = fieldset.querySelector("legend");
    var box = searchBox(picked || legend, "协办单位");
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(fieldset.querySelectorAll("details.unit-group"), function (group) {
        var shown = 0;
        Array.prototype.forEach.call(group.querySelectorAll("label"), function (label) {
          var hit = matches(label.textContent.trim(), words);
          label.hidden = !hit;
          if (hit) { shown += 1; }
        });
        group.hidden = shown === 0;
        if (words && shown) { group.open = true; }
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-unit-search]"), function (el) {
    if (el.getAttribute("data-enhanced")) { return; }
    el.setAttribute("data-enhanced", "1");
    if (el.tagName === "SELECT") { enhanceSelect(el); } else { enhanceChecks(el); }
  });
})();
