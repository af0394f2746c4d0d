"""Actions on objects of any kind: ``apply_manifest``, ``label`` and ``annotate``.

A kind is resolved to its REST resource through API discovery
(``/api/v1``, ``/apis/<group>/<version>``), cached per client, so CRDs work as well as
built-in kinds. ``apply_manifest`` uses server-side apply (``force``, field manager
``windtunnel-engine``) or, with ``server_side: false``, create-or-replace.

Neither trusts the API's answer (:mod:`.verify`). ``label``/``annotate`` read the
object back until it carries the wanted values (a ``null`` one absent).
``apply_manifest`` reads every object back until it holds what was applied (server
defaults and others' fields aside; ``status`` is not compared, a Secret's
``stringData`` is compared as ``data``) and, for a kind whose controller reports
``status.observedGeneration`` -- the workloads of ``apps`` and PodDisruptionBudgets, or
any kind whose status already carries one -- until the controller has observed the
applied generation. All of it within ``timeout``, from the first write.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from typing import Any

from engine.actions import ActionContext
from engine.errors import PermanentError
from engine.kube_actions.errors import KubeApiError
from engine.kube_actions.rest import APPLY_PATCH, MERGE_PATCH, JsonObj, Kube, object_path
from engine.kube_actions.verify import Expect, confirm, differences, show

# (group, kind) whose controller always reports status.observedGeneration.
OBSERVED_BY_A_CONTROLLER = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("policy", "PodDisruptionBudget"),
    }
)


class Discovery:
    """``(apiVersion, kind) -> (plural, namespaced)`` from the server's resource lists."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._lists: dict[str, dict[str, tuple[str, bool]]] = {}

    async def resolve(self, api_version: str, kind: str) -> tuple[str, bool]:
        table = self._lists.get(api_version)
        if table is None or kind not in table:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            try:
                doc = await self.kube.get(path)
            except KubeApiError as exc:
                if exc.status == 404:
                    raise PermanentError(
                        f"the server does not serve apiVersion '{api_version}'"
                    ) from exc
                raise
            table = {
                r["kind"]: (r["name"], bool(r.get("namespaced")))
                for r in doc.get("resources") or ()
                if "/" not in r.get("name", "")
            }
            self._lists[api_version] = table
        if kind not in table:
            known = ", ".join(sorted(table)) or "none"
            raise PermanentError(
                f"apiVersion '{api_version}' has no kind '{kind}' (it serves: {known})"
            )
        return table[kind]

    async def path(
        self, api_version: str, kind: str, name: str | None, namespace: str | None
    ) -> tuple[str, str | None]:
        """The object's path and the namespace it lives in (None when cluster-scoped)."""
        plural, namespaced = await self.resolve(api_version, kind)
        ns = (namespace or "default") if namespaced else None
        return object_path(api_version, plural, ns, name), ns


def _objects(manifest: Any) -> list[JsonObj]:
    if isinstance(manifest, list):
        return [dict(o) for o in manifest]
    if str(manifest.get("kind", "")).endswith("List") and "items" in manifest:
        return [dict(o) for o in manifest["items"]]
    return [dict(manifest)]


def _subject(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _wanted(obj: JsonObj) -> JsonObj:
    """What an applied object must show when read back (see module docstring)."""
    wanted = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    meta = obj.get("metadata") or {}
    wanted["metadata"] = {k: meta[k] for k in ("labels", "annotations") if meta.get(k)}
    if obj["apiVersion"] == "v1" and obj["kind"] == "Secret" and "stringData" in wanted:
        data = dict(wanted.get("data") or {})
        for key, value in (wanted.pop("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        wanted["data"] = data
    return wanted


def _applied(obj: JsonObj) -> Expect:
    wanted = _wanted(obj)
    group = obj["apiVersion"].rpartition("/")[0]
    controlled = (group, obj["kind"]) in OBSERVED_BY_A_CONTROLLER

    def holds(found: JsonObj) -> str | None:
        problems = differences(wanted, found, word="applied")
        if problems:
            return "; ".join(problems)
        generation = (found.get("metadata") or {}).get("generation")
        observed = (found.get("status") or {}).get("observedGeneration")
        if generation is None or not (controlled or observed is not None):
            return None
        if observed is None or int(observed) < int(generation):
            return (
                f"its controller has not observed generation {generation} yet "
                f"(status.observedGeneration is {show(observed)})"
            )
        return None

    return holds


async def apply_manifest(
    kube: Kube, discovery: Discovery, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Create or update every object of a manifest (server-side apply by default)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + params["timeout"]
    results = []
    written: list[tuple[str, JsonObj, JsonObj]] = []
    for obj in _objects(params["manifest"]):
        meta = dict(obj.get("metadata") or {})
        path, ns = await discovery.path(
            obj["apiVersion"],
            obj["kind"],
            meta["name"],
            meta.get("namespace") or params["namespace"],
        )
        if ns is not None:
            meta["namespace"] = ns
        body = {**obj, "metadata": meta}
        try:
            existing: JsonObj | None = await kube.get(path)
        except KubeApiError as exc:
            if exc.status != 404:
                raise
            existing = None
        if params["server_side"]:
            stored = await kube.patch(path, body, content_type=APPLY_PATCH, dry_run=ctx.dry_run)
        elif existing is None:
            collection = path.rsplit("/", 1)[0]
            stored = await kube.request("POST", collection, body=body, dry_run=ctx.dry_run)
        else:
            meta["resourceVersion"] = existing["metadata"]["resourceVersion"]
            stored = await kube.request("PUT", path, body=body, dry_run=ctx.dry_run)
        version = stored["metadata"].get("resourceVersion")
        if existing is None:
            action = "created"
        elif existing["metadata"].get("resourceVersion") == version:
            action = "unchanged"
        else:
            action = "configured"
        result: dict[str, Any] = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "namespace": ns,
            "name": meta["name"],
            "action": action,
            "resource_version": version,
        }
        results.append(result)
        written.append((path, body, result))
    if ctx.dry_run:
        return {"objects": results, "dry_run": True}
    for path, body, result in written:
        subject = _subject(result["kind"], result["namespace"], result["name"])
        found = await confirm(
            kube,
            path,
            _applied(body),
            timeout=max(deadline - loop.time(), 0.001),
            what=f"apply of {subject}",
            subject=subject,
        )
        result["generation"] = (found.get("metadata") or {}).get("generation")
        result["observed_generation"] = (found.get("status") or {}).get("observedGeneration")
    return {"objects": results}


async def _set_metadata(
    kube: Kube,
    discovery: Discovery,
    ctx: ActionContext,
    params: Mapping[str, Any],
    field: str,
) -> dict[str, Any]:
    path, ns = await discovery.path(
        params["api_version"], params["kind"], params["name"], params.get("namespace")
    )
    current = await kube.get(path)
    old = (current.get("metadata") or {}).get(field) or {}
    changes = dict(params[field])
    written = await kube.patch(
        path, {"metadata": {field: changes}}, content_type=MERGE_PATCH, dry_run=ctx.dry_run
    )
    if not ctx.dry_run:
        noun = field[:-1]

        def carries(obj: JsonObj) -> str | None:
            have = (obj.get("metadata") or {}).get(field) or {}
            problems = [
                f"{noun} {key!r} is {show(have.get(key))}, wanted {show(value)}"
                for key, value in changes.items()
                if have.get(key) != value
            ]
            return "; ".join(problems) or None

        subject = _subject(params["kind"], ns, params["name"])
        written = await confirm(
            kube,
            path,
            carries,
            timeout=params["timeout"],
            what=f"setting {field} on {subject}",
            subject=subject,
        )
    out: dict[str, Any] = {
        "api_version": params["api_version"],
        "kind": params["kind"],
        "name": params["name"],
        "namespace": ns,
        "previous": {k: old.get(k) for k in changes},
        field: (written.get("metadata") or {}).get(field) or {},
    }
    return {**out, "dry_run": True} if ctx.dry_run else out


async def label(
    kube: Kube, discovery: Discovery, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Set (or, with null, remove) labels on any object."""
    return await _set_metadata(kube, discovery, ctx, params, "labels")


async def annotate(
    kube: Kube, discovery: Discovery, ctx: ActionContext, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Set (or, with null, remove) annotations on any object."""
    return await _set_metadata(kube, discovery, ctx, params, "annotations")


def _undo_metadata(action: str, field: str) -> Any:
    def undo(outputs: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        if outputs.get("dry_run") or not outputs.get("previous"):
            return None
        params = {
            "api_version": outputs["api_version"],
            "kind": outputs["kind"],
            "name": outputs["name"],
            field: dict(outputs["previous"]),
        }
        if outputs.get("namespace"):
            params["namespace"] = outputs["namespace"]
        return action, params

    return undo


undo_label = _undo_metadata("label", "labels")
undo_annotate = _undo_metadata("annotate", "annotations")
