// Overview: start a training from the form; session statuses update live over /ws/dashboard/.
(function () {
  const form = document.getElementById("train-form");
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const body = { training_data: data.training_data, pattern_type: data.pattern_type, epochs: Number(data.epochs) };
      if (data.model_name) body.model_name = data.model_name;
      const res = await fetch("/api/v1/neural/train", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.split("=")[1] : "" },
        body: JSON.stringify(body),
      });
      const out = await res.json();
      if (res.status === 202) location.href = `/sessions/${out.session_id}/`;
      else document.getElementById("train-error").textContent = out.error;
    });
  }
  pdLive("/ws/dashboard/", {
    "training.status": (e) => {
      const row = document.querySelector(`tr[data-session="${e.session_id}"]`);
      if (!row) { location.reload(); return; }
      const status = row.querySelector('[data-field="status"]');
      status.textContent = e.status;
      status.className = "status status-" + e.status;
      row.querySelector('[data-field="epoch"]').textContent = `${e.epoch}/${e.epochs}`;
    },
  });
})();
