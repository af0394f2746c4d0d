"""Waiting for cluster state by watching it: list once, then follow a watch.

Every action verifies its effect here rather than sleeping: the objects at ``path``
(narrowed by label/field selectors) are listed, ``check`` is asked whether they are
what the action wanted, and then each watch event updates the picture and asks again.
A watch the server closes (its timeout, a dropped stream) or a 410 Gone is answered
by listing afresh, as informers do. The whole wait is bounded by ``timeout`` seconds
of loop time (virtual under test); when it passes, :class:`WaitTimeoutError` says
what was last observed.

``check`` returns ``(True, result)`` when done or ``(False, progress)`` where
``progress`` is a short description of what is still missing; it may raise to end the
wait with an error (a quota refusal seen while waiting for a rollout, for example).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.kube_actions.errors import KubeApiError, KubeTransientError, WaitTimeoutError
from engine.kube_actions.rest import JsonObj, Kube

Check = Callable[[list[JsonObj]], tuple[bool, Any]]


def _key(obj: JsonObj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


async def wait_for(
    kube: Kube,
    path: str,
    check: Check,
    *,
    timeout: float,
    what: str,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Any:
    """Watch ``path`` until ``check`` says done; its result (see module docstring)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    progress: Any = "nothing observed yet"
    query = {"labelSelector": label_selector, "fieldSelector": field_selector}
    try:
        async with asyncio.timeout_at(deadline):
            while True:
                try:
                    listed = await kube.get(path, **query)
                except KubeTransientError:
                    # A blip while waiting is not the action's failure; look again.
                    await asyncio.sleep(min(1.0, max(0.0, deadline - loop.time())))
                    continue
                objects = {_key(o): o for o in listed.get("items") or ()}
                done, progress = check(list(objects.values()))
                if done:
                    return progress
                version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
                try:
                    async for kind, obj in kube.watch(
                        path,
                        resource_version=version,
                        timeout=deadline - loop.time(),
                        **{k: v for k, v in query.items() if v},
                    ):
                        if kind == "BOOKMARK":
                            continue
                        if kind == "DELETED":
                            objects.pop(_key(obj), None)
                        else:
                            objects[_key(obj)] = obj
                        done, progress = check(list(objects.values()))
                        if done:
                            return progress
                except KubeTransientError:
                    continue
                except KubeApiError as exc:
                    if exc.status != 410:
                        raise
    except TimeoutError:
        raise WaitTimeoutError(
            f"{what}: not done after {timeout:g}s; last observed: {progress}"
        ) from None
