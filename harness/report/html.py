"""``requirements.html``: the whole report as one self-contained page.

One file a CI artifact store can serve or a developer can open from disk: no CDN, no
external asset, the CSS (``page.css``) and script (``page.js``) inlined, the report
itself embedded as JSON in ``<script type="application/json" id="report-data">`` (with
``<``, ``>`` and ``&`` written as ``\\u`` escapes so no text can close the tag). Built
with the standard library and :func:`html.escape`; the drill-downs come from
:mod:`harness.report.detail`.

Stable hooks, for a browser test and for links:

- ``#summary`` with ``[data-count=STATUS]`` cards; ``#filter`` (text) and
  ``#status-filter`` (select; values are the display statuses, ``""`` for all);
  ``#shown-count``; ``#no-match``;
- ``#requirements tbody tr[data-requirement=ID][data-status=STATUS]``; hidden rows have
  the ``hidden`` attribute; the chosen one ``aria-selected="true"``;
- ``#detail[data-requirement=ID]`` holding the chosen drill-down; ``#untagged``;
- ``page.html#BR-WORKFLOW-001`` opens that requirement; ``body[data-ready]`` is set once
  the script has wired everything.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files

from harness.report.detail import (
    badge,
    history_strip,
    requirement_template,
    scenario_section,
    status_text,
)
from harness.report.model import DISPLAY_STATUSES, Report, RequirementReport, StatusTally


def render_html(report: Report) -> str:
    """The page for ``report``."""
    run = report["run"]
    title = f"Requirement coverage · {run['run_id']}"
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{_asset('page.css')}</style></head>",
            "<body><header><h1>Requirement coverage</h1>",
            _run_line(report),
            "</header><main>",
            _summary(report),
            _controls(report),
            _table(report["requirements"]),
            '<section id="detail" aria-live="polite"><p class="hint">Choose a requirement '
            "to see its scenarios, steps and timelines.</p></section>",
            _untagged(report),
            _unknown(report),
            "</main>",
            "".join(requirement_template(r) for r in report["requirements"]),
            '<script type="application/json" id="report-data">',
            embedded_json(report),
            "</script><script>",
            _asset("page.js"),
            "</script></body></html>\n",
        ]
    )


def embedded_json(report: Report) -> str:
    """``report`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _asset(name: str) -> str:
    return files("harness.report").joinpath(name).read_text(encoding="utf-8")


def _run_line(report: Report) -> str:
    run = report["run"]
    facts = [
        ("run", run["run_id"]),
        ("commit", (run["git_commit"] or "unknown")[:12]),
        ("profile", run["profile"] or "default"),
        ("cluster", run["cluster"]),
        ("store", run["store"]),
        ("seed", "not fixed" if run["seed"] is None else str(run["seed"])),
        ("workers", str(run["workers"])),
        ("started", run["started_at"]),
        ("finished", run["finished_at"]),
    ]
    shown = "".join(
        f'<span class="fact" data-fact="{name}"><b>{name}</b> {escape(value)}</span>'
        for name, value in facts
    )
    args = escape(" ".join(run["pytest_args"]))
    return f'<p class="run">{shown}</p><p class="args"><code>pytest {args}</code></p>'


def _summary(report: Report) -> str:
    summary = report["summary"]
    total = summary["requirements"]
    cards = "".join(
        f'<button type="button" class="card status-{status}" data-count="{status}" '
        f'data-set-status="{status}"><span class="n">{total[status]}</span> {status} '
        f'<span class="pct">{total["percent"][status]:.1f}%</span></button>'
        for status in DISPLAY_STATUSES
    )
    scenarios = summary["scenarios"]
    scenario_line = (
        f'<p class="scenario-tally">{total["total"]} requirements · {scenarios["total"]} '
        f"scenario runs: {scenarios['passed']} passed, {scenarios['failed']} failed, "
        f"{scenarios['skipped']} skipped ({scenarios['untagged']} naming no requirement) · "
        f"history of {report['history']['runs']} of the last {report['history']['size']} "
        "runs of this profile</p>"
    )
    groups = [("priority", summary["by_priority"]), ("area", summary["by_area"])]
    tables = "".join(_tally_table(name, tallies) for name, tallies in groups)
    return (
        f'<section id="summary"><div class="cards">{cards}</div>{scenario_line}'
        f"<details><summary>by priority and area</summary>{tables}</details></section>"
    )


def _tally_table(name: str, tallies: dict[str, StatusTally]) -> str:
    head = "".join(f"<th>{s}</th>" for s in DISPLAY_STATUSES)
    rows = "".join(
        f'<tr data-{name}="{escape(key)}"><th scope="row">{escape(key)}</th>'
        f"<td>{t['total']}</td>"
        + "".join(f"<td>{t[s]}</td>" for s in DISPLAY_STATUSES)
        + f"<td>{t['percent']['passed']:.1f}%</td></tr>"
        for key, t in tallies.items()
    )
    return (
        f'<table class="tally" id="by-{name}"><thead><tr><th>{name}</th><th>total</th>'
        f"{head}<th>passed %</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _controls(report: Report) -> str:
    options = "".join(
        f'<option value="{s}">{s} ({report["summary"]["requirements"][s]})</option>'
        for s in DISPLAY_STATUSES
    )
    return (
        '<section id="controls"><label>filter <input id="filter" type="search" '
        'placeholder="id, title, area, scenario, error…" autocomplete="off"></label> '
        '<label>status <select id="status-filter"><option value="">all</option>'
        f"{options}</select></label> "
        f'<span id="shown-count">{len(report["requirements"])} requirements</span></section>'
    )


def _table(requirements: list[RequirementReport]) -> str:
    rows = "".join(_row(r) for r in requirements)
    return (
        '<table id="requirements"><thead><tr><th>requirement</th><th>title</th>'
        "<th>area</th><th>priority</th><th>status</th><th>scenarios</th>"
        "<th>recent runs</th></tr></thead><tbody>"
        f'{rows}<tr id="no-match" hidden><td colspan="7">No requirement matches the '
        "filter.</td></tr></tbody></table>"
    )


def _row(requirement: RequirementReport) -> str:
    rid = escape(requirement["id"])
    counts = requirement["counts"]
    scenario_text = (
        " · ".join(f"{n} {s}" for s, n in counts.items() if n) if requirement["scenarios"] else "—"
    )
    return (
        f'<tr data-requirement="{rid}" data-status="{escape(requirement["status"])}" '
        f'tabindex="0" aria-selected="false"><td class="rid">{rid}</td>'
        f"<td>{escape(requirement['title'])}</td><td>{escape(requirement['area'])}</td>"
        f"<td>{escape(requirement['priority'])}</td>"
        f"<td>{badge(requirement['status'], status_text(requirement))}</td>"
        f'<td class="counts">{escape(scenario_text)}</td>'
        f"<td>{history_strip(requirement['history'])}</td></tr>"
    )


def _untagged(report: Report) -> str:
    scenarios = report["untagged_scenarios"]
    if not scenarios:
        return '<section id="untagged" data-count="0"></section>'
    failed = sum(s["status"] == "failed" for s in scenarios)
    return (
        f'<section id="untagged" data-count="{len(scenarios)}"><details>'
        f"<summary>{len(scenarios)} scenario runs name no requirement "
        f"({failed} failed)</summary>"
        + "".join(scenario_section(s) for s in scenarios)
        + "</details></section>"
    )


def _unknown(report: Report) -> str:
    unknown = report["unknown_requirements"]
    if not unknown:
        return ""
    items = "".join(
        f'<li data-requirement="{escape(u["id"])}"><code>@{escape(u["id"])}</code> on '
        + ", ".join(f"<code>{escape(n)}</code>" for n in u["scenarios"])
        + "</li>"
        for u in unknown
    )
    return (
        '<section id="unknown"><h2>Tags naming no catalogue requirement</h2>'
        f"<ul>{items}</ul><p>Add them to the catalogue or fix the tags.</p></section>"
    )
