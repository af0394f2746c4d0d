"""``requirements.md``: the few lines a CI log or a pull-request comment needs.

A totals line, then one table row per requirement that needs a person's attention
(failed, then flaky, then uncovered; see :func:`harness.report.summary.attention_rows`)
with its first failing scenario, the first line of its error and the command that
reruns it, then the failed scenarios that name no requirement (they fail the run too).
Table cells are GitHub-flavoured markdown, each one line with ``|`` escaped; errors and
commands are code spans and other text has ``<`` escaped, so an error such as
``expected <Succeeded>`` shows as written instead of vanishing as an HTML tag.
"""

from __future__ import annotations

from harness.report.model import Report
from harness.report.summary import attention_rows, first_line, where


def render_markdown(report: Report) -> str:
    """The markdown summary of ``report``."""
    summary = report["summary"]
    total = summary["requirements"]
    scenarios = summary["scenarios"]
    run = report["run"]
    commit = f" at `{run['git_commit'][:12]}`" if run["git_commit"] else ""
    profile = f", profile `{run['profile']}`" if run["profile"] else ""
    lines = [
        f"## Requirement coverage: {_verdict(report)}",
        "",
        f"**{total['total']} requirements**: {total['passed']} passed "
        f"({total['percent']['passed']:.1f}%), {total['failed']} failed, {total['flaky']} flaky, "
        f"{total['skipped']} skipped, {total['uncovered']} uncovered. "
        f"**{scenarios['total']} scenario runs**: {scenarios['passed']} passed, "
        f"{scenarios['failed']} failed, {scenarios['skipped']} skipped, "
        f"{scenarios['untagged']} naming no requirement. "
        f"Run `{run['run_id']}`{commit}{profile}.",
    ]
    rows = attention_rows(report)
    if rows:
        lines += [
            "",
            "| requirement | status | title | first failing scenario | error | reproduce |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            _row(
                r.requirement,
                r.status,
                _text(r.title),
                _text(r.scenario),
                _code(r.error),
                _code(r.reproduce),
            )
            for r in rows
        ]
    untagged = [s for s in report["untagged_scenarios"] if s["status"] == "failed"]
    if untagged:
        lines += [
            "",
            "Failed scenarios that name no requirement:",
            "",
            "| scenario | error | reproduce |",
            "| --- | --- | --- |",
        ]
        lines += [
            _row(_text(where(s)), _code(first_line(s["error"])), _code(s["reproduce"]))
            for s in untagged
        ]
    return "\n".join(lines) + "\n"


def _verdict(report: Report) -> str:
    total = report["summary"]["requirements"]
    failed_scenarios = report["summary"]["scenarios"]["failed"]
    if failed_scenarios:
        return f"{failed_scenarios} scenario run(s) failed"
    if total["flaky"]:
        return f"passed, {total['flaky']} flaky"
    return "passed"


def _row(*cells: str) -> str:
    return "| " + " | ".join(_cell(c) or "—" for c in cells) + " |"


def _cell(text: str) -> str:
    # GFM splits cells on every unescaped pipe, code spans included.
    return " ".join(text.split()).replace("|", "\\|")


def _text(text: str) -> str:
    """Plain text whose ``<`` must not open an HTML tag in a rendered comment."""
    return text.replace("<", "\\<")


def _code(text: str) -> str:
    """``text`` as an inline code span, whatever backticks it holds."""
    if not text:
        return ""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
