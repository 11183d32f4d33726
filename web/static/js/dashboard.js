// Home's charts: each <canvas data-chart='{"label", "labels", "values"}'> becomes a bar chart
// (Chart.js, served by ClaimPost itself from web/static/vendor/chartjs/).
(function () {
  'use strict';
  if (typeof window.Chart === 'undefined') { return; }
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var data = JSON.parse(canvas.dataset.chart);
    new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.labels,
        datasets: [{label: data.label, data: data.values, backgroundColor: '#007bff'}]
      },
      options: {
        animation: false,
        plugins: {legend: {display: false}},
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}}
      }
    });
  });
}());
