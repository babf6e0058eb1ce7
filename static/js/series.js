// Series helpers shared by the session and compare pages: read a range of a run's figures from
// the API (downsampled there: M4 from stored summaries), smooth, and build Plotly traces.
window.pdSeries = (function () {
  const api = (id) => `/api/v1/neural/train/${id}`;

  async function getJSON(url) {
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  // Figures of epochs lo..hi (whole run when both are null), about maxPoints per figure.
  function range(id, { lo = null, hi = null, keys = null, maxPoints = 2000 } = {}) {
    const q = new URLSearchParams({ max_points: String(maxPoints) });
    if (lo !== null) q.set("from", String(Math.max(0, Math.floor(lo))));
    if (hi !== null) q.set("to", String(Math.max(0, Math.ceil(hi))));
    if (keys) q.set("keys", keys.join(","));
    return getJSON(`${api(id)}/metrics?${q}`);
  }

  // Whole epoch rows after `after` (a reconnecting page's catch-up).
  const after = (id, epoch) => getJSON(`${api(id)}/metrics?after=${epoch}`);
  const steps = (id, q) => getJSON(`${api(id)}/steps?${new URLSearchParams(q)}`);

  // Exponential moving average with TensorBoard's debiasing; weight 0 returns ys as they are.
  function ema(ys, weight) {
    if (!weight) return ys;
    let last = 0, n = 0;
    return ys.map((y) => {
      if (y === null || y === undefined || Number.isNaN(y)) return y;
      last = last * weight + (1 - weight) * y;
      n += 1;
      return last / (1 - Math.pow(weight, n));
    });
  }

  const label = (key) => key.replace(/^val_/, "validation ").replace(/_/g, " ");

  return { range, after, steps, ema, label, getJSON };
})();
