// Session page: curves of any length (downsampled by the API to about 2,000 points a figure),
// a zoom re-reads its range whole, live epochs and batch losses append, a reconnect reads only
// what it missed (metrics?after=last epoch).
(function () {
  const D = JSON.parse(document.getElementById("session-data").textContent);
  const S = window.pdSeries;
  const CHARTS = {
    "loss-chart": { keys: D.loss_keys, title: "Loss per epoch", y: "loss" },
    "quality-chart": { keys: D.quality_keys, title: "Validation quality per epoch", y: "" },
    "usage-chart": { keys: ["rss_bytes", "cpu_percent", "gpu_bytes"], title: "Training process per epoch", y: "memory (MB)" },
  };
  const ALL_KEYS = Object.values(CHARTS).flatMap((c) => c.keys);
  const layout = (title, y, extra) => ({
    title: { text: title }, height: 340, margin: { l: 55, r: 45, t: 40, b: 70 },
    xaxis: { title: { text: "epoch" } }, yaxis: { title: { text: y } },
    legend: { orientation: "h", y: -0.32 }, ...extra,
  });
  const USAGE_LABELS = { rss_bytes: "memory (MB)", gpu_bytes: "GPU memory (MB)", cpu_percent: "CPU %" };
  const MB = (k, y) => (k.endsWith("_bytes") && y !== null ? y / 1048576 : y);
  let lastEpoch = D.last || 0;
  let lastStep = D.steps && D.steps.step.length ? D.steps.step[D.steps.step.length - 1] : 0;
  let zoom = null; // [lo, hi] while the user looks at a range
  let syncing = false;
  window.pdDrawn = {}; // epoch -> Date.now() when its point was drawn (benchmarks read it)

  function traces(chart, series) {
    // GPU memory only where a run has it; the rest get a trace that live epochs can extend.
    return CHARTS[chart].keys.filter((k) => series[k] || k !== "gpu_bytes").map((k) => {
      const s = series[k] || { x: [], y: [] };
      return {
        x: s.x, y: s.y.map((y) => MB(k, y)), name: USAGE_LABELS[k] || S.label(k), meta: k, mode: "lines",
        yaxis: k === "cpu_percent" ? "y2" : "y",
      };
    });
  }

  function markers() {
    const shapes = [], notes = [];
    const mark = (x, text, colour) => {
      shapes.push({ type: "line", x0: x, x1: x, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: colour } });
      notes.push({ x, yref: "paper", y: 1, text, showarrow: false, yanchor: "bottom", font: { color: colour } });
    };
    if (D.best_epoch) mark(D.best_epoch, `best ${D.best_epoch}`, "#1a7f37");
    if (D.early_stop_epoch) mark(D.early_stop_epoch, "early stop", "#b35900");
    return { shapes, annotations: notes };
  }

  function draw(chart, series, range) {
    const c = CHARTS[chart];
    const extra = chart === "loss-chart" ? { ...markers(), yaxis: { title: { text: "loss" }, type: logY() ? "log" : "linear" } } : {};
    if (chart === "usage-chart") extra.yaxis2 = { title: { text: "CPU %" }, overlaying: "y", side: "right", rangemode: "tozero" };
    const lay = layout(c.title, c.y, extra);
    if (range) lay.xaxis.range = range;
    return Plotly.react(chart, traces(chart, series), lay, { responsive: true, displaylogo: false });
  }

  const logY = () => document.getElementById("log-y").checked;
  function showResolution(resolution) {
    document.getElementById("resolution").textContent =
      resolution > 1 ? `each point summarises up to ${resolution} epochs; zoom in for every epoch` : "every epoch";
  }

  async function drawAll(series, range) {
    syncing = true;
    try { for (const chart of Object.keys(CHARTS)) await draw(chart, series, range); } finally { syncing = false; }
  }

  async function loadRange(lo, hi) {
    const body = await S.range(D.id, { lo, hi, keys: ALL_KEYS });
    zoom = lo === null ? null : [lo, hi];
    showResolution(body.resolution);
    await drawAll(body.series, zoom);
    if (body.last) lastEpoch = Math.max(lastEpoch, body.last);
    document.body.dataset.loaded = `${body.from}-${body.to}@${body.resolution}`;
  }

  function onZoom(ev) {
    if (syncing) return;
    if (ev["xaxis.autorange"]) { loadRange(null, null); return; }
    const lo = ev["xaxis.range[0]"], hi = ev["xaxis.range[1]"];
    if (lo !== undefined && hi !== undefined) loadRange(Math.max(1, Math.floor(lo)), Math.max(1, Math.ceil(hi)));
  }

  // Live epochs are drawn once per frame: every epoch that arrived since the last frame goes into
  // one extendTraces of the loss chart (a busy or backgrounded page catches up in one redraw
  // instead of queueing one per epoch). The quality and usage charts follow at most once a second.
  const pending = [];
  const later = [];
  let frameQueued = false, laterAt = 0, laterTimer = null;
  const SECONDARY_MS = 1000;

  function addEpoch(row) {
    if (row.epoch <= lastEpoch) return; // already drawn (reconnect replay)
    lastEpoch = row.epoch;
    pending.push(row);
    if (!frameQueued) { frameQueued = true; requestAnimationFrame(flushEpochs); }
  }

  function extend(chart, rows) {
    const el = document.getElementById(chart);
    const idx = [], xs = [], ys = [];
    (el.data || []).forEach((t, i) => {
      const have = rows.filter((r) => r.values[t.meta] !== undefined && r.values[t.meta] !== null);
      if (have.length) { idx.push(i); xs.push(have.map((r) => r.epoch)); ys.push(have.map((r) => MB(t.meta, r.values[t.meta]))); }
    });
    if (idx.length) Plotly.extendTraces(el, { x: xs, y: ys }, idx);
  }

  function flushLater() {
    laterTimer = null;
    laterAt = Date.now();
    const rows = later.splice(0);
    extend("quality-chart", rows);
    extend("usage-chart", rows);
  }

  function flushEpochs() {
    frameQueued = false;
    const rows = pending.splice(0).map((row) => ({
      ...row, values: { ...(row.metrics || {}), rss_bytes: row.rss_bytes, cpu_percent: row.cpu_percent, gpu_bytes: row.gpu_bytes },
    }));
    if (!rows.length) return;
    const shown = zoom ? rows.filter((r) => r.epoch <= zoom[1]) : rows;
    if (shown.length) {
      extend("loss-chart", shown);
      later.push(...shown);
      if (!laterTimer) laterTimer = setTimeout(flushLater, Math.max(0, laterAt + SECONDARY_MS - Date.now()));
    }
    const now = Date.now();
    rows.forEach((r) => { window.pdDrawn[r.epoch] = now; }); // the loss chart holds them (benchmarks read this)
    const best = rows.filter((r) => r.is_best).pop();
    if (best) { D.best_epoch = best.epoch; document.getElementById("best").textContent = `${best.epoch} (val loss ${best.val_loss.toFixed(5)})`; }
    const row = rows[rows.length - 1];
    document.getElementById("epoch").textContent = row.epoch;
    D.epoch = row.epoch;
    D.last_elapsed_s = row.elapsed_s;
    progress();
    const body = document.querySelector("#epoch-metrics tbody");
    body.replaceChildren(...Object.entries(row.metrics || {}).map(([k, v]) => {
      const tr = document.createElement("tr");
      tr.append(document.createElement("th"), document.createElement("td"));
      tr.children[0].textContent = k;
      tr.children[1].textContent = typeof v === "number" ? v.toFixed(5) : v;
      return tr;
    }));
  }

  function addStep(e) {
    if (e.global_step <= lastStep) return;
    lastStep = e.global_step;
    Plotly.extendTraces("step-chart", { x: [[e.global_step]], y: [[e.loss]] }, [0]);
  }

  function drawSteps(steps) {
    const lay = layout("Batch loss within epochs", "loss", { xaxis: { title: { text: "step (batches from the start)" } } });
    if (logY()) lay.yaxis.type = "log";
    const s = steps || { step: [], loss: [] };
    return Plotly.react("step-chart", [{ x: s.step, y: s.loss, name: "batch loss", mode: "lines" }], lay, { responsive: true, displaylogo: false });
  }

  function progress() {
    const bar = document.getElementById("progress");
    bar.value = D.epoch;
    bar.max = D.epochs;
    const eta = document.getElementById("eta");
    if (D.finished || !D.epoch || !D.last_elapsed_s) { eta.textContent = D.finished ? "" : "ETA after the first epoch"; }
    else {
      const s = Math.round((D.last_elapsed_s / D.epoch) * (D.epochs - D.epoch));
      eta.textContent = `ETA ${fmt(s)} at most (early stopping may end it sooner)`;
    }
    const start = D.started_at && Date.parse(D.started_at);
    const end = D.finished_at ? Date.parse(D.finished_at) : (D.finished ? null : Date.now());
    document.getElementById("duration").textContent = start && end ? fmt(Math.round((end - start) / 1000)) : "-";
  }
  const fmt = (s) => (s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

  function setStatus(status) {
    const el = document.getElementById("status");
    el.textContent = status;
    el.className = "status status-" + status;
    if (["succeeded", "failed", "stopped"].includes(status)) {
      const stop = document.getElementById("stop");
      if (stop) stop.remove();
      // Reload once to show the registered version, test metrics and confusion matrix.
      if (!D.finished) { D.finished = true; setTimeout(() => location.reload(), 300); }
    }
  }

  async function catchUp() {
    let more = true;
    while (more) {
      const body = await S.after(D.id, lastEpoch);
      body.epochs.forEach(addEpoch);
      more = body.more && body.epochs.length > 0;
      setStatus(body.status);
    }
    const st = await S.steps(D.id, { after: lastStep });
    st.step.forEach((s, i) => addStep({ global_step: s, loss: st.loss[i] }));
  }

  // Draw what the server rendered, then listen.
  showResolution(D.resolution);
  progress();
  // The server-rendered page (summary, tables, log) is painted first; the charts follow a frame
  // later, so a long run's page can be read while Plotly draws.
  const painted = new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const drawn = painted.then(() => Promise.all([drawAll(D.series, null), drawSteps(D.steps)])).then(() => {
    for (const chart of Object.keys(CHARTS)) document.getElementById(chart).on("plotly_relayout", onZoom);
    document.body.dataset.loaded = `${D.first}-${D.last}@${D.resolution}`;
  });
  document.getElementById("reset-zoom").addEventListener("click", () => loadRange(null, null));
  document.getElementById("log-y").addEventListener("change", () => {
    const type = logY() ? "log" : "linear";
    Plotly.relayout("loss-chart", { "yaxis.type": type });
    Plotly.relayout("step-chart", { "yaxis.type": type });
  });
  const confusion = document.getElementById("confusion-fig");
  if (confusion) { const f = JSON.parse(confusion.textContent); Plotly.newPlot("confusion-chart", f.data, f.layout); }
  // Label each confusion-matrix row with its class (the header row holds them in order).
  const classes = Array.from(document.querySelectorAll("#confusion-table thead th")).slice(1);
  document.querySelectorAll("#confusion-table tbody th").forEach((th, i) => { if (classes[i]) th.textContent = classes[i].textContent; });

  const stop = document.getElementById("stop");
  if (stop) stop.addEventListener("click", async () => {
    stop.disabled = true;
    await fetch(`/api/v1/neural/train/${D.id}`, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": window.PD_CSRF } });
  });

  const form = document.getElementById("annotate");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const tags = document.getElementById("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    const res = await fetch(`/api/v1/neural/train/${D.id}`, {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.PD_CSRF },
      body: JSON.stringify({ tags, notes: document.getElementById("notes").value }),
    });
    const body = await res.json();
    document.getElementById("annotate-said").textContent = res.ok ? "saved" : `not saved: ${Object.entries(body.fields || {}).map(([k, v]) => `${k}: ${v}`).join("; ") || body.error}`;
  });

  const log = document.getElementById("log");
  // One text node a line (textContent += re-laid out the whole log on every line); past LOG_KEEP
  // the oldest go (the first node is the block the server rendered).
  const LOG_KEEP = 400;
  function appendLog(e) {
    log.append(`${e.at.slice(11, 19)} ${e.level} ${e.message}\n`);
    if (log.childNodes.length > LOG_KEEP) log.firstChild.remove();
  }
  drawn.then(() => pdLive(`/ws/sessions/${D.id}/`, {
    onOpen: catchUp,
    "training.epoch": addEpoch,
    "training.step": addStep,
    "training.status": (e) => { document.getElementById("epoch").textContent = e.epoch; setStatus(e.status); },
    "training.log": appendLog,
  }));
})();
