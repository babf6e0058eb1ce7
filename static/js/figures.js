// Stored figures: every element with data-figure="<json_script id>" is drawn with Plotly.
(function () {
  document.querySelectorAll("[data-figure]").forEach((el) => {
    const fig = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    Plotly.newPlot(el, fig.data, window.pdThemeLayout(fig.layout), { displaylogo: false, responsive: true });
  });
})();
