"""Plugin tests: a throwaway project per test, run by ``pytester`` through the real plugin.

``bdd_project`` writes a minimal project (pytest config, a three-entry requirement
catalogue and a module binding its features) into the pytester directory; a test adds
feature files and step modules and runs pytest on it, in-process or with xdist.
"""

from __future__ import annotations

import pytest
from bdd_project import Project


@pytest.fixture
def bdd_project(pytester: pytest.Pytester) -> Project:
    return Project(pytester)
