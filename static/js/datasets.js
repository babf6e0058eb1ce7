// Data set pages: upload with progress (XHR to the REST API) and per-column schema overrides
// (PATCH datasets/{id}); stored figures are drawn by figures.js.
(function () {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrf = cookie ? cookie.split("=")[1] : "";

  const form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      for (const key of ["format", "target"]) if (!data.get(key)) data.delete(key);
      const bar = document.getElementById("upload-progress");
      const status = document.getElementById("upload-status");
      const error = document.getElementById("upload-error");
      error.textContent = "";
      bar.hidden = false;
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/neural/datasets");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
        status.textContent = e.loaded < e.total ? "uploading…" : "reading, checking and storing…";
      };
      xhr.onload = () => {
        const out = JSON.parse(xhr.responseText || "{}");
        if (xhr.status === 201) { location.href = `/datasets/${out.id}/`; return; }
        bar.hidden = true;
        status.textContent = "";
        const fields = Object.entries(out.fields || {}).map(([k, v]) => `${k}: ${v}`).join("; ");
        error.textContent = fields || out.error || `upload failed (HTTP ${xhr.status})`;
      };
      xhr.onerror = () => { error.textContent = "the upload was interrupted"; bar.hidden = true; };
      xhr.send(data);
    });
  }

  const schema = document.getElementById("schema");
  if (schema) {
    schema.addEventListener("change", async (ev) => {
      const row = ev.target.closest("tr[data-column]");
      if (!row) return;
      const change = ev.target.classList.contains("kind") ? { kind: ev.target.value } : { excluded: !ev.target.checked };
      const res = await fetch(`/api/v1/neural/datasets/${schema.dataset.dataset}`, {
        method: "PATCH", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ schema: { [row.dataset.column]: change } }),
      });
      const out = await res.json();
      if (res.ok) location.reload();
      else document.getElementById("schema-error").textContent = Object.values(out.fields || {}).join("; ") || out.error;
    });
  }
})();
