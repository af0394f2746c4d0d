"""The service is part of the engine: importing it loads nothing from the packages above."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_engine_service_imports_no_harness_fakes_or_scenarios() -> None:
    code = (
        "import json, sys; import engine.service; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "engine" in loaded
    assert not loaded & {"harness", "fakes", "scenarios", "loadtests", "locust"}
