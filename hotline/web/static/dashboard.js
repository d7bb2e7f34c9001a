// Draws the dashboard's charts from the JSON block on the page; the tables carry the same
// figures for readers without JavaScript or a screen.
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block || typeof echarts === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var percent = function (v) { return v === null ? null : Math.round(v * 1000) / 10; };
  var tooltip = { trigger: "axis", renderMode: "richText" };  // no inline HTML: strict CSP
  var charts = [];

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  draw("chart-ranking", {
    tooltip: tooltip,
    legend: { data: ["响应率", "解决率", "满意率"] },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, data: data.ranking.map(function (r) { return r.name; }) },
    series: [
      { name: "响应率", type: "bar", data: data.ranking.map(function (r) { return percent(r.response); }) },
      { name: "解决率", type: "bar", data: data.ranking.map(function (r) { return percent(r.resolution); }) },
      { name: "满意率", type: "bar", data: data.ranking.map(function (r) { return percent(r.satisfaction); }) }
    ]
  });

  var categories = Object.keys(data.volume);
  draw("chart-volume", {
    tooltip: tooltip,
    legend: { type: "scroll", data: categories },
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.weeks },
    yAxis: { type: "value", minInterval: 1 },
    series: categories.map(function (name) {
      return { name: name, type: "bar", stack: "total",
               data: data.weeks.map(function (w) { return data.volume[name][w] || 0; }) };
    })
  });

  draw("chart-trend", {
    tooltip: tooltip,
    grid: { left: 8, right: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.trend.map(function (t) { return t.week; }) },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ name: "按时办结率", type: "line", connectNulls: true,
               data: data.trend.map(function (t) { return percent(t.rate); }) }]
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
