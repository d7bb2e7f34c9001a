// Tracking page: a copy button for the private link (shown only when this script runs;
// without it the link stays in a read-only field to select by hand).
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    if (!field) { return; }
    button.hidden = false;
    function said(text) { if (status) { status.textContent = text; } }
    button.addEventListener("click", function () {
      var done = function () { said("已复制，请保存在安全的地方"); };
      var byHand = function () {
        field.focus();
        field.select();
        try {
          if (document.execCommand("copy")) { done(); return; }
        } catch (e) { /* older browsers: fall through */ }
        said("请长按或按 Ctrl+C 复制已选中的链接");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, byHand);
      } else {
        byHand();
      }
    });
  });
})();
