"""Binds every feature file under this folder to pytest (the steps come from the plugin)."""

from pytest_bdd import scenarios

scenarios(".")
