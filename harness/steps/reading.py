"""Reading records and the cluster back, for step modules: clients, records, tables.

Not a step module itself (its name does not end in ``_steps``): the helpers here are
what several step modules read through, so each reads the same way.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from engine import ExecutionState, StepRecord
from harness.world import World


def core_api(world: World) -> Any:
    return k8s.CoreV1Api(world.bed().sync_api_client)


def apps_api(world: World) -> Any:
    return k8s.AppsV1Api(world.bed().sync_api_client)


def step_record(state: ExecutionState, step_id: str) -> StepRecord:
    try:
        return state.step(step_id)
    except KeyError as exc:
        raise AssertionError(str(exc).strip('"')) from None


async def all_final(world: World) -> list[ExecutionState]:
    bed = world.bed()
    return [await world.wait_for(i) for i in list(bed.executions)]


def table_rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [{k.strip(): v.strip() for k, v in zip(header, row, strict=True)} for row in rows]


def deployment_marks(world: World) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per deployment, what a change to it would alter (generation, replicas, metadata)."""
    marks = {}
    for d in apps_api(world).list_deployment_for_all_namespaces().items:
        meta = d.metadata
        marks[(meta.namespace, meta.name)] = (
            meta.generation,
            d.spec.replicas,
            tuple(sorted((meta.labels or {}).items())),
            tuple(sorted((meta.annotations or {}).items())),
        )
    return marks
