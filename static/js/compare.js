// Compare page: one colour per run, the chosen figure by epoch, step or wall time, EMA
// smoothing and log-scale y; each run's curve is read downsampled from the metrics API.
(function () {
  const D = JSON.parse(document.getElementById("compare-data").textContent);
  const S = window.pdSeries;
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939"];
  const el = (id) => document.getElementById(id);
  const raw = {}; // run id -> {x, y, elapsed: {x, y}} of the last read
  document.querySelectorAll("[data-swatch]").forEach((s) => { s.style.background = COLOURS[+s.dataset.swatch % COLOURS.length]; });

  async function read(run, metric) {
    if (metric === "batch_loss") {
      const st = await S.steps(run.id, { max_points: 2000 });
      return { x: st.step, y: st.loss, elapsedAt: null, unit: "step" };
    }
    const body = await S.range(run.id, { keys: [metric, "elapsed_s"] });
    const s = body.series[metric] || { x: [], y: [] };
    return { x: s.x, y: s.y, elapsed: body.series.elapsed_s || { x: [], y: [] }, unit: "epoch" };
  }

  // Elapsed seconds at epoch e, linear between the stored (possibly downsampled) points.
  function elapsedAt(el, e) {
    const xs = el.x, ys = el.y;
    if (!xs.length) return null;
    let lo = 0, hi = xs.length - 1;
    if (e <= xs[0]) return ys[0];
    if (e >= xs[hi]) return ys[hi];
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (xs[mid] <= e) lo = mid; else hi = mid; }
    return ys[lo] + ((ys[hi] - ys[lo]) * (e - xs[lo])) / (xs[hi] - xs[lo]);
  }

  function xValues(run, got, axis) {
    if (axis === "epoch") return got.unit === "epoch" ? got.x : null;
    if (axis === "step") {
      if (got.unit === "step") return got.x;
      return run.steps_per_epoch ? got.x.map((e) => e * run.steps_per_epoch) : null;
    }
    // wall time: started_at + elapsed seconds at that point
    if (!run.started_at) return null;
    const t0 = Date.parse(run.started_at);
    if (got.unit === "step") return null;
    return got.x.map((e) => new Date(t0 + 1000 * elapsedAt(got.elapsed, e)).toISOString());
  }

  async function draw(reread) {
    const metric = el("metric").value, axis = el("x-axis").value, weight = +el("smoothing").value;
    el("smoothing-value").textContent = weight.toFixed(2);
    if (reread) await Promise.all(D.runs.map(async (r) => { raw[r.id] = await read(r, metric); }));
    const left = [];
    const traces = [];
    D.runs.forEach((run, i) => {
      const got = raw[run.id];
      const xs = xValues(run, got, axis);
      if (!xs) { left.push(run.label); return; }
      const colour = COLOURS[i % COLOURS.length];
      if (weight > 0) traces.push({ x: xs, y: got.y, name: run.label + " (raw)", mode: "lines", line: { color: colour, width: 1 }, opacity: 0.25, showlegend: false, hoverinfo: "skip" });
      traces.push({ x: xs, y: S.ema(got.y, weight), name: run.label, mode: "lines", line: { color: colour }, meta: run.id });
    });
    el("compare-note").textContent = left.length ? `not drawn on this axis (no ${axis} data): ${left.join(", ")}` : "";
    const layout = {
      title: { text: `${S.label(metric)} by ${axis === "wall" ? "wall time" : axis}` }, height: 460,
      margin: { l: 60, r: 20, t: 40, b: 50 }, legend: { orientation: "h", y: -0.15 },
      xaxis: { title: { text: axis === "wall" ? "time" : axis }, type: axis === "wall" ? "date" : "linear" },
      yaxis: { title: { text: metric }, type: el("log-y").checked ? "log" : "linear" },
    };
    await Plotly.react("compare-chart", traces, layout, { responsive: true, displaylogo: false });
    document.body.dataset.drawn = `${metric}:${axis}:${weight}:${traces.length}`;
  }

  el("metric").addEventListener("change", () => draw(true));
  el("x-axis").addEventListener("change", () => draw(false));
  el("smoothing").addEventListener("input", () => draw(false));
  el("log-y").addEventListener("change", () => draw(false));
  draw(true);
})();
