"""Tools for testing code built on the engine: Hypothesis strategies for templates.

Kept out of ``engine/__init__.py`` so that importing the engine never imports
Hypothesis; ``import engine.testing`` when you write property tests.
"""

from __future__ import annotations

from engine.testing.strategies import (
    MAX_STEPS,
    Dag,
    dags,
    retry_policies,
    workflow_inputs,
    workflow_templates,
)

__all__ = [
    "MAX_STEPS",
    "Dag",
    "dags",
    "retry_policies",
    "workflow_inputs",
    "workflow_templates",
]
