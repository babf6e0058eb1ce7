// Charts follow the page's colour scheme: pdThemeLayout(layout) returns the layout with the dark
// scheme's background and text colours when the system asks for dark (server-rendered figure
// JSON is built light).
window.pdThemeLayout = function (layout) {
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  if (!dark) return layout;
  return Object.assign({}, layout, {
    paper_bgcolor: "#18202b", plot_bgcolor: "#18202b",
    font: Object.assign({}, layout.font, { color: "#e4e9f0" }),
  });
};
