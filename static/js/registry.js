// Model pages: draw the stored confusion matrix; ask before activating a version that scores
// worse than the active one (the form says by how much); follow activations live.
(function () {
  const data = document.getElementById("confusion-data");
  const target = document.getElementById("confusion-chart");
  if (data && target && window.Plotly) {
    const fig = JSON.parse(JSON.parse(data.textContent));
    window.Plotly.newPlot(target, fig.data, window.pdThemeLayout(fig.layout), { displaylogo: false, responsive: true });
  }

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
      const yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
      form.append(yes);
    });
  });

  // registry.activated: the active version of a model changed (here or in another tab, the
  // admin, the CLI). A model's own page reloads (everything on it depends on which version is
  // active); the models list updates the row in place and says what happened.
  window.pdActivated = function (e) {
    const announce = document.getElementById("announce");
    const from = e.from_version ? ` (was ${e.from_version})` : "";
    if (announce) announce.textContent = `${e.model}: ${e.version} is now active${from}.`;
    const page = document.querySelector("#accuracy[data-model]");
    if (page && page.dataset.model === e.model) { location.reload(); return; }
    const row = document.querySelector(`tr[data-model="${CSS.escape(e.model)}"]`);
    if (!row) return;
    const fmt = (v) => (typeof v === "number" ? v.toFixed(3) : "–");
    row.querySelector('[data-field="active"]').textContent = e.version;
    row.querySelector('[data-field="validation"]').textContent = fmt(e.validation_accuracy);
    row.querySelector('[data-field="test"]').textContent = fmt(e.test_accuracy);
    // Live accuracy and the target check were the old version's: the reload shows the new one's.
    row.querySelector('[data-field="live"]').textContent = "reload to see";
    row.querySelector('[data-field="meets"]').textContent = "";
  };
  // The overview and monitoring pages have their own /ws/dashboard/ socket and call pdActivated.
  if (document.getElementById("announce") && window.pdLive && !document.getElementById("monitoring-summary")) {
    pdLive("/ws/dashboard/", { "registry.activated": window.pdActivated });
  }
})();
