// 工单打印: a print button where scripts run (without them, the browser's own print works
// the same; the button stays hidden).
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
