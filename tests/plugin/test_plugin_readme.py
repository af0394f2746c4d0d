"""The README's feature example is complete: it runs, as written, and passes."""

from __future__ import annotations

import re
from pathlib import Path

from bdd_project import Project

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"<!-- readme-example: (?P<path>\S+) -->\n```gherkin\n(?P<body>.*?)```", re.S)


def test_the_readme_feature_example_runs_and_passes(bdd_project: Project) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = list(MARKER.finditer(readme))
    assert examples, "the README lost its marked feature example"
    catalogue = (ROOT / "features" / "requirements.yaml").read_text(encoding="utf-8")
    bdd_project.write("features/requirements.yaml", catalogue)
    for example in examples:
        bdd_project.write(example["path"], example["body"])
    result = bdd_project.run("-v")
    result.assert_outcomes(passed=len(examples))
