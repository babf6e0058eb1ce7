// Overview ("/") and Monitoring: start a training from the form (every option); session statuses,
// alerts, accuracy and drift update live over /ws/dashboard/. Monitoring events make the page
// re-read /monitoring/summary.json (the database is the truth; the socket only says "changed").
(function () {
  const csrfCookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrf = csrfCookie ? csrfCookie.split("=")[1] : "";
  const DAY_MS = 86400000;

  const form = document.getElementById("train-form");
  if (form) {
    const dataset = document.getElementById("train-dataset");
    const pattern = document.getElementById("train-pattern");
    const follow = () => { const p = dataset.selectedOptions[0]?.dataset.pattern; if (p) pattern.value = p; };
    dataset.addEventListener("change", follow);
    follow();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const error = document.getElementById("train-error");
      let config;
      try { config = changedOptions(form); } catch (e) { error.textContent = e.message; return; }
      const data = Object.fromEntries(new FormData(form));
      const body = { training_data: data.training_data, pattern_type: data.pattern_type, config };
      if (config.epochs !== undefined) { body.epochs = config.epochs; delete config.epochs; }
      if (data.model_name) body.model_name = data.model_name;
      if (data.session_name) body.session_name = data.session_name;
      // "default" is what training without a preset trains: only the others are sent.
      if (data.preset && data.preset !== "default") config.preset = data.preset;
      const res = await fetch("/api/v1/neural/train", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
      const out = await res.json();
      // preset best: an ensemble job whose member sessions are the runs of "<model>-members".
      if (res.status === 202 && out.ensemble_job_id) { location.href = `/sessions/?model=${encodeURIComponent(out.sessions[0].model_name)}`; return; }
      if (res.status === 202) { location.href = `/sessions/${out.session_id}/`; return; }
      // The fields the error does not already name (it usually names the first one itself).
      const fields = Object.entries(out.fields || {}).filter(([, v]) => v !== out.error).map(([k, v]) => `${k}: ${v}`);
      error.textContent = (out.error || `failed (${res.status})`) + (fields.length ? ` (${fields.join("; ")})` : "");
    });
  }

  // Only the options the user changed go to the API: the rest keep the engine's defaults
  // (and the task defaults for the options left empty).
  function changedOptions(root) {
    const config = {};
    root.querySelectorAll("[data-option]").forEach((el) => {
      const name = el.dataset.option, kind = el.dataset.kind;
      if (kind === "bool") { if (String(el.checked) !== el.dataset.default) config[name] = el.checked; return; }
      const raw = el.value.trim();
      if (raw === el.dataset.default) return;
      if (raw === "") { config[name] = null; return; }
      if (kind === "choice") config[name] = raw;
      else if (kind === "list") config[name] = raw.split(",").map((s) => wholeNumber(s.trim(), name));
      else if (kind === "int") config[name] = wholeNumber(raw, name);
      else { const n = Number(raw); if (!Number.isFinite(n)) throw new Error(`${name} must be a number`); config[name] = n; }
    });
    return config;
  }
  function wholeNumber(raw, name) {
    if (!/^-?\d+$/.test(raw)) throw new Error(`${name} must be whole numbers`);
    return Number(raw);
  }

  function text(tag, value) { const el = document.createElement(tag); el.textContent = value == null ? "" : value; return el; }

  function renderAlerts(alerts) {
    const body = document.querySelector("#alerts tbody");
    if (!body) return;
    body.replaceChildren();
    if (!alerts.length) { const tr = document.createElement("tr"); tr.className = "empty"; const td = text("td", "No open alerts."); td.colSpan = 7; tr.append(td); body.append(tr); return; }
    for (const a of alerts) {
      const tr = document.createElement("tr");
      tr.dataset.alert = a.id;
      const status = text("span", a.status); status.className = "status status-" + a.status; status.dataset.field = "status";
      const st = document.createElement("td"); st.append(status);
      const msg = text("td", a.message); msg.dataset.field = "message";
      const model = document.createElement("td"); const link = text("a", a.model); link.href = `/models/${encodeURIComponent(a.model)}/`; model.append(link);
      const act = document.createElement("td");
      if (a.status === "firing") { const b = text("button", "Acknowledge"); b.className = "ack"; b.dataset.alert = a.id; act.append(b); }
      tr.append(text("td", a.id), model, text("td", a.rule), st, msg, text("td", (a.fired_at || "").slice(0, 19)), act);
      body.append(tr);
    }
  }

  function renderRunning(trainings) {
    const ul = document.getElementById("running");
    if (!ul) return;
    ul.replaceChildren();
    if (!trainings.length) { const li = text("li", "None running."); li.className = "empty"; ul.append(li); return; }
    for (const t of trainings) {
      const li = document.createElement("li"); li.dataset.session = t.id;
      const a = text("a", `session ${t.id}`); a.href = `/sessions/${t.id}/`;
      li.append(a, ` ${t.model_name} (${t.status}, epoch ${t.epoch}/${t.epochs})`);
      ul.append(li);
    }
  }

  function layout(title, extra) {
    return window.pdThemeLayout(Object.assign({
      title: { text: title }, height: 300, margin: { l: 50, r: 10, t: 40, b: 50 },
      legend: { orientation: "h", y: -0.25 },
    }, extra));
  }
  function emptyState(el, message) { el.replaceChildren(text("p", message)); el.firstChild.className = "empty-state"; }
  // Daily buckets: the x range spans whole days around the points, one tick a day, so a single
  // point reads "Nov 30", not "23:59:59.9995"; the target line spans the same range.
  function dayRange(x) {
    const t = x.map((s) => Date.parse(s));
    return [new Date(Math.min(...t) - DAY_MS / 2).toISOString(), new Date(Math.max(...t) + DAY_MS / 2).toISOString()];
  }

  function renderModels(models) {
    const root = document.getElementById("model-monitoring");
    if (!root || !window.Plotly) return;
    if (!models.length) { emptyState(root, "No active models yet: a training that succeeds registers and activates one."); return; }
    root.replaceChildren();
    for (const m of models) {
      const box = document.createElement("div"); box.className = "grid";
      const acc = document.createElement("div"); const heat = document.createElement("div");
      acc.setAttribute("role", "img"); heat.setAttribute("role", "img");
      box.append(acc, heat); root.append(text("h3", `${m.name} ${m.version} (${m.pattern})`), box);
      drawAccuracy(acc, m);
      drawDrift(heat, m);
    }
  }

  function drawAccuracy(el, m) {
    const mine = m.trend.filter((b) => b.version === m.version);
    el.setAttribute("aria-label", `Live accuracy per day of ${m.name}` + (m.accuracy != null ? `, ${m.accuracy.toFixed(3)} over the period` : ""));
    if (!mine.length) { emptyState(el, `No predictions for ${m.name} ${m.version} in the last 14 days: live accuracy appears when predictions get feedback labels.`); return; }
    const x = mine.map((b) => b.start);
    const range = dayRange(x);
    const traces = [
      { x, y: mine.map((b) => b.accuracy), name: "live accuracy (feedback)", mode: "lines+markers" },
      { x, y: mine.map((b) => b.estimated_accuracy), name: "estimated accuracy", mode: "lines+markers", line: { dash: "dot" } },
    ];
    if (m.target != null) traces.push({ x: range, y: [m.target, m.target], name: `target ${m.target}`, mode: "lines", line: { color: "#c2362f", dash: "dash" }, hoverinfo: "name" });
    Plotly.react(el, traces, layout("Live accuracy per day", {
      yaxis: { range: [0, 1], title: { text: "accuracy" } },
      xaxis: { type: "date", range, dtick: DAY_MS, tickformat: "%b %d" },
    }), { displaylogo: false, responsive: true });
  }

  function drawDrift(el, m) {
    el.setAttribute("aria-label", `Drift per feature of ${m.name}` + (m.drift_score != null ? `, latest score ${m.drift_score.toFixed(3)}` : ""));
    const features = m.drift.length ? Object.keys(m.drift[m.drift.length - 1].features) : [];
    if (!features.length) { emptyState(el, `No drift reports for ${m.name} ${m.version} yet: they are computed from recent predictions on a schedule.`); return; }
    const z = features.map((f) => m.drift.map((d) => d.features[f] ?? null));
    const high = Math.max(0.25, ...z.flat().filter((v) => v != null));
    Plotly.react(el, [{
      // One column per check, labelled to the second (a time axis over a few checks made ticks
      // like "10:21:07.3452").
      type: "heatmap", x: m.drift.map((d) => d.window_end.slice(0, 19).replace("T", " ")), y: features, z, zmin: 0, zmax: high,
      // Light for no drift, dark for high PSI (explicit stops: no named scale to read backwards).
      colorscale: [[0, "#fff7ec"], [0.25, "#fdd49e"], [0.5, "#fc8d59"], [0.75, "#d7301f"], [1, "#7f0000"]],
      colorbar: { title: { text: "PSI" } }, hovertemplate: "%{y}: PSI %{z:.3f}<extra>%{x}</extra>",
    }], layout("Drift (PSI) per feature", { margin: { l: 120, r: 10, t: 40, b: 50 }, xaxis: { type: "category", title: { text: "check (window end, UTC)" } } }), { displaylogo: false, responsive: true });
  }

  // Events come in bursts (a label, then the alert it fires) and answers can arrive out of order:
  // an answer to an older request than the one last drawn is dropped, or it would undo newer state.
  let asked = 0;
  let drawn = 0;
  async function refresh() {
    const mine = ++asked;
    const res = await fetch("/monitoring/summary.json", { credentials: "same-origin" });
    if (!res.ok) return;
    const s = await res.json();
    if (mine < drawn) return;
    drawn = mine;
    renderAlerts(s.alerts); renderRunning(s.trainings); renderModels(s.models);
  }

  const alertsTable = document.getElementById("alerts");
  if (alertsTable) alertsTable.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button.ack");
    if (!button) return;
    button.disabled = true;
    await fetch(`/api/v1/neural/alerts/${button.dataset.alert}/acknowledge`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf },
    });
    refresh();
  });

  const initial = document.getElementById("monitoring-summary");
  if (initial) renderModels(JSON.parse(initial.textContent).models);

  pdLive("/ws/dashboard/", {
    onOpen: refresh,
    "training.status": (e) => {
      const row = document.querySelector(`tr[data-session="${e.session_id}"]`);
      if (row) {
        const status = row.querySelector('[data-field="status"]');
        status.textContent = e.status;
        status.className = "status status-" + e.status;
        row.querySelector('[data-field="epoch"]').textContent = `${e.epoch}/${e.epochs}`;
      }
      refresh();
    },
    "monitoring.alert": refresh,
    "monitoring.accuracy": refresh,
    "monitoring.drift": refresh,
    "registry.activated": (e) => { if (window.pdActivated) window.pdActivated(e); refresh(); },
  });
})();
