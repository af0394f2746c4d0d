"""Command groups of the ``windtunnel`` CLI, one module each."""
