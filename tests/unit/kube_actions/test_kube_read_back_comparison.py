"""``differences``: what an object read back lacks of what was wanted, as the server stores it.

The comparison must not cry wolf at what a real server does to an object (defaults,
canonical quantities, reordered or added list items, dropped empty values) and must
see every wanted value that is not there.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.kube_actions.verify import differences, show


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ({"a": 1}, {"a": 1, "added": "by the server"}),
        ({"cpu": "0.5", "memory": "1024Mi"}, {"cpu": "500m", "memory": "1Gi"}),
        ({"replicas": 1}, {"replicas": 1.0}),
        ({"gone": None}, {}),
        ({"resources": {}, "args": []}, {}),
        (
            {"ports": [{"containerPort": 80}, {"containerPort": 9090, "name": "metrics"}]},
            {
                "ports": [
                    {"containerPort": 9090, "name": "metrics", "protocol": "TCP"},
                    {"containerPort": 80, "protocol": "TCP"},
                    {"containerPort": 7000, "protocol": "TCP"},
                ]
            },
        ),
        ({"args": ["--a", "--b"]}, {"args": ["--b", "--a"]}),
    ],
    ids=[
        "added-fields",
        "canonical-quantities",
        "numbers",
        "null-is-absent",
        "empty-values-dropped",
        "list-items-by-content",
        "scalar-items",
    ],
)
def test_what_the_server_does_to_an_object_is_no_difference(wanted: Any, found: Any) -> None:
    assert differences(wanted, found) == []


@pytest.mark.parametrize(
    ("wanted", "found", "lines"),
    [
        ({"data": {"level": "debug"}}, {"data": {"level": "info"}}, ["data.level is 'info'"]),
        ({"data": {"level": "debug"}}, {}, ["data.level is unset"]),
        ({"gone": None}, {"gone": "still"}, ["gone is 'still', wanted unset"]),
        ({"cpu": "1"}, {"cpu": "999m"}, ["cpu is '999m', wanted '1'"]),
        ({"on": True}, {"on": 1}, ["on is 1, wanted true"]),
        ({"n": 3}, {"n": "3x"}, ["n is '3x', wanted 3"]),
        (
            {"containers": [{"name": "main", "image": "web:2"}]},
            {"containers": [{"name": "main", "image": "web:1"}, {"name": "side", "image": "s"}]},
            ["containers[main].image is 'web:1', wanted 'web:2'"],
        ),
        (
            {"containers": [{"name": "side", "image": "s"}]},
            {"containers": [{"name": "main", "image": "web:1"}]},
            ["containers[side] is missing"],
        ),
        (
            {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}},
            {"metadata": {"labels": {}}},
            ["metadata.labels['app.kubernetes.io/name'] is unset, wanted 'web'"],
        ),
        ({"spec": {"a": 1}}, {"spec": "text"}, ["spec is 'text', wanted a map"]),
    ],
)
def test_every_wanted_value_that_is_not_there_is_one_line(
    wanted: Any, found: Any, lines: list[str]
) -> None:
    found_lines = differences(wanted, found)
    assert len(found_lines) == len(lines), found_lines
    for line, start in zip(found_lines, lines, strict=True):
        assert line.startswith(start), line


def test_the_word_says_what_the_wanted_value_was() -> None:
    assert differences({"a": "x"}, {"a": "y"}, word="applied") == ["a is 'y', applied 'x'"]


def test_values_show_as_a_user_reads_them() -> None:
    assert [show(v) for v in (None, True, "x", 3, {"b": 1})] == [
        "unset",
        "true",
        "'x'",
        "3",
        '{"b": 1}',
    ]
