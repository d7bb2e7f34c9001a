// Draws the dashboard's charts from the JSON block on the page; the tables carry the same
// figures (and the same links) for readers without JavaScript or a screen. A click on a bar
// or a point opens the tickets behind it: the server put each one's search link in the data.
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block || typeof echarts === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var percent = function (v) { return v === null ? null : Math.round(v * 1000) / 10; };
  var tooltip = { trigger: "axis", renderMode: "richText" };  // no inline HTML: strict CSP
  // ECharts 6 puts the legend at the bottom, over the axis labels: keep it on top, plain (it
  // wraps onto more lines on a phone, every name in view, none behind a pager), and start the
  // grid below however many lines it takes; the grid holds the axis labels inside
  // (outerBounds replaces containLabel).
  function legendLines(names, width) {
    var lines = 1, x = 0;
    names.forEach(function (name) {
      var item = 25 + 5 + name.length * 13 + 12;  // key, gap, 12px characters, item gap
      if (x > 0 && x + item > width) { lines += 1; x = 0; }
      x += item;
    });
    return lines;
  }
  function legend(names, element) {
    var lines = legendLines(names, element.clientWidth - 24);
    return { legend: { type: "plain", top: 0, left: "center", itemGap: 12, data: names },
             grid: { top: 16 + lines * 24, left: 8, right: 16, bottom: 8,
                     outerBoundsMode: "same", outerBoundsContain: "axisLabel" } };
  }
  var grid = { top: 24, left: 8, right: 16, bottom: 8,
               outerBoundsMode: "same", outerBoundsContain: "axisLabel" };
  var charts = [];

  function narrow(element) { return element.clientWidth < 560; }

  function open(url) { if (url) { window.location.assign(url); } }

  function draw(id, build, onClick) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var chart = null;
    // build() may change the element's height: the canvas is made (or resized) after it, so
    // that the drawing fills the box it was given. No animation: the figures are there at
    // once, as in the table, and the same on every redraw.
    var render = function () {
      var option = Object.assign({ animation: false }, build(element));
      if (chart === null) {
        chart = echarts.init(element, null, { renderer: "canvas" });
        chart.on("click", onClick);
      } else {
        chart.resize();
      }
      chart.setOption(option, { notMerge: true });
    };
    render();
    charts.push(render);
  }

  var ranking = data.ranking;
  draw("chart-ranking", function (element) {
    var small = narrow(element);
    // Three bars per unit: give each unit the room its bars need (no style attribute: CSP).
    element.style.height = Math.max(240, ranking.names.length * (small ? 66 : 54) + 72) + "px";
    return Object.assign(legend(["响应率", "解决率", "满意率"], element), {
      tooltip: tooltip,
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: ranking.names, triggerEvent: true,
               // Long unit names wrap within a fixed width instead of squeezing the bars.
               axisLabel: { width: small ? 84 : 180, overflow: "break", lineHeight: 16 } },
      series: [["响应率", ranking.response], ["解决率", ranking.resolution],
               ["满意率", ranking.satisfaction]].map(function (s) {
        return { name: s[0], type: "bar", data: s[1].map(percent) };
      })
    });
  }, function (params) {
    var index = params.componentType === "yAxis"
      ? ranking.names.indexOf(params.value) : params.dataIndex;
    open(ranking.urls[index]);
  });

  var weeks = data.weeks;
  draw("chart-volume", function (element) {
    var names = data.volume.map(function (c) { return c.name; });
    return Object.assign(legend(names, element), {
      tooltip: tooltip,
      xAxis: { type: "category", data: weeks.map(function (w) { return w.label; }),
               axisLabel: { formatter: function (value, index) { return weeks[index].short; } } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.volume.map(function (c) {
        return { name: c.name, type: "bar", stack: "total", data: c.counts };
      })
    });
  }, function (params) {
    open(data.volume[params.seriesIndex].urls[params.dataIndex]);
  });

  draw("chart-trend", function () {
    return {
      tooltip: tooltip, grid: grid,
      xAxis: { type: "category", data: weeks.map(function (w) { return w.label; }),
               axisLabel: { formatter: function (value, index) { return weeks[index].short; } } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ name: "按时办结率", type: "line", connectNulls: true, showSymbol: true,
                 symbolSize: 10, data: data.trend.rates.map(percent) }]
    };
  }, function (params) {
    open(data.trend.urls[params.dataIndex]);
  });

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (render) { render(); });
    }, 150);
  });
})();
