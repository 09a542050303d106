// huabei's own page script (not vendored): draws every <canvas data-chart='{chart.js config}'>.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas[data-chart]").forEach(function (el) {
    new Chart(el, JSON.parse(el.dataset.chart));
    el.dataset.drawn = "yes";
  });
});
