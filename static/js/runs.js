// Runs table: a session's status and epoch change in place when /ws/dashboard/ says so. A run
// that is not on this page (another page, or filtered out) is not added: the table stays the
// server's answer to its URL; a note offers the reload.
(function () {
  const table = document.getElementById("runs");
  if (!table) return;
  const note = document.createElement("p");
  note.className = "hint"; note.setAttribute("aria-live", "polite");
  table.closest(".table-scroll").after(note);
  pdLive("/ws/dashboard/", {
    "training.status": (e) => {
      const row = table.querySelector(`tr[data-session="${e.session_id}"]`);
      if (!row) {
        note.replaceChildren("Runs have changed since this page loaded. ");
        const a = document.createElement("a"); a.href = location.href; a.textContent = "Reload";
        note.append(a);
        return;
      }
      const status = row.querySelector('[data-field="status"]');
      status.textContent = e.status;
      status.className = "status status-" + e.status;
      row.querySelector('[data-field="epoch"]').textContent = `${e.epoch}/${e.epochs}`;
    },
  });
})();
