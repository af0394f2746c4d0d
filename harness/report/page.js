// requirements.html: inlined by harness/report/html.py. Filters the requirement table
// and shows a requirement's server-rendered drill-down (a <template>) in #detail.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const byId = new Map(data.requirements.map((r) => [r.id, r]));
  const filter = document.getElementById("filter");
  const statusFilter = document.getElementById("status-filter");
  const detail = document.getElementById("detail");
  const shown = document.getElementById("shown-count");
  const noMatch = document.getElementById("no-match");
  const rows = Array.from(document.querySelectorAll("#requirements tbody tr[data-requirement]"));

  // Everything a text filter may match: the requirement and what its scenarios say.
  const haystacks = new Map();
  for (const r of data.requirements) {
    const parts = [r.id, r.title, r.description, r.area, r.priority, r.status];
    for (const s of r.scenarios) {
      parts.push(s.name, s.feature_file, s.nodeid, s.failing_step || "", s.error || "");
    }
    haystacks.set(r.id, parts.join("\n").toLowerCase());
  }

  function applyFilters() {
    const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const status = statusFilter.value;
    let count = 0;
    for (const row of rows) {
      const id = row.dataset.requirement;
      const text = haystacks.get(id) || "";
      const match = (!status || byId.get(id).status === status) &&
        terms.every((term) => text.includes(term));
      row.hidden = !match;
      if (match) count += 1;
    }
    shown.textContent = count + " of " + rows.length + " requirements";
    noMatch.hidden = count !== 0;
  }

  function select(id) {
    const template = document.getElementById("detail-" + id);
    if (!template) return;
    detail.replaceChildren(template.content.cloneNode(true));
    detail.dataset.requirement = id;
    for (const row of rows) {
      row.setAttribute("aria-selected", String(row.dataset.requirement === id));
    }
    if (location.hash !== "#" + id) {
      try {
        history.replaceState(null, "", "#" + id);
      } catch (e) {
        // Some file:// contexts refuse history changes; the drill-down is shown anyway.
      }
    }
  }

  filter.addEventListener("input", applyFilters);
  statusFilter.addEventListener("change", applyFilters);
  for (const row of rows) {
    row.addEventListener("click", () => select(row.dataset.requirement));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(row.dataset.requirement);
      }
    });
  }
  for (const card of document.querySelectorAll("[data-set-status]")) {
    card.addEventListener("click", () => {
      statusFilter.value = statusFilter.value === card.dataset.setStatus ? "" : card.dataset.setStatus;
      applyFilters();
    });
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const code = button.parentElement.querySelector("code.reproduce");
    if (code && navigator.clipboard) navigator.clipboard.writeText(code.textContent).catch(() => {});
  });

  applyFilters();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (byId.has(wanted)) select(wanted);
  document.body.dataset.ready = "true";
})();
