"""Table cells kubectl prints: the real printers' rules for durations and pod status."""

from __future__ import annotations

import pytest

from fakes.kube.tables import human_duration, to_table

NOW = 1_700_000_000.0
CREATED = "2023-11-14T22:13:00Z"  # 20 s before NOW


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (42, "42s"),
        (119, "119s"),
        (300, "5m"),
        (303, "5m3s"),
        (3600 * 2 + 60 * 10, "130m"),
        (3600 * 5 + 60 * 7, "5h7m"),
        (3600 * 30, "30h"),
        (86400 * 3 + 3600 * 4, "3d4h"),
        (86400 * 40, "40d"),
        (86400 * 365 * 3 + 86400 * 5, "3y5d"),
        (86400 * 365 * 9, "9y"),
    ],
)
def test_human_duration_matches_go(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def _pod(status: dict[str, object], deleting: bool = False) -> dict[str, object]:
    meta: dict[str, object] = {"name": "p", "creationTimestamp": CREATED}
    if deleting:
        meta["deletionTimestamp"] = CREATED
    return {
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
        "status": status,
    }


def _cells(obj: dict[str, object]) -> list[object]:
    cells: list[object] = to_table("", "pods", obj, NOW)["rows"][0]["cells"]
    return cells


def test_pod_row_counts_ready_containers_and_restarts() -> None:
    running = {"running": {"startedAt": CREATED}}
    status = {
        "phase": "Running",
        "podIP": "10.0.0.5",
        "containerStatuses": [
            {"name": "a", "ready": True, "restartCount": 2, "state": running},
            {"name": "b", "ready": False, "restartCount": 1, "state": running},
        ],
    }
    assert _cells(_pod(status)) == [
        "p",
        "1/2",
        "Running",
        "3",
        "20s",
        "10.0.0.5",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_pod_restarts_say_how_long_ago_the_last_one_was() -> None:
    # kubectl prints "RESTARTS 3 (8s ago)": the latest lastState.terminated.finishedAt.
    running = {"running": {"startedAt": CREATED}}
    status = {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "a",
                "ready": True,
                "restartCount": 2,
                "state": running,
                "lastState": {"terminated": {"finishedAt": "2023-11-14T22:13:05Z"}},
            },
            {
                "name": "b",
                "ready": True,
                "restartCount": 1,
                "state": running,
                "lastState": {"terminated": {"finishedAt": "2023-11-14T22:13:12Z"}},
            },
        ],
    }
    assert _cells(_pod(status))[3] == "3 (8s ago)"


def test_pod_row_shows_the_waiting_reason_and_terminating() -> None:
    waiting = {"waiting": {"reason": "CrashLoopBackOff"}}
    status = {
        "phase": "Running",
        "containerStatuses": [{"name": "a", "ready": False, "restartCount": 4, "state": waiting}],
    }
    assert _cells(_pod(status))[1:4] == ["0/2", "CrashLoopBackOff", "4"]
    assert _cells(_pod({"phase": "Running"}, deleting=True))[2] == "Terminating"


def test_list_table_keeps_list_metadata_and_partial_objects() -> None:
    listed = {
        "kind": "NodeList",
        "metadata": {"resourceVersion": "42", "continue": "abc"},
        "items": [
            {
                "metadata": {"name": "n1", "creationTimestamp": CREATED, "labels": {"a": "b"}},
                "spec": {"unschedulable": True},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }
        ],
    }
    table = to_table("", "nodes", listed, NOW)
    assert table["metadata"] == {"resourceVersion": "42", "continue": "abc"}
    [row] = table["rows"]
    assert row["cells"][:3] == ["n1", "Ready,SchedulingDisabled", "<none>"]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": listed["items"][0]["metadata"],  # type: ignore[index]
    }
