"""Requirement tags: marks for selection, catalogue checks with file:line, tag scope."""

from __future__ import annotations

from bdd_project import Project

STEPS = """
from pytest_bdd import given, then, parsers

@given(parsers.parse("the value {value:d}"), target_fixture="value")
def value(value):
    return value

@then(parsers.parse("it is {expected:d}"))
def check(value, expected):
    assert value == expected, f"value is {value}, expected {expected}"
"""


def test_an_unknown_requirement_tag_is_an_error_at_its_file_and_line(
    bdd_project: Project,
) -> None:
    bdd_project.steps(STEPS)
    bdd_project.feature(
        "typo",
        """\
        Feature: Typo
          @BR-WORKFLOW-001
          Scenario: Fine
            Given the value 1
            Then it is 1

          @BR-WORKFLOW-0001
          Scenario: Mistyped
            Given the value 1
            Then it is 1
        """,
    )
    for args in ([], ["-n", "2"]):  # before collection, so before xdist starts workers
        result = bdd_project.run(*args)
        assert result.ret == 4  # a usage error: nothing runs
        text = result.stderr.str()
        assert "features/typo.feature:7: tag @BR-WORKFLOW-0001 names no requirement in" in text
        assert "features/requirements.yaml (did you mean @BR-WORKFLOW-001?)" in text
        assert "INTERNALERROR" not in result.stdout.str() + text


def test_tags_become_marks_and_a_feature_tag_covers_its_scenarios(bdd_project: Project) -> None:
    bdd_project.steps(STEPS)
    bdd_project.feature(
        "marks",
        """\
        @BR-WORKFLOW-001
        Feature: Marks
          Scenario: Only the feature's tag
            Given the value 1
            Then it is 1

          @BR-WORKFLOW-002
          Scenario: Both tags
            Given the value 2
            Then it is 2

          Rule: Ruled
            Scenario: Under the feature's tag too
              Given the value 3
              Then it is 3
        """,
    )
    result = bdd_project.run("-m", "BR-WORKFLOW-002", "-v")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*test_both_tags PASSED*"])
    result = bdd_project.run("-m", "BR-WORKFLOW-001")
    result.assert_outcomes(passed=3)


def test_a_catalogue_with_problems_names_them_at_file_and_line(bdd_project: Project) -> None:
    bdd_project.write(
        "features/requirements.yaml",
        """\
        requirements:
          - id: BR-WORKFLOW-001
            title: One
            description: d
            priority: critical
            area: a
          - id: BR-WORKFLOW-001
            title: Again
            description: d
            priority: urgent
            area: a
        """,
    )
    result = bdd_project.run()
    assert result.ret == 4
    text = result.stderr.str()
    assert "requirement catalogue: 1 problem" in text
    assert "requirements.yaml:10 field 'requirements.1.priority'" in text
