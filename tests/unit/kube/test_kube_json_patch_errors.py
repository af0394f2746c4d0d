"""JSON patch failures read as kube's (evanphx/json-patch) messages, not Python's."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.kube.patch import PatchError, json_patch

DOC: dict[str, Any] = {
    "metadata": {"labels": {"c": "9"}},
    "spec": {"containers": [{"name": "app"}]},
}


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (
            {"op": "test", "path": "/metadata/labels/c", "value": "0"},
            "testing value /metadata/labels/c failed: test failed",
        ),
        (
            {"op": "test", "path": "/metadata/labels/absent", "value": "0"},
            "testing value /metadata/labels/absent failed: test failed",
        ),
        (
            {"op": "test", "path": "/metadata/nothing/c", "value": "0"},
            "test operation does not apply: is missing path: /metadata/nothing/c: missing value",
        ),
        (
            {"op": "remove", "path": "/metadata/nothing/c"},
            'remove operation does not apply: doc is missing path: "/metadata/nothing/c": '
            "missing value",
        ),
        (
            {"op": "remove", "path": "/metadata/labels/absent"},
            "error in remove for path: '/metadata/labels/absent': "
            "Unable to remove nonexistent key: absent: missing value",
        ),
        (
            {"op": "remove", "path": "/spec/containers/3"},
            "error in remove for path: '/spec/containers/3': "
            "Unable to access invalid index: 3: invalid index referenced",
        ),
        (
            {"op": "add", "path": "/metadata/nothing/c", "value": "1"},
            'add operation does not apply: doc is missing path: "/metadata/nothing/c": '
            "missing value",
        ),
        (
            {"op": "add", "path": "/spec/containers/5", "value": {}},
            "error in add for path: '/spec/containers/5': "
            "Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            {"op": "replace", "path": "/metadata/nothing/c", "value": "1"},
            "replace operation does not apply: doc is missing path: /metadata/nothing/c: "
            "missing value",
        ),
        (
            {"op": "replace", "path": "/spec/containers/2", "value": {}},
            "replace operation does not apply: doc is missing key: /spec/containers/2: "
            "missing value",
        ),
        (
            {"op": "move", "from": "/metadata/nothing/c", "path": "/metadata/d"},
            "move operation does not apply: doc is missing from path: /metadata/nothing/c: "
            "missing value",
        ),
        ({"op": "frobnicate", "path": "/a"}, "Unexpected kind: frobnicate"),
        ({"path": "/a"}, "Unexpected kind: unknown"),
        (
            {"op": "replace", "value": 1},
            "replace operation failed to decode path: operation missing path field: missing value",
        ),
    ],
)
def test_a_failed_operation_reads_as_kube_says_it(op: dict[str, Any], message: str) -> None:
    with pytest.raises(PatchError) as err:
        json_patch(DOC, [op])
    assert str(err.value) == message


def test_the_failing_operation_is_judged_on_the_document_the_earlier_ones_left() -> None:
    ops = [
        {"op": "remove", "path": "/metadata/labels/c"},
        {"op": "test", "path": "/metadata/labels/c", "value": "9"},
    ]
    with pytest.raises(PatchError) as err:
        json_patch(DOC, ops)
    assert str(err.value) == "testing value /metadata/labels/c failed: test failed"
    assert DOC["metadata"]["labels"] == {"c": "9"}


def test_a_passing_patch_is_applied_to_a_copy() -> None:
    ops = [
        {"op": "test", "path": "/metadata/labels/c", "value": "9"},
        {"op": "replace", "path": "/metadata/labels/c", "value": "0"},
    ]
    assert json_patch(DOC, ops)["metadata"]["labels"] == {"c": "0"}
    assert DOC["metadata"]["labels"] == {"c": "9"}
