"""The load-run history: one JSON line per run in ``reports/load/history/runs.jsonl``.

Each run also leaves its own folder, ``reports/load/<run-id>/``, with ``result.json``
(the same record), Locust's CSV/JSON/HTML, ``summary.md`` and the trend plots. The
history is what trends are drawn from and what BR-WORKFLOW-038's scenario reads.

Like the requirement history, the file is append-only and may be cut short by a kill:
:func:`read_runs` skips a line that is not a well-formed record and keeps the rest.

:func:`fingerprint` says which code and settings a run measured: a digest of the
engine's and the load tests' sources, the testbed, and the resolved profile. A
recorded run stands for the current code only while its fingerprint is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypedDict, TypeGuard

import engine
import harness.testbed
import loadtests
from scenarios import Profile


class LoadRunRecord(TypedDict):
    """One load run, as ``result.json`` and a history line hold it."""

    run_id: str
    started_at: str
    finished_at: str
    git_commit: str | None
    fingerprint: str
    profile: str
    mode: str
    role: str
    """``local``, or ``master`` of a distributed run."""
    processes: int
    shape: dict[str, Any]
    users_peak: int
    measurement: dict[str, Any]
    slos: list[dict[str, Any]]
    slo_passed: bool
    ledger: dict[str, Any] | None
    no_loss: bool | None
    """None when the stores are on other machines (distributed workers check their own)."""
    passed: bool
    run_dir: str


def history_path(load_dir: Path) -> Path:
    return load_dir / "history" / "runs.jsonl"


def append_run(load_dir: Path, record: LoadRunRecord) -> None:
    path = history_path(load_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    with path.open("ab") as handle:
        if handle.tell() > 0:
            with path.open("rb") as reader:
                reader.seek(-1, 2)
                if reader.read(1) != b"\n":
                    line = "\n" + line
        handle.write(line.encode("utf-8"))


def read_runs(load_dir: Path, profile: str | None = None) -> list[LoadRunRecord]:
    """Every readable run, oldest first; only ``profile``'s if given."""
    try:
        raw = history_path(load_dir).read_bytes()
    except FileNotFoundError:
        return []
    runs: list[LoadRunRecord] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if _is_record(data) and (profile is None or data["profile"] == profile):
            runs.append(data)
    return runs


def fingerprint(profile: Profile) -> str:
    """A digest of what a run measures (see module docstring)."""
    digest = hashlib.sha256()
    roots = [Path(engine.__file__).parent, Path(loadtests.__file__).parent]
    files = sorted(p for root in roots for p in root.rglob("*.py"))
    files.append(Path(harness.testbed.__file__))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(profile.model_dump_json().encode())
    return digest.hexdigest()[:16]


def _is_record(data: Any) -> TypeGuard[LoadRunRecord]:
    return (
        isinstance(data, dict)
        and isinstance(data.get("run_id"), str)
        and isinstance(data.get("profile"), str)
        and isinstance(data.get("measurement"), dict)
        and isinstance(data.get("slos"), list)
        and isinstance(data.get("slo_passed"), bool)
    )
