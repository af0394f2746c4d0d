"""Simulated surroundings for the engine: in-memory stores and the simulated Kubernetes API."""
