// Model page: draw the stored confusion matrix (rendered server-side as Plotly JSON).
(function () {
  const data = document.getElementById("confusion-data");
  const target = document.getElementById("confusion-chart");
  if (!data || !target || !window.Plotly) return;
  const fig = JSON.parse(JSON.parse(data.textContent));
  window.Plotly.newPlot(target, fig.data, fig.layout, { displaylogo: false, responsive: true });
})();
