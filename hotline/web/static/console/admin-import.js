// The import batch page follows its batch: every 2 s it asks for the progress and updates
// the figures in place; once the batch is done or failed it reloads, which shows the
// refused rows and the download. Without JavaScript a <meta refresh> in <noscript> does it.
// The 取消导入 button asks first; once a cancel is asked for, the button goes.
(function () {
  "use strict";
  var stop = document.getElementById("cancel-import");
  if (stop) {
    stop.addEventListener("submit", function (event) {
      if (!window.confirm(stop.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");

  function show(data) {
    box.querySelectorAll("[data-field]").forEach(function (element) {
      var value = data[element.getAttribute("data-field")];
      if (value !== undefined && value !== null) { element.textContent = String(value); }
    });
    if (stop && data.cancelling) { stop.hidden = true; }
    if (bar && data.total_rows) {
      bar.max = data.total_rows;
      bar.value = data.rows_done;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        show(data);
        if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 2000);
}());
