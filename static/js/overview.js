// Overview: start a training from the form; session statuses, alerts, accuracy and drift update
// live over /ws/dashboard/. Monitoring events make the page re-read /monitoring/summary.json
// (the database is the truth; the socket only says "changed").
(function () {
  const form = document.getElementById("train-form");
  const csrfCookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrf = csrfCookie ? csrfCookie.split("=")[1] : "";
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const body = { training_data: data.training_data, pattern_type: data.pattern_type, epochs: Number(data.epochs) };
      if (data.model_name) body.model_name = data.model_name;
      const res = await fetch("/api/v1/neural/train", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
      const out = await res.json();
      if (res.status === 202) location.href = `/sessions/${out.session_id}/`;
      else document.getElementById("train-error").textContent = out.error;
    });
  }

  function text(tag, value) { const el = document.createElement(tag); el.textContent = value == null ? "" : value; return el; }

  function renderAlerts(alerts) {
    const body = document.querySelector("#alerts tbody");
    body.replaceChildren();
    if (!alerts.length) { const tr = document.createElement("tr"); tr.className = "empty"; tr.append(text("td", "No open alerts.")); body.append(tr); return; }
    for (const a of alerts) {
      const tr = document.createElement("tr");
      tr.dataset.alert = a.id;
      const status = text("span", a.status); status.className = "status status-" + a.status; status.dataset.field = "status";
      const st = document.createElement("td"); st.append(status);
      const msg = text("td", a.message); msg.dataset.field = "message";
      const act = document.createElement("td");
      if (a.status === "firing") { const b = text("button", "Acknowledge"); b.className = "ack"; b.dataset.alert = a.id; act.append(b); }
      tr.append(text("td", a.id), text("td", a.model), text("td", a.rule), st, msg, text("td", (a.fired_at || "").slice(0, 19)), act);
      body.append(tr);
    }
  }

  function renderRunning(trainings) {
    const ul = document.getElementById("running");
    ul.replaceChildren();
    if (!trainings.length) { const li = text("li", "None running."); li.className = "empty"; ul.append(li); return; }
    for (const t of trainings) {
      const li = document.createElement("li"); li.dataset.session = t.id;
      const a = text("a", `session ${t.id}`); a.href = `/sessions/${t.id}/`;
      li.append(a, ` ${t.model_name} (${t.status}, epoch ${t.epoch}/${t.epochs})`);
      ul.append(li);
    }
  }

  function renderModels(models) {
    const root = document.getElementById("model-monitoring");
    if (!window.Plotly || !models.length) return;
    root.replaceChildren();
    for (const m of models) {
      const box = document.createElement("div"); box.className = "grid";
      const acc = document.createElement("div"); const heat = document.createElement("div");
      box.append(acc, heat); root.append(text("h3", `${m.name} ${m.version} (${m.pattern})`), box);
      const mine = m.trend.filter((b) => b.version === m.version);
      const x = mine.map((b) => b.start);
      const traces = [
        { x, y: mine.map((b) => b.accuracy), name: "realised accuracy", mode: "lines+markers" },
        { x, y: mine.map((b) => b.estimated_accuracy), name: "estimated accuracy", mode: "lines+markers", line: { dash: "dot" } },
      ];
      if (m.target != null && x.length) traces.push({ x: [x[0], x[x.length - 1]], y: [m.target, m.target], name: "pattern target", mode: "lines", line: { color: "red" } });
      Plotly.react(acc, traces, { title: "Accuracy per day", height: 300, margin: { l: 40, r: 10, t: 40, b: 40 }, yaxis: { range: [0, 1] } });
      const features = m.drift.length ? Object.keys(m.drift[m.drift.length - 1].features) : [];
      Plotly.react(heat, [{
        type: "heatmap", x: m.drift.map((d) => d.window_end), y: features,
        z: features.map((f) => m.drift.map((d) => d.features[f])), colorscale: "YlOrRd", colorbar: { title: "PSI" },
      }], { title: "Drift (PSI) per feature", height: 300, margin: { l: 120, r: 10, t: 40, b: 40 } });
    }
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

  document.getElementById("alerts").addEventListener("click", async (ev) => {
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
  });
})();
