"""Locust users, load shapes and SLO checks. Imported only in Locust's own process."""
