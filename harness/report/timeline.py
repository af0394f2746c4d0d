"""One workflow execution drawn as an inline SVG timeline in virtual seconds.

One row per workflow step (in the execution's order), one ``rect.attempt`` per attempt
from its start to its finish. What a reader should see at a glance:

- a gap between two bars of a row is the retry backoff (a dashed ``line.backoff`` spans
  it, titled with the delay the engine chose);
- a failed attempt (one with an error) is ``attempt-failed``, a good one ``attempt-ok``;
- bars of different rows that overlap in time ran in parallel;
- a step that never ran has no bar, only its status in the row label.

Times are seconds of the scenario's virtual clock since it began, the axis labelled so.
Under virtual time an attempt often takes no time at all, so every bar is at least
:data:`MIN_BAR` pixels wide and a timeline whose attempts all happen at one instant
spans one second. Every text is escaped: step ids and errors are user text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from harness.evidence import AttemptEvidence, ExecutionEvidence, StepEvidence

LABEL_WIDTH = 180
PLOT_WIDTH = 620
ROW_HEIGHT = 22
BAR_HEIGHT = 14
AXIS_HEIGHT = 36
MIN_BAR = 3.0
MAX_TICKS = 8

_Scale = Callable[[float], float]
"""Virtual seconds to an x coordinate."""


def timeline_svg(execution: ExecutionEvidence) -> str:
    """The ``<svg class="timeline">`` of ``execution``'s steps and attempts."""
    steps = execution["steps"]
    start, end = _domain(execution)
    scale = PLOT_WIDTH / (end - start)

    def x(t: float) -> float:
        return LABEL_WIDTH + (t - start) * scale

    height = ROW_HEIGHT * max(len(steps), 1) + AXIS_HEIGHT
    width = LABEL_WIDTH + PLOT_WIDTH + 20
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'data-execution="{escape(execution["execution_id"])}" '
        f'aria-label="{escape(_label(execution))}">'
    ]
    for row, step in enumerate(steps):
        parts.append(_row(row, step, x))
    parts.append(_axis(start, end, x, ROW_HEIGHT * max(len(steps), 1)))
    parts.append("</svg>")
    return "".join(parts)


def _row(row: int, step: StepEvidence, x: _Scale) -> str:
    top = row * ROW_HEIGHT
    mid = top + ROW_HEIGHT / 2
    status = step["status"]
    parts = [
        f'<g class="step-row" data-step="{escape(step["step_id"])}" '
        f'data-status="{escape(status)}">',
        f'<text class="step-label" x="{LABEL_WIDTH - 8}" y="{mid + 4:.1f}" '
        f'text-anchor="end">{escape(_clip(step["step_id"], 22))} · {escape(status)}'
        f"<title>{escape(step['step_id'])}: {escape(status)}"
        f"{_error_suffix(step['error'])}</title></text>",
    ]
    previous: AttemptEvidence | None = None
    for attempt in step["attempts"]:
        if previous is not None and attempt["started_at"] > previous["finished_at"]:
            parts.append(_backoff(previous, attempt, x, mid))
        parts.append(_bar(step["step_id"], attempt, x, mid))
        previous = attempt
    parts.append("</g>")
    return "".join(parts)


def _bar(step_id: str, attempt: AttemptEvidence, x: _Scale, mid: float) -> str:
    left = x(attempt["started_at"])
    width = max(x(attempt["finished_at"]) - left, MIN_BAR)
    outcome = "failed" if attempt["error"] is not None else "ok"
    title = (
        f"{step_id} attempt {attempt['number']}: {_seconds(attempt['started_at'])}"
        f" → {_seconds(attempt['finished_at'])}{_error_suffix(attempt['error'])}"
    )
    return (
        f'<rect class="attempt attempt-{outcome}" data-attempt="{attempt["number"]}" '
        f'x="{left:.2f}" y="{mid - BAR_HEIGHT / 2:.1f}" width="{width:.2f}" '
        f'height="{BAR_HEIGHT}" rx="2"><title>{escape(title)}</title></rect>'
    )


def _backoff(previous: AttemptEvidence, attempt: AttemptEvidence, x: _Scale, mid: float) -> str:
    gap = attempt["started_at"] - previous["finished_at"]
    chosen = previous["retry_delay"]
    said = f" (retry delay {_seconds(chosen)})" if chosen is not None else ""
    title = f"waited {_seconds(gap)} before attempt {attempt['number']}{said}"
    return (
        f'<line class="backoff" x1="{x(previous["finished_at"]):.2f}" y1="{mid:.1f}" '
        f'x2="{x(attempt["started_at"]):.2f}" y2="{mid:.1f}">'
        f"<title>{escape(title)}</title></line>"
    )


def _axis(start: float, end: float, x: _Scale, top: int) -> str:
    step = _tick_step(end - start)
    first = math.ceil(start / step - 1e-9) * step
    parts = [
        f'<g class="axis"><line x1="{LABEL_WIDTH}" y1="{top + 2}" '
        f'x2="{LABEL_WIDTH + PLOT_WIDTH}" y2="{top + 2}"/>'
    ]
    tick = first
    while tick <= end + 1e-9:
        px = x(tick)
        parts.append(
            f'<line class="tick" x1="{px:.2f}" y1="{top + 2}" x2="{px:.2f}" y2="{top + 6}"/>'
            f'<text class="tick-label" x="{px:.2f}" y="{top + 17}" text-anchor="middle">'
            f"{_number(tick)}s</text>"
        )
        tick += step
    parts.append(
        f'<text class="axis-title" x="{LABEL_WIDTH + PLOT_WIDTH / 2}" y="{top + 32}" '
        'text-anchor="middle">virtual seconds since the scenario began</text></g>'
    )
    return "".join(parts)


def _domain(execution: ExecutionEvidence) -> tuple[float, float]:
    times = [
        t
        for step in execution["steps"]
        for attempt in step["attempts"]
        for t in (attempt["started_at"], attempt["finished_at"])
    ]
    times += [t for t in (execution["started_at"], execution["finished_at"]) if t is not None]
    if not times:
        return 0.0, 1.0
    low, high = min(times), max(times)
    if high - low <= 0:
        return low, low + 1.0
    step = _tick_step(high - low)
    return math.floor(low / step) * step, high


def _tick_step(span: float) -> float:
    """A 1, 2 or 5 times a power of ten that puts at most :data:`MAX_TICKS` ticks on ``span``."""
    raw = span / MAX_TICKS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _label(execution: ExecutionEvidence) -> str:
    return (
        f"timeline of {execution['workflow']} v{execution['version']} "
        f"({execution['execution_id']}): {execution['status']}"
    )


def _error_suffix(error: str | None) -> str:
    return f" — {error}" if error else ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _seconds(value: float) -> str:
    return f"{_number(value)} s"
