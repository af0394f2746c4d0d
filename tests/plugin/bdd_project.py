"""A throwaway project per plugin test: pytest config, a catalogue, a feature binding."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

CATALOGUE = """\
requirements:
  - id: BR-WORKFLOW-001
    title: Basic execution
    description: A workflow runs.
    priority: critical
    area: execution
  - id: BR-WORKFLOW-002
    title: Dependencies
    description: Order is kept.
    priority: high
    area: execution
  - id: BR-WORKFLOW-038
    title: Load SLOs
    description: Not covered here.
    priority: medium
    area: load
"""

PYPROJECT = """\
[tool.pytest.ini_options]
addopts = ["-p", "no:locust", "-p", "no:randomly", "-p", "no:cacheprovider"]
filterwarnings = ["error"]
asyncio_default_fixture_loop_scope = "function"
"""

BINDING = """\
from pytest_bdd import scenarios

scenarios(".")
"""


class Project:
    """The project under test: write files into it, run pytest on it."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = Path(pytester.path)
        self.write("pyproject.toml", PYPROJECT)
        self.write("features/requirements.yaml", CATALOGUE)
        # Not test_features.py: the repository's own binding module has that name, and an
        # in-process pytester run shares sys.modules with the session that collected it.
        self.write("features/test_project_features.py", BINDING)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def feature(self, name: str, text: str) -> Path:
        return self.write(f"features/{name}.feature", text)

    def run(self, *args: str) -> pytest.RunResult:
        """pytest on the project, in a child process.

        Not in-process: pytester then restores ``sys.modules`` afterwards, dropping the
        kubernetes model modules the run imported first, and a later test in this
        process would meet a second ``V1Pod`` class that the client's validators reject.
        """
        return self.pytester.runpytest_subprocess(*args, timeout=300)

    def steps(self, text: str) -> Path:
        """Steps of the project's own, in the features folder's conftest."""
        return self.write("features/conftest.py", text)
