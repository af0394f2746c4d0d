"""``summary.md`` of one load run: figures, SLO verdicts, the loss check, the files.

Markdown, so it reads in a terminal, in a CI artifact view and on a code host alike;
every figure in it comes from the run's :class:`loadtests.history.LoadRunRecord`.
"""

from __future__ import annotations

from pathlib import Path

from loadtests.history import LoadRunRecord

FILES = (
    ("report.html", "Locust's HTML report"),
    ("stats.json", "Locust's final stats (JSON)"),
    ("locust_stats.csv", "Locust's stats (CSV)"),
    ("locust_stats_history.csv", "Locust's stats over time (CSV)"),
    ("locust_failures.csv", "failures (CSV)"),
    ("throughput.png", "throughput trend"),
    ("latency.png", "latency trend"),
    ("result.json", "this summary as data"),
    ("locust.log", "Locust's log"),
)


def _ms(value: object) -> str:
    return "–" if value is None else f"{float(str(value)):.0f} ms"


def summary_markdown(record: LoadRunRecord, run_dir: Path) -> str:
    m = record["measurement"]
    verdict = "passed" if record["passed"] else "FAILED"
    lines = [
        f"# Load run {record['run_id']}: {record['profile']} — {verdict}",
        "",
        f"- mode **{record['mode']}**, {record['role']}, {record['processes']} process(es), "
        f"peak {record['users_peak']} users, shape `{record['shape']}`",
        f"- started {record['started_at']}, finished {record['finished_at']}, "
        f"commit {(record['git_commit'] or 'none')[:12]}, fingerprint {record['fingerprint']}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| executions per second | {m['executions_per_s']:.1f} |",
        f"| submits per second | {m['submits_per_s']:.1f} |",
        f"| completion latency p50 / p95 / p99 | {_ms(m['p50_completion_ms'])} / "
        f"{_ms(m['p95_completion_ms'])} / {_ms(m['p99_completion_ms'])} |",
        f"| submit latency p95 | {_ms(m['p95_submit_ms'])} |",
        f"| failure ratio | {m['failure_ratio']:.4f} "
        f"({m['submit_failures']} submit, {m['completion_failures']} completion failures) |",
        f"| measured window | {m['duration_s']:.1f} s |",
        "",
        "## SLOs",
        "",
    ]
    if record["slos"]:
        lines += ["| SLO | target | measured | verdict |", "|---|---|---|---|"]
        for slo in record["slos"]:
            lines.append(
                f"| {slo['name']} | {slo['target']:g} | "
                f"{'–' if slo['measured'] is None else format(slo['measured'], '.4g')} | "
                f"{'met' if slo['passed'] else '**breached**'} |"
            )
    else:
        lines.append("The profile declares no SLO.")
    lines += ["", "## Nothing lost", ""]
    ledger = record["ledger"]
    if ledger is None:
        lines.append("Not checked here: the stores are on the workers (each checks its own).")
    else:
        acknowledged = m["submit_requests"] - m["submit_failures"]
        lines.append(
            f"{ledger['submitted']} executions in the engine's store(s), {ledger['terminal']} "
            f"terminal, {ledger['lost']} not; users saw {acknowledged} submits acknowledged. "
            f"{'OK' if record['no_loss'] else '**LOST EXECUTIONS**'}"
        )
        if ledger["unfinished"]:
            lines.append("")
            lines.append("Unfinished: " + ", ".join(f"`{i}`" for i in ledger["unfinished"]))
    lines += ["", "## Files", ""]
    for name, what in FILES:
        if (run_dir / name).exists():
            lines.append(f"- [{name}]({name}): {what}")
    return "\n".join(lines) + "\n"
