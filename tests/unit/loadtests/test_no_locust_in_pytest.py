"""``import locust`` never happens in the pytest process (it monkey-patches it for gevent).

Two checks: nothing this test run imported so far pulled Locust (or gevent's patching)
in, and, in a fresh interpreter, importing everything the pytest process may import
of ours (the CLI with every command, the plugin with every step module, the load
tests' plain modules) leaves ``locust`` out of ``sys.modules``. Only the locustfile
and the modules it imports for Locust's own process may import it; a scan of the
sources holds that list.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import loadtests

LOCUST_ONLY = {
    "locustfile.py",
    "http_user.py",
    "inprocess_user.py",
    "shapes.py",
    "bridge.py",
    "reporting.py",
}
"""The modules of loadtests/ that run only in Locust's process."""

ROOT = Path(__file__).resolve().parents[3]


def test_this_pytest_process_has_not_imported_locust() -> None:
    assert "locust" not in sys.modules
    assert not any(name.startswith("locust.") for name in sys.modules)
    import gevent.monkey  # importing the module patches nothing

    assert not gevent.monkey.is_module_patched("socket")


@pytest.mark.slow
def test_importing_everything_the_pytest_process_uses_imports_no_locust() -> None:
    plain = sorted(
        p.stem
        for p in Path(loadtests.__file__).parent.glob("*.py")
        if p.name not in LOCUST_ONLY and p.stem != "__init__"
    )
    code = "\n".join(
        [
            "import sys",
            "import harness.cli, harness.plugin",
            "from harness.steps import step_modules",
            "step_modules()",
            *(f"import loadtests.{name}" for name in plain),
            "bad = sorted(m for m in sys.modules if m == 'locust' or m.startswith('locust.'))",
            "assert not bad, bad",
            "print('ok', len(sys.modules))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


@pytest.mark.slow
def test_only_the_locust_side_modules_import_locust_or_gevent() -> None:
    offenders = []
    for folder in ("engine", "fakes", "scenarios", "harness", "loadtests", "tests", "features"):
        for path in (ROOT / folder).rglob("*.py"):
            if folder == "loadtests" and path.name in LOCUST_ONLY:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top == "locust" or (top == "gevent" and path.name != Path(__file__).name):
                        offenders.append(f"{path.relative_to(ROOT)}: {name}")
                    if folder != "loadtests" and name.split(".")[:2] in (
                        ["loadtests", n.removesuffix(".py")] for n in LOCUST_ONLY
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
