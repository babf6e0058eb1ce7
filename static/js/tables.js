// Column chooser for server-side tables: each checkbox in a table's "Columns" menu shows or hides
// the cells with its data-col; the choice is kept per table in localStorage.
(function () {
  document.querySelectorAll("table[data-table]").forEach((table) => {
    const card = table.closest(".card");
    const boxes = card ? card.querySelectorAll("details.columns input[data-col]") : [];
    const key = "pd.columns." + table.dataset.table;
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { saved = {}; }
    function show(col, on) {
      table.querySelectorAll(`[data-col="${col}"]`).forEach((cell) => { cell.hidden = !on; });
    }
    boxes.forEach((box) => {
      const col = box.dataset.col;
      if (col in saved) box.checked = Boolean(saved[col]);
      show(col, box.checked);
      box.addEventListener("change", () => {
        saved[col] = box.checked;
        localStorage.setItem(key, JSON.stringify(saved));
        show(col, box.checked);
      });
    });
    // Rows added later (live updates) follow the same choice.
    table.pdApplyColumns = () => boxes.forEach((box) => show(box.dataset.col, box.checked));
  });
})();
