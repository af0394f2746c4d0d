"""The BDD harness: pytest plugin, step library, requirement catalogue, reports and CLI."""
