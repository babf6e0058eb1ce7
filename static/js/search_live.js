// A search page while its trials run: every 5 s, read the page again and swap in its figures,
// trial table and status (the server builds both from the study; nothing is computed here).
(function () {
  const FINISHED = ["succeeded", "failed"];
  async function refresh() {
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return setTimeout(refresh, 10000);
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    for (const el of document.querySelectorAll("[data-figure]")) {
      const fresh = doc.getElementById(el.dataset.figure);
      if (fresh) { const fig = JSON.parse(fresh.textContent); Plotly.react(el, fig.data, fig.layout); }
    }
    for (const id of ["trials", "best", "search-reading"]) {
      const mine = document.getElementById(id), theirs = doc.getElementById(id);
      if (mine && theirs && id === "search-reading" && !mine.querySelector("[data-figure]") && theirs.querySelector("[data-figure]")) {
        return location.reload(); // a chart appeared: draw the page once more
      }
      if (mine && theirs && id !== "search-reading") mine.replaceWith(theirs);
    }
    const status = doc.getElementById("status");
    document.getElementById("status").replaceWith(status);
    if (!FINISHED.includes(status.textContent.trim())) setTimeout(refresh, 5000);
  }
  setTimeout(refresh, 5000);
})();
