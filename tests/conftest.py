"""Test-suite configuration: deterministic Hypothesis profiles.

Hypothesis must not make the suite flaky, so CI runs derandomized. The profile is
chosen by ``WINDTUNNEL_HYPOTHESIS_PROFILE`` (``dev``, ``ci`` or ``nightly``); when it
is unset, ``ci`` is used under CI (``CI`` set) and ``dev`` elsewhere.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

_default_profile = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("WINDTUNNEL_HYPOTHESIS_PROFILE", _default_profile))
