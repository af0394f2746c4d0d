"""The HTML drill-down of one requirement: its scenarios, steps, errors and timelines.

The page renders every drill-down on the server side, each in a
``<template id="detail-<requirement id>">``, and its script copies the chosen one into
``#detail``. So the page works as a document before any script runs, a unit test can
read a requirement's scenarios and timelines from the HTML alone, and the script stays
small. Stable hooks for a browser test or a user's own script:

- ``article.requirement-detail[data-requirement=ID]`` around one drill-down;
- ``section.scenario[data-nodeid][data-status]`` per scenario run;
- ``li.gherkin-step[data-status]``, ``pre.error``, ``code.reproduce``;
- ``figure.execution[data-execution]`` holding ``svg.timeline`` (see
  :mod:`harness.report.timeline`).

Every text from the catalogue or the evidence is escaped here.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from harness.report.model import HistoryPoint, RequirementReport, ScenarioReport
from harness.report.timeline import timeline_svg

LEGEND = (
    '<p class="legend"><span class="swatch attempt-ok"></span>attempt '
    '<span class="swatch attempt-failed"></span>failed attempt '
    '<span class="swatch backoff"></span>retry backoff · bars that overlap ran in parallel; '
    "times in virtual seconds since the scenario began</p>"
)


def badge(status: str, text: str | None = None) -> str:
    return (
        f'<span class="badge status-{escape(status)}" data-status="{escape(status)}">'
        f"{escape(text or status)}</span>"
    )


def status_text(requirement: RequirementReport) -> str:
    """``flaky (failed in this run)`` for a flaky one, else just its status."""
    if requirement["status"] == "flaky":
        return f"flaky ({requirement['current_status']} in this run)"
    return requirement["status"]


def history_strip(points: Iterable[HistoryPoint]) -> str:
    """One square per run of the window, oldest first, this run last."""
    cells = []
    for point in points:
        status = point["status"] or "absent"
        commit = (point["git_commit"] or "no commit")[:12]
        title = f"{point['run_id']} · {point['finished_at']} · {commit} · {status}"
        cells.append(
            f'<span class="run status-{escape(status)}" data-status="{escape(status)}" '
            f'title="{escape(title)}"></span>'
        )
    return f'<span class="history-strip">{"".join(cells)}</span>'


def requirement_template(requirement: RequirementReport) -> str:
    """The ``<template>`` the page's script shows in ``#detail`` for ``requirement``."""
    rid = escape(requirement["id"])
    counts = requirement["counts"]
    scenarios = requirement["scenarios"]
    body = (
        "".join(scenario_section(s) for s in scenarios)
        if scenarios
        else '<p class="no-scenarios">No scenario names this requirement: tag one with '
        f"<code>@{rid}</code> to cover it.</p>"
    )
    return (
        f'<template id="detail-{rid}" data-requirement="{rid}">'
        f'<article class="requirement-detail" data-requirement="{rid}">'
        f'<h2><span class="rid">{rid}</span> {escape(requirement["title"])} '
        f"{badge(requirement['status'], status_text(requirement))}</h2>"
        f'<p class="description">{escape(requirement["description"])}</p>'
        '<dl class="facts">'
        f"<dt>priority</dt><dd>{escape(requirement['priority'])}</dd>"
        f"<dt>area</dt><dd>{escape(requirement['area'])}</dd>"
        f"<dt>this run</dt><dd>{badge(requirement['current_status'])}</dd>"
        f"<dt>scenarios</dt><dd>{counts['passed']} passed · {counts['failed']} failed · "
        f"{counts['skipped']} skipped</dd>"
        f"<dt>recent runs</dt><dd>{history_strip(requirement['history'])}</dd>"
        "</dl>"
        f'<div class="scenarios">{body}</div>'
        "</article></template>"
    )


def scenario_section(scenario: ScenarioReport) -> str:
    """One scenario run: where it is, its Gherkin steps, its error, how to rerun it."""
    parts = [
        f'<section class="scenario" data-nodeid="{escape(scenario["nodeid"])}" '
        f'data-status="{escape(scenario["status"])}">',
        f"<h3>{escape(scenario['name'])} {badge(scenario['status'])}</h3>",
        f'<p class="where"><span class="location">{escape(scenario["feature_file"])}:'
        f'{scenario["line"]}</span> · <span class="nodeid">{escape(scenario["nodeid"])}'
        f"</span> · wall {scenario['duration_wall']:.3f} s · virtual "
        f"{scenario['duration_virtual']:.3f} s · seed {scenario['seed']}</p>",
        '<ol class="gherkin">',
    ]
    for step in scenario["steps"]:
        parts.append(
            f'<li class="gherkin-step" data-status="{escape(step["status"])}">'
            f'<span class="keyword">{escape(step["keyword"].strip())}</span> '
            f'<span class="text">{escape(step["name"])}</span> {badge(step["status"])}'
            f'<span class="duration">{step["duration_wall"]:.3f} s</span></li>'
        )
    parts.append("</ol>")
    if scenario["failing_step"]:
        parts.append(f'<p class="failing-step">failed at: {escape(scenario["failing_step"])}</p>')
    if scenario["error"]:
        parts.append(f'<pre class="error">{escape(scenario["error"])}</pre>')
    parts.append(
        '<p class="rerun">rerun alone: '
        f'<code class="reproduce">{escape(scenario["reproduce"])}</code> '
        '<button type="button" class="copy" title="copy the command">copy</button></p>'
    )
    if scenario["executions"]:
        parts.append(LEGEND)
    for execution in scenario["executions"]:
        window = ""
        if execution["started_at"] is not None and execution["finished_at"] is not None:
            window = f" · {execution['started_at']:.3f} s → {execution['finished_at']:.3f} s"
        parts.append(
            f'<figure class="execution" data-execution="{escape(execution["execution_id"])}">'
            f"<figcaption>{escape(execution['workflow'])} v{execution['version']} · "
            f"{escape(execution['execution_id'])} · {badge(execution['status'])}"
            f"{window}</figcaption>{timeline_svg(execution)}</figure>"
        )
    parts.append("</section>")
    return "".join(parts)
