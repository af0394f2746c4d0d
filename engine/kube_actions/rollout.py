"""Is a Deployment's rollout complete? And waiting until it is.

Complete means what ``kubectl rollout status`` means, plus readiness: the controller
has observed the latest spec (``observedGeneration``), and the updated, ready and
available replicas all equal the desired count with no old replicas left. A
``ProgressDeadlineExceeded`` condition ends the wait as a permanent failure.

While waiting, ReplicaSet ``FailedCreate`` events that say a ResourceQuota refused the
new pods end the wait with :class:`QuotaExceededError` naming the quota: the rollout
would otherwise just stall until the timeout.

An action that changed the Deployment passes what the change must show as read back
(``expect``, see :mod:`.verify`): the new replica count, the restart stamp. Until it
shows, the rollout is not the one asked for -- an old rollout that is complete must
not pass -- and a wait that ends with it still missing is
:class:`EffectNotConfirmedError`, not a slow rollout.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from engine.errors import PermanentError
from engine.kube_actions.errors import (
    EffectNotConfirmedError,
    QuotaExceededError,
    WaitTimeoutError,
    quota_name,
)
from engine.kube_actions.rest import JsonObj, Kube, object_path
from engine.kube_actions.verify import Expect
from engine.kube_actions.waiting import wait_for

REVISION = "deployment.kubernetes.io/revision"


def deployment_path(namespace: str, name: str | None = None) -> str:
    return object_path("apps/v1", "deployments", namespace, name)


def rollout_state(d: JsonObj) -> tuple[bool, str]:
    """``(complete, description)`` of a Deployment's rollout."""
    meta, spec, status = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    desired = int(spec.get("replicas", 1))
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    counts = {k: int(status.get(f"{k}Replicas") or 0) for k in ("updated", "ready", "available")}
    total = int(status.get("replicas") or 0)
    text = (
        f"desired {desired}, updated {counts['updated']}, ready {counts['ready']}, "
        f"available {counts['available']}, total {total}, "
        f"observedGeneration {observed}/{generation}"
    )
    # As kubectl's rollout status: conditions describe the generation the controller has
    # seen, so a deadline exceeded by an older spec (say, before a rollback) is not ours.
    conditions = (status.get("conditions") or ()) if observed >= generation else ()
    for c in conditions:
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
            raise PermanentError(
                f"deployment {meta.get('namespace')}/{meta.get('name')} exceeded its progress "
                f"deadline: {c.get('message', '')} ({text})"
            )
    done = (
        observed >= generation and total == desired and all(v == desired for v in counts.values())
    )
    return done, text


def rollout_outputs(d: JsonObj) -> dict[str, Any]:
    status = d.get("status") or {}
    return {
        "replicas": int((d.get("spec") or {}).get("replicas", 1)),
        "updated_replicas": int(status.get("updatedReplicas") or 0),
        "ready_replicas": int(status.get("readyReplicas") or 0),
        "available_replicas": int(status.get("availableReplicas") or 0),
        "revision": int(((d.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0)),
        "observed_generation": int(status.get("observedGeneration") or 0),
    }


async def _watch_quota_refusals(kube: Kube, namespace: str, name: str, since: int) -> None:
    """Raise once a ReplicaSet of deployment ``name`` is refused pods by a quota."""

    def check(events: list[JsonObj]) -> tuple[bool, Any]:
        for e in events:
            involved = e.get("involvedObject") or {}
            if not str(involved.get("name", "")).startswith(f"{name}-"):
                continue
            try:
                version = int((e.get("metadata") or {}).get("resourceVersion") or 0)
            except ValueError:
                version = since + 1
            message = str(e.get("message") or "")
            quota = quota_name(message)
            if version > since and quota is not None:
                raise QuotaExceededError(
                    f"deployment {namespace}/{name} cannot create pods: ResourceQuota "
                    f"'{quota}' would be exceeded ({message})",
                    quota=quota,
                )
        return False, "no quota refusal"

    await wait_for(
        kube,
        object_path("v1", "events", namespace),
        check,
        timeout=86_400,
        what="quota watch",
        field_selector="involvedObject.kind=ReplicaSet,reason=FailedCreate",
    )


async def events_version(kube: Kube, namespace: str) -> int:
    """The namespace's events list resourceVersion now: refusals after it are ours."""
    listed = await kube.get(object_path("v1", "events", namespace), limit=1)
    try:
        return int((listed.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


async def wait_for_rollout(
    kube: Kube,
    namespace: str,
    name: str,
    timeout: float,
    *,
    quota_since: int | None = None,
    expect: Expect | None = None,
) -> JsonObj:
    """Watch the deployment until its rollout is complete; the deployment then.

    With ``quota_since`` (an events resourceVersion), quota refusals recorded after it
    end the wait with :class:`QuotaExceededError`. With ``expect``, the deployment
    read back must also pass it (see module docstring).
    """
    what = f"rollout of deployment {namespace}/{name}"
    unconfirmed: str | None = None

    def check(items: list[JsonObj]) -> tuple[bool, Any]:
        nonlocal unconfirmed
        if not items:
            return False, "the deployment does not exist"
        unconfirmed = None if expect is None else expect(items[0])
        if unconfirmed is not None:
            return False, unconfirmed
        done, text = rollout_state(items[0])
        return (True, items[0]) if done else (False, text)

    async def watched() -> JsonObj:
        try:
            found: JsonObj = await wait_for(
                kube,
                deployment_path(namespace),
                check,
                timeout=timeout,
                what=what,
                field_selector=f"metadata.name={name}",
            )
        except WaitTimeoutError:
            if unconfirmed is None:
                raise
            raise EffectNotConfirmedError(
                f"{what} not confirmed after {timeout:g}s: deployment {namespace}/{name} "
                f"read back: {unconfirmed}"
            ) from None
        return found

    rollout = watched()
    if quota_since is None:
        result: JsonObj = await rollout
        return result
    main = asyncio.ensure_future(rollout)
    guard = asyncio.ensure_future(_watch_quota_refusals(kube, namespace, name, quota_since))
    try:
        await asyncio.wait({main, guard}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (main, guard):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    main_failed = not main.done() or main.cancelled() or main.exception() is not None
    if main_failed and guard.done() and not guard.cancelled():
        refusal = guard.exception()
        if refusal is not None:
            raise refusal
    deployment: JsonObj = main.result()
    return deployment
