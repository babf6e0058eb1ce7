// Searches list: start a hyper-optimize or architecture search through the REST API (the same
// service as `neural hyper-optimize` / `neural architecture-search`); offer the model names.
(function () {
  const form = document.getElementById("search-form");
  if (!form) return;
  const csrfCookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrf = csrfCookie ? csrfCookie.split("=")[1] : "";
  fetch("/api/v1/neural/models?limit=500", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : { results: [] }))
    .then((out) => {
      const list = document.getElementById("search-models");
      for (const m of out.results || out) { const o = document.createElement("option"); o.value = m.name; list.append(o); }
    });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { model: data.model.trim(), space: data.space, method: data.method, trials: Number(data.trials) };
    if (data.optimize.trim()) body.optimize = data.optimize.trim();
    if (data.epochs) body.epochs = Number(data.epochs);
    const res = await fetch("/api/v1/neural/searches", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const out = await res.json();
    if (res.status === 202 || res.status === 201) { location.href = `/searches/${out.job_id}/`; return; }
    const fields = out.fields ? Object.entries(out.fields).map(([k, v]) => `${k}: ${v}`).join("; ") : "";
    document.getElementById("search-error").textContent = (out.error || out.detail || "failed") + (fields ? ` (${fields})` : "");
  });
})();
