// Progressive enhancement for 接听登记 (console/call.html): while the operator types the
// caller's number or the complaint, post the form as "查来电记录与相似工单" does (step=check,
// same endpoint, same page) and swap in its two lookup sections. Without this script the
// button does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("call-form");
  if (!form || !window.fetch || !window.DOMParser) { return; }
  var state = document.getElementById("lookup-state");
  var watched = ["reporter_phone", "description", "address", "category"];
  var timer = null;
  var sent = 0;
  var lastQuery = "";

  function worthAsking() {
    var phone = (form.elements.reporter_phone.value || "").replace(/\D/g, "");
    var text = (form.elements.description.value || "").trim();
    return phone.length >= 7 || text.length >= 5;
  }

  function lookUp() {
    if (!worthAsking()) { return; }
    var body = new FormData(form);
    body.set("step", "check");
    var query = watched.map(function (name) { return body.get(name) || ""; }).join("\u0001");
    if (query === lastQuery) { return; }
    lastQuery = query;
    var mine = ++sent;
    state.textContent = "正在查询来电记录与相似工单…";
    fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine !== sent) { return; }  // a later lookup is on its way
      var page = new DOMParser().parseFromString(html, "text/html");
      ["duplicates", "earlier", "earlier-note"].forEach(function (id) {
        var fresh = page.getElementById(id);
        var here = document.getElementById(id);
        if (fresh && here) { here.innerHTML = fresh.innerHTML; }
      });
      var found = document.querySelectorAll("#duplicates li").length;
      state.textContent = found ? "发现 " + found + " 件可能相同的工单" : "已更新来电记录与相似工单";
    }).catch(function () {
      state.textContent = "暂时无法自动查询，可点“查来电记录与相似工单”";
    });
  }

  watched.forEach(function (name) {
    var field = form.elements[name];
    if (!field) { return; }
    field.addEventListener(field.tagName === "SELECT" ? "change" : "input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookUp, 500);
    });
  });
})();
