// Session page: draw stored epochs, then extend the curves as training.epoch events arrive.
(function () {
  const S = window.PD_SESSION;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const lossFig = read("loss-fig");
  const qualityFig = read("quality-fig");
  Plotly.newPlot("loss-chart", lossFig.data, lossFig.layout, { responsive: true });
  Plotly.newPlot("quality-chart", qualityFig.data, qualityFig.layout, { responsive: true });
  const confusion = document.getElementById("confusion-fig");
  if (confusion) { const f = JSON.parse(confusion.textContent); Plotly.newPlot("confusion-chart", f.data, f.layout); }
  // Label each confusion-matrix row with its class (the header row holds them in order).
  const classes = Array.from(document.querySelectorAll("#confusion-table thead th")).slice(1);
  document.querySelectorAll("#confusion-table tbody th").forEach((th, i) => { if (classes[i]) th.textContent = classes[i].textContent; });
  const qualityKeys = qualityFig.data.map((t) => t.meta);
  let lastEpoch = Math.max(0, ...(lossFig.data[0].x || []));

  function addEpoch(row) {
    if (row.epoch <= lastEpoch) return; // already drawn (reconnect replay)
    lastEpoch = row.epoch;
    const m = row.metrics || {};
    Plotly.extendTraces("loss-chart", { x: [[row.epoch], [row.epoch]], y: [[row.train_loss], [row.val_loss]] }, [0, 1]);
    Plotly.extendTraces("quality-chart", {
      x: qualityKeys.map(() => [row.epoch]),
      y: qualityKeys.map((k) => [m[k] !== undefined ? m[k] : null]),
    }, qualityKeys.map((_, i) => i));
    document.getElementById("epoch").textContent = row.epoch;
    appendHistory(row.epoch, m);
    const body = document.querySelector("#epoch-metrics tbody");
    body.innerHTML = "";
    for (const [k, v] of Object.entries(m)) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<th></th><td></td>`;
      tr.children[0].textContent = k;
      tr.children[1].textContent = typeof v === "number" ? v.toFixed(5) : v;
      body.appendChild(tr);
    }
  }

  // The "every epoch" table: one row per epoch, one column per metric (new metrics add columns).
  function appendHistory(epoch, m) {
    const head = document.querySelector("#epoch-history thead tr");
    const known = Array.from(head.children).slice(1).map((th) => th.textContent);
    for (const k of Object.keys(m)) {
      if (!known.includes(k)) {
        known.push(k);
        const th = document.createElement("th");
        th.textContent = k;
        head.appendChild(th);
      }
    }
    const tr = document.createElement("tr");
    for (const v of [epoch, ...known.map((k) => m[k])]) {
      const td = document.createElement("td");
      td.textContent = v === undefined || v === null ? "" : (typeof v === "number" && v !== epoch ? v.toFixed(5) : v);
      tr.appendChild(td);
    }
    document.querySelector("#epoch-history tbody").appendChild(tr);
  }

  function setStatus(status) {
    const el = document.getElementById("status");
    el.textContent = status;
    el.className = "status status-" + status;
    if (["succeeded", "failed", "stopped"].includes(status)) {
      const stop = document.getElementById("stop");
      if (stop) stop.remove();
      // Reload once to show the registered version, test metrics and confusion matrix.
      if (!S.finished) { S.finished = true; setTimeout(() => location.reload(), 300); }
    }
  }

  async function catchUp() {
    const res = await fetch(`/api/v1/neural/train/${S.id}/metrics`, { credentials: "same-origin" });
    if (!res.ok) return;
    const body = await res.json();
    body.epochs.forEach(addEpoch);
    setStatus(body.status);
  }

  const stop = document.getElementById("stop");
  if (stop) stop.addEventListener("click", async () => {
    stop.disabled = true;
    await fetch(`/api/v1/neural/train/${S.id}`, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": S.csrf } });
  });

  const log = document.getElementById("log");
  pdLive(`/ws/sessions/${S.id}/`, {
    onOpen: catchUp,
    "training.epoch": addEpoch,
    "training.status": (e) => { document.getElementById("epoch").textContent = e.epoch; setStatus(e.status); },
    "training.log": (e) => { log.textContent += `${e.at.slice(11, 19)} ${e.level} ${e.message}\n`; },
  });
})();
