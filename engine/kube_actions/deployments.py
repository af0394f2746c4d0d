"""Deployment remediations: scale, restart, wait for a rollout, raise resources, roll back.

Each mutates through the API (``dryRun=All`` in a dry run, when it also skips the
wait) and, unless told not to wait, watches the Deployment until the change is
rolled out and Ready. Outputs are what a later step or a compensation needs.

None trusts the API's answer: the Deployment read back must show the change (the new
``spec.replicas``, the restart stamp on the pod template, the new resources, the old
revision's template) before its rollout counts; without a wait the change is still
read back (:mod:`.verify`), within ``timeout``. ``rollout_restart`` waits by default,
for the restarted revision to be rolled out: every replica updated and available.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.actions import ActionContext
from engine.errors import PermanentError
from engine.kube_actions.rest import STRATEGIC_PATCH, JsonObj, Kube, object_path
from engine.kube_actions.rollout import (
    REVISION,
    deployment_path,
    events_version,
    rollout_outputs,
    wait_for_rollout,
)
from engine.kube_actions.verify import Expect, confirm, differences, show

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_UNCOPIED_LABELS = ("pod-template-hash",)


def _ready(d: JsonObj) -> int:
    return int((d.get("status") or {}).get("readyReplicas") or 0)


async def _changed(
    kube: Kube, params: Mapping[str, Any], verb: str, expect: Expect, **wait: Any
) -> JsonObj:
    """The Deployment read back showing the change: rolled out too if ``params["wait"]``."""
    ns, name = params["namespace"], params["name"]
    if params["wait"]:
        return await wait_for_rollout(kube, ns, name, params["timeout"], expect=expect, **wait)
    return await confirm(
        kube,
        deployment_path(ns, name),
        expect,
        timeout=params["timeout"],
        what=f"{verb} of deployment {ns}/{name}",
        subject=f"deployment {ns}/{name}",
    )


async def scale_deployment(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Set a Deployment's replicas; wait until that many are ready."""
    ns, name, replicas = params["namespace"], params["name"], int(params["replicas"])
    path = deployment_path(ns, name)
    before = await kube.get(path + "/scale")
    previous = int((before.get("spec") or {}).get("replicas") or 0)
    await kube.patch(path + "/scale", {"spec": {"replicas": replicas}}, dry_run=ctx.dry_run)
    if ctx.dry_run:
        current = await kube.get(path)
        return {
            "previous_replicas": previous,
            "replicas": replicas,
            "ready_replicas": _ready(current),
            "dry_run": True,
        }

    def scaled(d: JsonObj) -> str | None:
        found = (d.get("spec") or {}).get("replicas")
        return None if found == replicas else f"spec.replicas is {show(found)}, wanted {replicas}"

    done = await _changed(kube, params, "scale", scaled)
    out = {"previous_replicas": previous, "replicas": replicas, "ready_replicas": _ready(done)}
    return out if params["wait"] else {**out, "dry_run": False}


def undo_scale(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if "previous_replicas" not in outputs or outputs.get("dry_run"):
        return None
    return "scale_deployment", {
        "namespace": outputs["namespace"],
        "name": outputs["name"],
        "replicas": outputs["previous_replicas"],
    }


async def rollout_restart(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Restart a Deployment's pods the way ``kubectl rollout restart`` does."""
    ns, name = params["namespace"], params["name"]
    # Wall-clock time, as kubectl writes it; sub-second precision so that two restarts
    # within one second (common under virtual time) are still two changes.
    stamp = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    patched = await kube.patch(
        deployment_path(ns, name), patch, content_type=STRATEGIC_PATCH, dry_run=ctx.dry_run
    )
    out: dict[str, Any] = {"restarted_at": stamp, "generation": patched["metadata"]["generation"]}
    if ctx.dry_run:
        return {**out, "dry_run": True}

    def restarted(d: JsonObj) -> str | None:
        template = (d.get("spec") or {}).get("template") or {}
        found = ((template.get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT)
        if found == stamp:
            return None
        return f"pod template annotation {RESTARTED_AT} is {show(found)}, wanted {show(stamp)}"

    done = await _changed(kube, params, "restart", restarted)
    out["generation"] = done["metadata"]["generation"]
    if params["wait"]:
        out.update(rollout_outputs(done))
    return out


async def wait_for_rollout_action(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Wait until a Deployment's rollout is complete and every replica Ready."""
    ns, name = params["namespace"], params["name"]
    if ctx.dry_run:
        return {**rollout_outputs(await kube.get(deployment_path(ns, name))), "dry_run": True}
    return rollout_outputs(await wait_for_rollout(kube, ns, name, params["timeout"]))


def _resources_patch(
    template: JsonObj, wanted: Mapping[str, Mapping[str, Any]]
) -> tuple[list[JsonObj], dict[str, Any]]:
    """The strategic-merge container list, and the previous values of what changes."""
    containers = {c["name"]: c for c in (template.get("spec") or {}).get("containers") or ()}
    missing = sorted(set(wanted) - set(containers))
    if missing:
        raise PermanentError(
            f"no container named {', '.join(missing)} in the pod template "
            f"(it has {', '.join(sorted(containers)) or 'none'})"
        )
    patch, previous = [], {}
    for cname, change in wanted.items():
        current = containers[cname].get("resources") or {}
        entry: dict[str, Any] = {"name": cname, "resources": {}}
        before: dict[str, Any] = {}
        for section in ("requests", "limits"):
            values = dict(change.get(section) or {})
            if values:
                entry["resources"][section] = values
                old = current.get(section) or {}
                before[section] = {k: old.get(k) for k in values}
        patch.append(entry)
        previous[cname] = before
    return patch, previous


async def patch_resources(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Change containers' requests/limits; wait for the rollout (quota refusals fail it)."""
    ns, name = params["namespace"], params["name"]
    path = deployment_path(ns, name)
    current = await kube.get(path)
    template = (current.get("spec") or {}).get("template") or {}
    containers, previous = _resources_patch(template, params["containers"])
    since = None if ctx.dry_run or not params["wait"] else await events_version(kube, ns)
    patched = await kube.patch(
        path,
        {"spec": {"template": {"spec": {"containers": containers}}}},
        content_type=STRATEGIC_PATCH,
        dry_run=ctx.dry_run,
    )
    out: dict[str, Any] = {
        "previous": previous,
        "containers": {
            c["name"]: c.get("resources") or {}
            for c in patched["spec"]["template"]["spec"]["containers"]
        },
        "generation": patched["metadata"]["generation"],
    }
    if ctx.dry_run:
        return {**out, "dry_run": True}
    wanted = {cname: dict(change) for cname, change in params["containers"].items()}

    def resourced(d: JsonObj) -> str | None:
        spec = ((d.get("spec") or {}).get("template") or {}).get("spec") or {}
        containers = {c.get("name"): c for c in spec.get("containers") or ()}
        problems = [
            f"container {cname!r} {line}"
            for cname, change in wanted.items()
            for line in differences(
                {k: v for k, v in change.items() if k in ("requests", "limits")},
                (containers.get(cname) or {}).get("resources") or {},
            )
        ]
        return "; ".join(problems) or None

    done = await _changed(kube, params, "resources patch", resourced, quota_since=since)
    if params["wait"]:
        out.update(rollout_outputs(done))
    return out


def undo_patch_resources(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if not outputs.get("previous") or outputs.get("dry_run"):
        return None
    return "patch_resources", {
        "namespace": outputs["namespace"],
        "name": outputs["name"],
        "containers": outputs["previous"],
    }


def _revision(rs: JsonObj) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


async def _owned_replica_sets(kube: Kube, deployment: JsonObj) -> list[JsonObj]:
    ns = deployment["metadata"]["namespace"]
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    listed = await kube.get(object_path("apps/v1", "replicasets", ns), labelSelector=selector)
    uid = deployment["metadata"]["uid"]
    return [
        rs
        for rs in listed.get("items") or ()
        if any(
            ref.get("uid") == uid and ref.get("controller")
            for ref in (rs.get("metadata") or {}).get("ownerReferences") or ()
        )
    ]


async def rollback_deployment(
    kube: Kube, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Roll a Deployment back like ``kubectl rollout undo``; wait for the rollout."""
    ns, name = params["namespace"], params["name"]
    path = deployment_path(ns, name)
    deployment = await kube.get(path)
    current = _revision(deployment)
    history = sorted(await _owned_replica_sets(kube, deployment), key=_revision)
    wanted = params.get("to_revision")
    if wanted is None:
        older = [rs for rs in history if _revision(rs) < current]
        if not older:
            raise PermanentError(
                f"deployment {ns}/{name} has no revision before {current} to roll back to"
            )
        target = older[-1]
    else:
        matches = [rs for rs in history if _revision(rs) == wanted]
        if not matches:
            known = ", ".join(str(_revision(rs)) for rs in history) or "none"
            raise PermanentError(
                f"deployment {ns}/{name} has no revision {wanted} (revisions kept: {known})"
            )
        target = matches[0]
    template = copy.deepcopy((target.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    for key in _UNCOPIED_LABELS:
        labels.pop(key, None)
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {
            "op": "test",
            "path": "/metadata/resourceVersion",
            "value": deployment["metadata"]["resourceVersion"],
        },
    ]
    await kube.patch(path, patch, content_type="application/json-patch+json", dry_run=ctx.dry_run)
    out: dict[str, Any] = {"from_revision": current, "to_revision": _revision(target)}
    if ctx.dry_run:
        return {**out, "dry_run": True}

    def rolled_back(d: JsonObj) -> str | None:
        problems = differences(template, (d.get("spec") or {}).get("template") or {})
        if not problems:
            return None
        return f"the pod template is not revision {_revision(target)}'s: " + "; ".join(problems)

    done = await _changed(kube, params, "rollback", rolled_back)
    if params["wait"]:
        out.update(rollout_outputs(done))
    return out


def undo_rollback(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if outputs.get("dry_run") or not outputs.get("from_revision"):
        return None
    return "rollback_deployment", {
        "namespace": outputs["namespace"],
        "name": outputs["name"],
        "to_revision": outputs["from_revision"],
    }


__all__ = [
    "patch_resources",
    "rollback_deployment",
    "rollout_restart",
    "scale_deployment",
    "undo_patch_resources",
    "undo_rollback",
    "undo_scale",
    "wait_for_rollout_action",
]
