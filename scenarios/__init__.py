"""Scenario profiles: declarative cluster, fault, engine and load settings, and their builder."""
