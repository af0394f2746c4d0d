"""``delete_pod``: delete a pod and wait until its controller's replacement is Ready.

A replacement is a pod owned by the same controller (same owner uid) that did not
exist before the deletion and is Running with ``Ready=True`` -- for a StatefulSet it
has the same name but a new uid. A pod without a controller has no replacement; the
action then waits until the pod is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.actions import ActionContext
from engine.kube_actions.rest import JsonObj, Kube, object_path
from engine.kube_actions.waiting import wait_for


def controller_of(pod: JsonObj) -> JsonObj | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return dict(ref)
    return None


def is_ready(pod: JsonObj) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )


def replacements(
    pods: Iterable[JsonObj], owner_uid: str, known: set[str], avoid_node: str | None = None
) -> list[JsonObj]:
    """Ready pods of owner ``owner_uid`` not in ``known`` (uids), not on ``avoid_node``."""
    out = []
    for pod in pods:
        ref = controller_of(pod)
        if ref is None or ref.get("uid") != owner_uid or pod["metadata"]["uid"] in known:
            continue
        if avoid_node is not None and (pod.get("spec") or {}).get("nodeName") == avoid_node:
            continue
        if is_ready(pod):
            out.append(pod)
    return out


def selector_of(pod: JsonObj) -> str:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "pod-template-hash")


async def delete_pod(kube: Kube, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Delete a pod; wait for its replacement (same owner) to be Running and Ready."""
    ns, name = params["namespace"], params["name"]
    pods_path = object_path("v1", "pods", ns)
    pod = await kube.get(f"{pods_path}/{name}")
    owner = controller_of(pod)
    selector = selector_of(pod)
    before = await kube.get(pods_path, labelSelector=selector or None)
    known = {p["metadata"]["uid"] for p in before.get("items") or ()}
    body: JsonObj = {"apiVersion": "v1", "kind": "DeleteOptions"}
    if params.get("grace_period_seconds") is not None:
        body["gracePeriodSeconds"] = params["grace_period_seconds"]
    body["preconditions"] = {"uid": pod["metadata"]["uid"]}
    await kube.request("DELETE", f"{pods_path}/{name}", body=body, dry_run=ctx.dry_run)
    out: dict[str, Any] = {
        "pod": name,
        "uid": pod["metadata"]["uid"],
        "node": (pod.get("spec") or {}).get("nodeName"),
        "owner": f"{owner['kind']}/{owner['name']}" if owner else None,
    }
    if ctx.dry_run:
        return {**out, "dry_run": True}
    if not params["wait"]:
        return out
    if owner is None:
        uid = pod["metadata"]["uid"]

        def gone(items: list[JsonObj]) -> tuple[bool, Any]:
            alive = any(p["metadata"]["uid"] == uid for p in items)
            return (False, f"pod {ns}/{name} still exists") if alive else (True, None)

        await wait_for(
            kube,
            pods_path,
            gone,
            timeout=params["timeout"],
            what=f"deletion of pod {ns}/{name}",
            field_selector=f"metadata.name={name}",
        )
        return {**out, "replacement": None, "replacement_node": None}

    def replaced(items: list[JsonObj]) -> tuple[bool, Any]:
        ready = replacements(items, owner["uid"], known)
        if ready:
            return True, ready[0]
        return False, f"no Ready replacement from {owner['kind']}/{owner['name']} yet"

    new = await wait_for(
        kube,
        pods_path,
        replaced,
        timeout=params["timeout"],
        what=f"replacement of pod {ns}/{name}",
        label_selector=selector or None,
    )
    return {
        **out,
        "replacement": new["metadata"]["name"],
        "replacement_node": (new.get("spec") or {}).get("nodeName"),
    }
