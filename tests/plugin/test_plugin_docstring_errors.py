"""A workflow written in a feature's docstring is checked with the feature's own lines."""

from __future__ import annotations

from bdd_project import Project


def test_a_bad_inline_workflow_is_reported_at_its_feature_file_line(bdd_project: Project) -> None:
    bdd_project.feature(
        "bad",
        '''\
        Feature: Bad
          Scenario: A typo and a cycle
            Given the workflow:
              """
              name: broken
              steps:
                - id: a
                  action: noop
                  depends_on: [b]
                - id: b
                  action: noop
                  depends_on: [a]
                  retyr: {max_attempts: 2}
              """
        ''',
    )
    result = bdd_project.run()
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    # line 13 of the feature file holds the unknown field 'retyr'
    assert "features/bad.feature:13 step 'b' field 'retyr'" in text, text
