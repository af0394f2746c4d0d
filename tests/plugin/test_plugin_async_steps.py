"""Async steps: wrapped ones run on the scenario's virtual-time loop; bare ones are refused."""

from __future__ import annotations

from bdd_project import Project

FEATURE = """\
Feature: Async steps
  Scenario: An async Then
    Given a number
    Then it is checked asynchronously
"""


def test_a_wrapped_async_step_that_fails_fails_the_scenario(bdd_project: Project) -> None:
    bdd_project.feature("async", FEATURE)
    bdd_project.steps(
        """
        from pytest_bdd import given, then
        from harness.steps import async_step

        @given("a number", target_fixture="number")
        def number():
            return 41

        @then("it is checked asynchronously")
        @async_step
        async def checked(number):
            assert number == 42, "the async check ran and saw 41"
        """
    )
    result = bdd_project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the async check ran and saw 41*"])


def test_a_wrapped_async_step_runs_on_virtual_time(bdd_project: Project) -> None:
    bdd_project.feature("async", FEATURE)
    bdd_project.steps(
        """
        import asyncio, time
        from pytest_bdd import given, then
        from harness.steps import async_step

        @given("a number", target_fixture="number")
        def number():
            return 42

        @then("it is checked asynchronously")
        @async_step
        async def checked(number, world):
            wall = time.monotonic()
            await asyncio.sleep(3600)  # an hour of virtual time
            assert world.now() == 3600
            assert time.monotonic() - wall < 5
            assert asyncio.get_running_loop() is world.loop
            assert number == 42
        """
    )
    result = bdd_project.run()
    result.assert_outcomes(passed=1)


def test_an_unwrapped_async_step_fails_loudly(bdd_project: Project) -> None:
    bdd_project.feature("async", FEATURE)
    bdd_project.steps(
        """
        from pytest_bdd import given, then

        @given("a number", target_fixture="number")
        def number():
            return 41

        @then("it is checked asynchronously")
        async def checked(number):
            assert number == 42
        """
    )
    result = bdd_project.run()
    result.assert_outcomes(failed=1)
    text = " ".join(result.stdout.str().split())
    assert (
        "AsyncStepError: step 'Then it is checked asynchronously' is implemented by "
        "'async def checked'" in text
    )
    assert "never awaits" in text
    assert "Decorate it with @harness.steps.async_step" in text


def test_async_step_refuses_a_plain_function() -> None:
    import pytest

    from harness.steps import async_step

    def plain() -> None:
        """Not a coroutine function."""

    with pytest.raises(TypeError, match=r"wraps an 'async def' step; .*plain is not one"):
        async_step(plain)
