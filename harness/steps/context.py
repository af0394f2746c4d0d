"""Where a step is: the feature file and the Gherkin step being run, for error messages.

The plugin records both on the test item before each step; steps that parse text from
the feature (a docstring of YAML) use them so that a problem in it is reported at the
feature file's own line, as a user would look for it.
"""

from __future__ import annotations

from typing import Any

import pytest

FEATURE_FILE = pytest.StashKey[str]()
"""The feature file of the scenario the item runs."""
CURRENT_STEP = pytest.StashKey[Any]()
"""The pytest-bdd ``Step`` being run (``line_number``, ``keyword``, ``name``)."""


def docstring_origin(request: pytest.FixtureRequest) -> tuple[str, int]:
    """``(source, lines_before)`` of the running step's docstring in its feature file.

    ``lines_before`` is how many lines precede the docstring's first line: prefix that
    many newlines to the docstring and a parser's line numbers are the file's.
    """
    feature = request.node.stash.get(FEATURE_FILE, None)
    step = request.node.stash.get(CURRENT_STEP, None)
    if feature is None or step is None:
        return "the step's docstring", 0
    # The step's line, then the opening quotes; the text starts on the line after them.
    return feature, int(step.line_number) + 1
