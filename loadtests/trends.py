"""Trend plots over the last runs of a profile: throughput, and completion latency.

Two PNGs per run folder (matplotlib, Agg backend, imported only when plotting):
``throughput.png`` (executions/s per run) and ``latency.png`` (p50, p95 and p99 of
the submit-to-terminal latency per run), each run labelled by its id, a failed run
marked in red, and the SLO target drawn as a dashed line when the profile has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loadtests.history import LoadRunRecord

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _slo(run: LoadRunRecord, name: str) -> float | None:
    for slo in run["slos"]:
        if slo.get("name") == name:
            return float(slo["target"])
    return None


def write_trends(runs: Sequence[LoadRunRecord], out_dir: Path) -> list[Path]:
    """Draw the two plots of ``runs`` (oldest first) into ``out_dir``; their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    labels = [r["run_id"][-6:] for r in runs]
    xs = list(range(len(runs)))
    colors = ["tab:blue" if r["passed"] else "tab:red" for r in runs]
    profile = runs[-1]["profile"] if runs else ""
    paths = []

    fig, ax = plt.subplots(figsize=(8, 3.5))
    rates = [float(r["measurement"].get("executions_per_s") or 0.0) for r in runs]
    ax.plot(xs, rates, color="tab:blue", linewidth=1)
    ax.scatter(xs, rates, c=colors, zorder=3)
    target = _slo(runs[-1], "min_executions_per_s") if runs else None
    if target is not None:
        ax.axhline(target, linestyle="--", color="grey", label=f"SLO ≥ {target:g}/s")
        ax.legend(loc="best")
    ax.set_title(f"{profile}: executions per second, last {len(runs)} runs")
    ax.set_ylabel("executions/s")
    _runs_axis(ax, xs, labels)
    paths.append(_save(fig, out_dir / "throughput.png"))

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for key, style in (("p50", ":"), ("p95", "-"), ("p99", "--")):
        values = [r["measurement"].get(f"{key}_completion_ms") for r in runs]
        ax.plot(xs, [v if v is not None else float("nan") for v in values], style, label=key)
    target = _slo(runs[-1], "p95_completion_ms") if runs else None
    if target is not None:
        ax.axhline(target, linestyle="--", color="grey", label=f"SLO p95 ≤ {target:g} ms")
    ax.set_title(f"{profile}: completion latency (submit to terminal), last {len(runs)} runs")
    ax.set_ylabel("ms")
    ax.legend(loc="best")
    _runs_axis(ax, xs, labels)
    paths.append(_save(fig, out_dir / "latency.png"))
    plt.close("all")
    return paths


def _runs_axis(ax: Axes, xs: list[int], labels: list[str]) -> None:
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.set_xlabel("run")
    ax.grid(True, alpha=0.3)


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
