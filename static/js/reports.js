// Report charts: the data comes from the page's json_script tag (id "report-charts"), so no
// inline script is needed and a strict CSP holds. Chart.js is vendored (static/vendor).
(function () {
  "use strict";
  var COLOURS = {
    committed_procore: "#1f5fbf", committed_erp: "#8fb0e0",
    billed_procore: "#1e7a34", billed_erp: "#94c9a0",
    paid_procore: "#8a5a00", paid_erp: "#e0bf80",
    committed: "#1f5fbf", billed: "#1e7a34", paid: "#8a5a00", retained: "#7b3fa0"
  };
  var LABELS = {
    committed_procore: "Committed (Procore)", committed_erp: "Committed (ERP)",
    billed_procore: "Billed (Procore)", billed_erp: "Billed (ERP)",
    paid_procore: "Paid (Procore)", paid_erp: "Paid (ERP)",
    committed: "Committed", billed: "Billed", paid: "Paid", retained: "Retainage held"
  };
  var charts = [];

  function datasets(series, kind) {
    return Object.keys(series).map(function (key) {
      return {
        label: LABELS[key] || key,
        data: series[key].map(Number),
        backgroundColor: COLOURS[key],
        borderColor: COLOURS[key],
        fill: false,
        tension: 0.2,
        type: kind
      };
    });
  }

  function draw() {
    var source = document.getElementById("report-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var group = data[canvas.dataset.chart] || {};
      var chart = group[canvas.dataset.currency];
      if (!chart) { return; }
      var kind = canvas.dataset.chart === "history" ? "line" : "bar";
      charts.push(new window.Chart(canvas, {
        type: kind,
        data: { labels: chart.labels, datasets: datasets(chart.series, kind) },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: { legend: { position: "bottom" } },
          scales: { y: { beginAtZero: true, title: { display: true, text: canvas.dataset.currency } } }
        }
      }));
    });
  }

  // Printing: redraw at the paper's width so the bars are not cut or blurred.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
