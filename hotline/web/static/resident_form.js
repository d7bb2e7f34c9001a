// The complaint form, enhanced: focus on the first error, a live character counter, a submit
// button that cannot be tapped twice, "使用我的位置" and "附近已有市民反映过". Without this
// script the form posts the same fields and the server says everything there is to say.
(function () {
  "use strict";
  var form = document.getElementById("report");
  if (!form) { return; }
  var button = document.getElementById("submit");
  var idle = button.textContent;

  // Every error is listed at once; the first field to fix gets the focus.
  var first = form.querySelector("[aria-invalid=true]");
  if (first && document.getElementById("error-summary")) { first.focus(); }

  // The counter: nothing is cut, so say how far over the limit the text is.
  var text = document.getElementById("description");
  var counter = document.getElementById("description-count");
  var max = parseInt(text.getAttribute("data-max"), 10);
  function count() {
    var used = text.value.trim().length;
    var over = used > max;
    counter.textContent = over
      ? "已输入 " + used + "/" + max + " 字，超出 " + (used - max) + " 字，请删减后再提交"
      : "已输入 " + used + "/" + max + " 字";
    counter.className = over ? "error counter" : "hint counter";
    // Announced once when crossing the limit, not at every keystroke.
    if (over !== counter.hasAttribute("role")) {
      if (over) { counter.setAttribute("role", "alert"); } else { counter.removeAttribute("role"); }
    }
    return !over;
  }
  text.addEventListener("input", count);
  count();

  form.addEventListener("submit", function (event) {
    if (!count()) {
      event.preventDefault();
      text.setAttribute("aria-invalid", "true");
      text.focus();
    }
    if (event.defaultPrevented) { return; }  // photos.js found a photo too big
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {  // back from the next page, out of the browser's cache
      button.disabled = false;
      button.textContent = idle;
    }
  });

  // Where: the nearest known place to the phone's position, offered to confirm.
  var address = document.getElementById("address");
  var locate = document.getElementById("locate");
  var result = document.getElementById("locate-result");
  if (navigator.geolocation && window.fetch) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      result.textContent = "正在获取您的位置…";
      navigator.geolocation.getCurrentPosition(function (position) {
        var lat = position.coords.latitude.toFixed(6);
        var lng = position.coords.longitude.toFixed(6);
        document.getElementById("latitude").value = lat;
        document.getElementById("longitude").value = lng;
        fetch(form.getAttribute("data-nearest") + "?lat=" + lat + "&lng=" + lng)
          .then(function (response) { return response.json(); })
          .then(function (data) { offer(data.place); })
          .catch(function () { offer(null); });
      }, function () {
        result.textContent = "无法获取您的位置，请直接填写发生地点。";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
  function offer(place) {
    result.textContent = "";
    if (!place) {
      result.textContent = "已记录您的位置，附近没有已知地名，请在上方填写发生地点。";
      return;
    }
    result.appendChild(document.createTextNode("您是否在 " + place + " 附近？"));
    var use = document.createElement("button");
    use.type = "button";
    use.className = "secondary";
    use.textContent = "使用该地点";
    use.addEventListener("click", function () {
      address.value = place;
      result.textContent = "已填写：" + place;
      address.focus();
      similar();
    });
    result.appendChild(use);
  }

  // Already reported? Asked again whenever the kind or the place changes.
  var slot = document.getElementById("similar");
  var forms = document.getElementById("follow-forms");
  var category = document.getElementById("category");
  var phone = document.getElementById("reporter_phone");
  var asked = "";
  var timer = null;
  function similar() {
    if (!window.fetch || !window.DOMParser || !address.value.trim()) { return; }
    var query = "category=" + encodeURIComponent(category.value) +
                "&address=" + encodeURIComponent(address.value.trim()) +
                "&description=" + encodeURIComponent(text.value.slice(0, max));
    if (query === asked) { return; }
    asked = query;
    fetch(form.getAttribute("data-similar") + "?" + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (query !== asked) { return; }  // an answer to an older question
        // Parsed apart: the follow-up forms may not sit inside the complaint form.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var box = doc.querySelector(".similar");
        var own = doc.querySelector(".follow-forms");
        slot.textContent = "";
        forms.textContent = "";
        if (!box) { return; }
        if (own) { forms.appendChild(document.importNode(own, true)); }
        slot.appendChild(document.importNode(box, true));
        slot.querySelectorAll("input[type=tel]").forEach(function (input) {
          input.value = phone.value;
        });
      })
      .catch(function () {});
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(similar, 400);
  }
  category.addEventListener("change", similar);
  address.addEventListener("change", similar);
  address.addEventListener("input", soon);
  text.addEventListener("change", function () { if (!category.value) { similar(); } });
  similar();
})();
