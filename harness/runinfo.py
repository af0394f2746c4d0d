"""Facts about a run that the reports record: its id, times, commit and settings."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def git_commit(rootdir: Path) -> str | None:
    """The checked-out commit of ``rootdir``, or None outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", str(rootdir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def iso(timestamp: float) -> str:
    """A Unix time as ISO-8601 UTC, to the second."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def run_meta(
    *,
    rootdir: Path,
    started_at: float,
    profile: str,
    cluster: str,
    store: str,
    seed: int | None,
    pytest_args: list[str],
    workers: int,
) -> Any:
    """The ``RunMeta`` of a run that started at ``started_at`` and ends now."""
    import time

    return {
        "run_id": uuid.uuid4().hex[:12],
        "started_at": iso(started_at),
        "finished_at": iso(time.time()),
        "git_commit": git_commit(rootdir),
        "profile": profile,
        "cluster": cluster,
        "store": store,
        "seed": seed,
        "pytest_args": pytest_args,
        "workers": workers,
    }
