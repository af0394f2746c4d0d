"""Node remediations: cordon, uncordon and drain (evictions that honour PDBs).

``drain_node`` follows ``kubectl drain``: cordon, then evict every pod on the node
through the ``pods/eviction`` subresource so PodDisruptionBudgets hold -- skipping
DaemonSet pods (``ignore_daemonsets``) and mirror pods, refusing pods without a
controller unless ``force``. A 429 refusal (a budget that allows no disruption now,
or throttling) is retried after the namespace's pods change or the server's
``Retry-After`` (5 s at most) passes, until ``timeout``. Then, with
``wait_for_replacements``, it watches until every evicted pod's controller has a new
Running+Ready pod on another node. The compensation of a drain is uncordon.

Cordon and uncordon (a drain's cordon too) confirm the node read back has the wanted
``spec.unschedulable`` within ``timeout`` (:mod:`.verify`): a drain never evicts from
a node that still takes pods.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

from engine.actions import ActionContext
from engine.errors import PermanentError
from engine.kube_actions.errors import KubeApiError, KubeTransientError, WaitTimeoutError
from engine.kube_actions.pods import controller_of, replacements
from engine.kube_actions.rest import JsonObj, Kube, object_path
from engine.kube_actions.verify import confirm, show
from engine.kube_actions.waiting import wait_for

MIRROR = "kubernetes.io/config.mirror"
EVICTION_RETRY_CAP = 5.0


def _node_path(name: str) -> str:
    return object_path("v1", "nodes", None, name)


async def _set_unschedulable(
    kube: Kube, name: str, value: bool, dry_run: bool, timeout: float
) -> tuple[bool, JsonObj]:
    """``(was unschedulable, the node)``; the node as read back unless ``dry_run``."""
    path = _node_path(name)
    before = await kube.get(path)
    was = bool((before.get("spec") or {}).get("unschedulable"))
    wanted = True if value else None
    after = await kube.patch(path, {"spec": {"unschedulable": wanted}}, dry_run=dry_run)
    if dry_run:
        return was, after

    def holds(node: JsonObj) -> str | None:
        found = (node.get("spec") or {}).get("unschedulable")
        if bool(found) == value:
            return None
        return f"spec.unschedulable is {show(found)}, wanted {show(wanted)}"

    verb = "cordon" if value else "uncordon"
    node = await confirm(
        kube,
        path,
        holds,
        timeout=timeout,
        what=f"{verb} of node '{name}'",
        subject=f"node '{name}'",
    )
    return was, node


async def _set_schedulable(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any], unschedulable: bool
) -> dict[str, Any]:
    was, after = await _set_unschedulable(
        kube, params["name"], unschedulable, ctx.dry_run, params["timeout"]
    )
    out = {"was_unschedulable": was, "unschedulable": bool(after["spec"].get("unschedulable"))}
    return {**out, "dry_run": True} if ctx.dry_run else out


async def cordon_node(kube: Kube, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Mark a node unschedulable; confirm the node read back is."""
    return await _set_schedulable(kube, ctx, params, True)


async def uncordon_node(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Mark a node schedulable again; confirm the node read back is."""
    return await _set_schedulable(kube, ctx, params, False)


def undo_cordon(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if outputs.get("dry_run") or outputs.get("was_unschedulable"):
        return None  # it was cordoned before: leave it so
    return "uncordon_node", {"name": outputs["name"]}


def undo_uncordon(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if outputs.get("dry_run") or not outputs.get("was_unschedulable"):
        return None
    return "cordon_node", {"name": outputs["name"]}


def _classify_pods(
    pods: list[JsonObj], params: Mapping[str, Any]
) -> tuple[list[JsonObj], list[str]]:
    """``(to evict, skipped descriptions)``; raises for pods kubectl would refuse."""
    evict, skipped, unmanaged, local = [], [], [], []
    for pod in pods:
        meta = pod["metadata"]
        ref = f"{meta['namespace']}/{meta['name']}"
        if meta.get("deletionTimestamp"):
            continue
        if MIRROR in (meta.get("annotations") or {}):
            skipped.append(f"{ref} (mirror pod)")
            continue
        owner = controller_of(pod)
        if owner is not None and owner.get("kind") == "DaemonSet":
            if not params["ignore_daemonsets"]:
                raise PermanentError(
                    f"cannot drain node '{params['name']}': DaemonSet pod {ref} "
                    "(set ignore_daemonsets: true to skip DaemonSet pods)"
                )
            skipped.append(f"{ref} (DaemonSet)")
            continue
        terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        if owner is None and not terminal and not params["force"]:
            unmanaged.append(ref)
        volumes = (pod.get("spec") or {}).get("volumes") or ()
        if any("emptyDir" in v for v in volumes) and not params["delete_emptydir_data"]:
            local.append(ref)
        evict.append(pod)
    if unmanaged:
        raise PermanentError(
            f"cannot drain node '{params['name']}': pods without a controller would be lost: "
            f"{', '.join(unmanaged)} (set force: true to evict them anyway)"
        )
    if local:
        raise PermanentError(
            f"cannot drain node '{params['name']}': pods with emptyDir data: "
            f"{', '.join(local)} (set delete_emptydir_data: true to evict them anyway)"
        )
    return evict, skipped


async def _until_pods_change(kube: Kube, namespace: str, seconds: float) -> None:
    """Return at the next pod change in ``namespace`` or after ``seconds``."""
    first = True

    def changed(_: list[JsonObj]) -> tuple[bool, Any]:
        nonlocal first
        if first:
            first = False
            return False, "waiting for a pod change"
        return True, None

    try:
        await wait_for(
            kube, object_path("v1", "pods", namespace), changed, timeout=seconds, what="pods"
        )
    except WaitTimeoutError:
        return


async def _evict(
    kube: Kube, pod: JsonObj, params: Mapping[str, Any], deadline: float, dry_run: bool
) -> int:
    """Evict one pod, retrying budget refusals until ``deadline``; the refusals seen."""
    meta = pod["metadata"]
    ns, name = meta["namespace"], meta["name"]
    body: JsonObj = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": ns},
        "deleteOptions": {"preconditions": {"uid": meta["uid"]}},
    }
    if params.get("grace_period_seconds") is not None:
        body["deleteOptions"]["gracePeriodSeconds"] = params["grace_period_seconds"]
    loop = asyncio.get_running_loop()
    refusals = 0
    last = ""
    while True:
        try:
            await kube.request(
                "POST",
                object_path("v1", "pods", ns, name) + "/eviction",
                body=body,
                dry_run=dry_run,
            )
            return refusals
        except KubeTransientError as exc:
            if exc.status != 429:
                raise  # throttling of another kind and 5xx: the step's retry policy decides
            refusals += 1
            last = str(exc)
            left = deadline - loop.time()
            if left <= 0:
                raise WaitTimeoutError(
                    f"drain of node '{params['name']}': eviction of pod {ns}/{name} still "
                    f"refused after {params['timeout']:g}s: {last}"
                ) from exc
            wait = min(exc.retry_after or EVICTION_RETRY_CAP, EVICTION_RETRY_CAP, left)
            await _until_pods_change(kube, ns, wait)
        except KubeApiError as exc:
            if exc.status == 404 or (exc.status == 409 and "uid" in str(exc).lower()):
                return refusals  # already gone (or replaced by a namesake)
            raise


async def drain_node(kube: Kube, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Cordon a node and evict its pods honouring PDBs; wait until they run elsewhere."""
    node = params["name"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + params["timeout"]
    was, _ = await _set_unschedulable(kube, node, True, ctx.dry_run, params["timeout"])
    listed = await kube.get(object_path("v1", "pods"), fieldSelector=f"spec.nodeName={node}")
    pods = list(listed.get("items") or ())
    evict, skipped = _classify_pods(pods, params)
    # Every pod that exists now, on any node, is not a replacement.
    known = {p["metadata"]["uid"] for p in pods}
    for ns in sorted({p["metadata"]["namespace"] for p in evict}):
        listed_ns = await kube.get(object_path("v1", "pods", ns))
        known.update(p["metadata"]["uid"] for p in listed_ns.get("items") or ())
    refusals = await asyncio.gather(
        *(_evict(kube, p, params, deadline, ctx.dry_run) for p in evict)
    )
    names = sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in evict)
    out: dict[str, Any] = {
        "was_unschedulable": was,
        "evicted": names,
        "skipped": sorted(skipped),
        "eviction_refusals": sum(refusals),
    }
    if ctx.dry_run:
        return {**out, "dry_run": True}
    if not params["wait_for_replacements"]:
        return out
    wanted: Counter[tuple[str, str]] = Counter()
    owners: dict[tuple[str, str], str] = {}
    for p in evict:
        owner = controller_of(p)
        if owner is not None:
            key = (p["metadata"]["namespace"], owner["uid"])
            wanted[key] += 1
            owners[key] = f"{owner['kind']}/{owner['name']}"
    namespaces = {ns for ns, _ in wanted}
    path = (
        object_path("v1", "pods", next(iter(namespaces)))
        if len(namespaces) == 1
        else object_path("v1", "pods")
    )

    def replaced(items: list[JsonObj]) -> tuple[bool, Any]:
        found: dict[str, list[str]] = {}
        missing = []
        for (ns, uid), count in wanted.items():
            ready = [
                p for p in replacements(items, uid, known, node) if p["metadata"]["namespace"] == ns
            ]
            if len(ready) < count:
                missing.append(f"{ns} {owners[(ns, uid)]}: {len(ready)}/{count} Ready")
            found[f"{ns}/{owners[(ns, uid)]}"] = sorted(
                p["metadata"]["name"] for p in ready[:count]
            )
        if missing:
            return False, "replacements not Ready yet: " + "; ".join(sorted(missing))
        return True, found

    left = max(deadline - loop.time(), 0.001)
    out["replacements"] = (
        await wait_for(kube, path, replaced, timeout=left, what=f"drain of node '{node}'")
        if wanted
        else {}
    )
    return out


def undo_drain(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    return undo_cordon(outputs)
