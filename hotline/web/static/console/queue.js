// Progressive enhancement for the dispatch queue (console/queue.html): "全选本页" and a count
// of the ticked tickets next to the bulk button. Without it every box is ticked by hand and
// the server says what it dispatched.
(function () {
  "use strict";
  var form = document.getElementById("queue-form");
  var count = document.getElementById("bulk-count");
  if (!form || !count) { return; }
  var boxes = form.querySelectorAll("input[name=ticket]");
  var list = form.querySelector(".queue-list");

  var all = document.createElement("label");
  all.className = "check select-all";
  var allBox = document.createElement("input");
  allBox.type = "checkbox";
  all.appendChild(allBox);
  all.appendChild(document.createTextNode(" 全选本页（" + boxes.length + " 件）"));
  list.parentNode.insertBefore(all, list);

  function update() {
    var ticked = 0;
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.checked) { ticked += 1; }
      box.closest(".q-item").classList.toggle("picked", box.checked);
    });
    count.textContent = ticked ? "已选 " + ticked + " 件" : "尚未勾选工单";
    allBox.checked = ticked > 0 && ticked === boxes.length;
    allBox.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  allBox.addEventListener("change", function () {
    Array.prototype.forEach.call(boxes, function (box) { box.checked = allBox.checked; });
    update();
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "ticket") { update(); }
  });
  update();
})();
