"""Helpers of the load-run tests: small profiles, and ``windtunnel`` in a subprocess.

Every run here is a real ``windtunnel load``: Locust (and, in HTTP mode, the service)
in child processes, never in the pytest process. Profiles are small (a few users, a
few seconds, one-step no-op workflows) and seeded.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

ONE_STEP = """\
  workflows:
    - template:
        name: smoke-one-step
        steps:
          - {id: work, action: noop}
"""


def profile(tmp_path: Path, load: str = "", *, users: int = 3, duration: float = 3.0) -> Path:
    """A profile extending BasicDevelopment with a steady load (``load`` adds fields)."""
    path = tmp_path / "Smoke.yaml"
    text = (
        "name: Smoke\nextends: BasicDevelopment\nseed: 7\nload:\n"
        f"  shape:\n    steady: {{users: {users}, duration: {duration}}}\n" + ONE_STEP + load
    )
    path.write_text(text, encoding="utf-8")
    return path


def windtunnel(*args: str, cwd: Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )


def popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["COLUMNS"] = "200"
    return env


def last_json(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
