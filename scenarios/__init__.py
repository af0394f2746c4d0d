"""Scenario profiles: declarative cluster, fault, engine and load settings, and their builder.

A profile is one YAML file (``scenarios/profiles/NAME.yaml``) that may extend another
and use named blocks (``scenarios/blocks/``)::

    profile = load_profile("HighLoadProduction")     # resolved, validated
    sim = await build_cluster(profile)                # started, settled, on the loop
    setup = engine_settings(profile)                  # Engine kwargs, template defaults
"""

from __future__ import annotations

from scenarios.builder import EngineSetup, ScenarioCluster, build_cluster, engine_settings
from scenarios.errors import ProfileError
from scenarios.loader import list_profiles, load_profile, profile_path, resolve_profile
from scenarios.schema import Profile

__all__ = [
    "EngineSetup",
    "Profile",
    "ProfileError",
    "ScenarioCluster",
    "build_cluster",
    "engine_settings",
    "list_profiles",
    "load_profile",
    "profile_path",
    "resolve_profile",
]
