// Progressive enhancement for photo fields: say at once when a chosen photo is over the
// limit or there are too many, before minutes of uploading on a phone. Without this
// script the server says the same, next to the field, with the rest of the form kept.
(function () {
  "use strict";
  function check(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var count = parseInt(input.getAttribute("data-max-files"), 10);
    var label = input.getAttribute("data-max-label");
    var problems = [];
    var files = input.files || [];
    if (count && files.length > count) {
      problems.push("最多上传 " + count + " 张照片，您选择了 " + files.length + " 张");
    }
    for (var i = 0; i < files.length; i++) {
      if (max && files[i].size > max) {
        var mb = (files[i].size / 1048576).toFixed(1);
        problems.push("“" + files[i].name + "”有 " + mb + " MB，每张照片不能超过 " + label +
                      "，请压缩或换一张");
      }
    }
    var note = document.getElementById(input.id + "-check");
    if (!note) {
      note = document.createElement("p");
      note.id = input.id + "-check";
      note.className = "error";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = problems.join("；");
    note.hidden = problems.length === 0;
    input.setAttribute("aria-invalid", problems.length ? "true" : "false");
    if (problems.length) {
      input.setAttribute("aria-describedby", note.id);
    }
    return problems.length === 0;
  }
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () { check(input); });
    if (input.form) {
      input.form.addEventListener("submit", function (event) {
        if (!check(input)) {
          event.preventDefault();
          input.focus();
        }
      });
    }
  });
})();
