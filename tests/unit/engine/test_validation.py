"""Validation rejects bad templates before anything runs, naming file, line, step and field."""

from __future__ import annotations

import pytest

from engine import TemplateError, WorkflowTemplate, compile_template, default_registry
from engine.loader import load_template, load_template_file

REGISTRY = default_registry()


def problems_of(text: str) -> list[str]:
    with pytest.raises(TemplateError) as info:
        load_template(text, REGISTRY, source="wf.yaml")
    return [str(p) for p in info.value.problems]


def test_a_valid_template_compiles_with_dependency_indices() -> None:
    compiled = load_template(
        "name: ok\nsteps:\n  - {id: a, action: noop}\n  - {id: b, action: noop, depends_on: [a]}\n",
        REGISTRY,
    )
    assert [s.id for s in compiled.steps] == ["a", "b"]
    assert compiled.steps[1].deps == (0,)
    assert compiled.steps[0].dependents == (1,)
    assert compiled.roots == (0,)


def test_cycle_is_reported_with_its_path() -> None:
    problems = problems_of(
        "name: c\nsteps:\n"
        "  - {id: a, action: noop, depends_on: [c]}\n"
        "  - {id: b, action: noop, depends_on: [a]}\n"
        "  - {id: c, action: noop, depends_on: [b]}\n"
    )
    assert len(problems) == 1
    assert "dependency cycle:" in problems[0]
    cycle = problems[0].split("dependency cycle: ")[1].split(" -> ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"}
    assert problems[0].startswith("wf.yaml:")


def test_self_dependency_and_unknown_dependency_with_suggestion() -> None:
    problems = problems_of(
        "name: d\nsteps:\n"
        "  - {id: cordon, action: noop}\n"
        "  - {id: drain, action: noop, depends_on: [cordn, drain]}\n"
    )
    assert (
        "wf.yaml:4 step 'drain' field 'depends_on': unknown step 'cordn' (did you mean 'cordon'?)"
        in problems
    )
    assert "wf.yaml:4 step 'drain' field 'depends_on': a step cannot depend on itself" in problems


def test_duplicate_step_ids_name_the_first_definition() -> None:
    problems = problems_of(
        "name: d\nsteps:\n  - id: a\n    action: noop\n  - id: a\n    action: noop\n"
    )
    assert problems == [
        "wf.yaml:5 step 'a' field 'id': duplicate step id (first defined at line 3)"
    ]


def test_unknown_action_suggests_the_closest_name() -> None:
    problems = problems_of("name: u\nsteps:\n  - {id: a, action: slep}\n")
    assert problems == [
        "wf.yaml:3 step 'a' field 'action': unknown action 'slep' (did you mean 'sleep'?)"
    ]


def test_invalid_expression_is_reported_at_its_line() -> None:
    problems = problems_of("name: e\nsteps:\n  - id: a\n    action: noop\n    when: 'inputs.x >'\n")
    assert len(problems) == 1
    assert problems[0].startswith(
        "wf.yaml:5 step 'a' field 'when': expression 'inputs.x >' does not compile"
    )


def test_expression_reading_unknown_root_name() -> None:
    problems = problems_of("name: e\nsteps:\n  - id: a\n    action: noop\n    when: 'env.prod'\n")
    assert "reads unknown name(s) env" in problems[0]


def test_expression_reading_a_step_that_is_not_an_ancestor() -> None:
    problems = problems_of(
        "name: e\nsteps:\n"
        "  - {id: a, action: noop}\n"
        "  - id: b\n    action: noop\n    when: \"steps.a.status == 'Succeeded'\"\n"
    )
    assert problems == [
        "wf.yaml:4 step 'b' field 'depends_on': expression reads steps.a, which is not among "
        "this step's dependencies (direct or indirect); add 'a' to depends_on"
    ]


def test_parameter_template_errors_name_the_parameter() -> None:
    problems = problems_of(
        "name: e\nsteps:\n  - id: a\n    action: noop\n    params:\n      n: '${{ inputs. }}'\n"
    )
    assert "field 'params': params.n: expression" in problems[0]


def test_invalid_retry_and_timeout_values_and_unknown_fields_all_reported_at_once() -> None:
    problems = problems_of(
        "name: r\nsteps:\n"
        "  - id: a\n"
        "    action: noop\n"
        "    timeout: -5\n"
        "    retry: {max_attempts: 0, backoff: cubic, jitter: 2}\n"
        "    colour: blue\n"
    )
    assert problems == [
        "wf.yaml:5 step 'a' field 'timeout': Input should be greater than 0",
        "wf.yaml:6 step 'a' field 'retry.max_attempts': Input should be greater than or equal to 1",
        "wf.yaml:6 step 'a' field 'retry.backoff': Input should be 'fixed', 'linear' or 'exponential'",
        "wf.yaml:6 step 'a' field 'retry.jitter': Input should be less than or equal to 1",
        "wf.yaml:7 step 'a' field 'colour': unknown field",
    ]


def test_semantic_problems_are_all_reported_together() -> None:
    problems = problems_of(
        "name: many\nsteps:\n"
        "  - {id: a, action: nope}\n"
        "  - {id: b, action: noop, depends_on: [zz]}\n"
        "  - {id: c, action: sleep, params: {secs: 1}}\n"
        "  - {id: d, action: noop, when: 'inputs.x >'}\n"
    )
    assert len(problems) == 5
    assert [p.split(" ")[0] for p in problems] == [
        "wf.yaml:3",
        "wf.yaml:4",
        "wf.yaml:5",
        "wf.yaml:5",
        "wf.yaml:6",
    ]


def test_action_parameters_are_checked_against_the_action_schema() -> None:
    problems = problems_of("name: p\nsteps:\n  - {id: a, action: sleep, params: {seconds: -1}}\n")
    assert problems == [
        "wf.yaml:3 step 'a' field 'params.seconds': Input should be greater than or equal to 0"
    ]


def test_templated_parameters_are_not_reported_missing() -> None:
    compiled = load_template(
        "name: p\ninputs: {wait: {type: number, default: 1}}\n"
        "steps:\n  - {id: a, action: sleep, params: {seconds: '${{ inputs.wait }}'}}\n",
        REGISTRY,
    )
    assert compiled.steps[0].params.constant is None


def test_wrong_types_are_reported_per_field() -> None:
    problems = problems_of(
        "name: t\nversion: two\nsteps:\n  - {id: a, action: noop, depends_on: a}\n"
    )
    assert any("field 'version'" in p for p in problems)
    assert any("step 'a' field 'depends_on'" in p for p in problems)


def test_step_ids_must_be_identifiers() -> None:
    problems = problems_of("name: t\nsteps:\n  - {id: '9 lives', action: noop}\n")
    assert "must start with a letter" in problems[0]


def test_missing_steps_and_empty_step_list() -> None:
    assert problems_of("name: t\n") == ["wf.yaml:1 field 'steps': required field is missing"]
    assert problems_of("name: t\nsteps: []\n") == [
        "wf.yaml:2 field 'steps': a workflow needs at least one step"
    ]


def test_template_built_in_python_is_validated_the_same_way() -> None:
    template = WorkflowTemplate(
        name="py",
        steps=[
            {"id": "a", "action": "noop", "depends_on": ["b"]},
            {"id": "b", "action": "noop", "depends_on": ["a"]},
        ],
    )
    with pytest.raises(TemplateError, match="dependency cycle"):
        compile_template(template, REGISTRY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [unclosed\n", "wf.yaml:2: invalid YAML"),
        ("name: a\nname: b\nsteps: []\n", "wf.yaml:2: duplicate key 'name'"),
        ("- 1\n- 2\n", "wf.yaml:1: a template must be a mapping, not list"),
        ("", "wf.yaml: the document is empty"),
        ("name: a\n---\nname: b\n", "more than one YAML document"),
        ("name: !!python/object:os.system x\n", "invalid YAML"),
    ],
)
def test_malformed_documents_get_a_template_error_not_a_traceback(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in p for p in problems), problems


def test_deeply_nested_document_is_refused() -> None:
    problems = problems_of("name: x\nsteps: " + "[" * 200 + "]" * 200 + "\n")
    assert "nested more than 64 levels" in problems[0]


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    problems = problems_of("\n".join(lines) + "\n")
    assert "expands to more than" in problems[0]


def test_oversized_document_is_refused() -> None:
    problems = problems_of("name: x\n# " + "y" * (9 * 1024 * 1024) + "\nsteps: []\n")
    assert "larger than 8 MiB" in problems[0]


def test_unreadable_file_is_a_template_error(tmp_path: pytest.TempPathFactory) -> None:
    missing = tmp_path / "missing.yaml"  # type: ignore[operator]
    with pytest.raises(TemplateError, match="cannot read the file"):
        load_template_file(missing, REGISTRY)


def test_json_templates_load_too(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "wf.json"  # type: ignore[operator]
    path.write_text('{"name": "j", "steps": [{"id": "a", "action": "noop"}]}')
    assert load_template_file(path, REGISTRY).name == "j"
