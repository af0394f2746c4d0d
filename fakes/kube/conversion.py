"""Versions served by conversion: ``autoscaling/v1`` HorizontalPodAutoscalers over v2 storage.

Kube stores an HPA once (``autoscaling/v2``) and serves every version by converting,
so ``AutoscalingV1Api`` and ``AutoscalingV2Api`` read and write the same object. The
registry lists such versions as *views* (``fakes.kube.kinds.VIEWS``);
:class:`ConvertingRouter` serves a view's requests on the storage version:

* request bodies (create, update, server-side apply) are converted view → storage;
* other patches are applied to the view's form of the live object, which is then
  written back as an update guarded by its resourceVersion (a 409 on a race, as any
  update);
* answers -- objects, lists, watch events -- are converted storage → view; Status
  answers pass unchanged.

The HPA conversion follows kube's: v1 ``targetCPUUtilizationPercentage`` is the v2
Resource ``cpu`` metric with a Utilization target, and
``status.currentCPUUtilizationPercentage`` its current average utilization. What v1
cannot express (other metrics, ``behavior``, conditions, other current metrics) is
kept in ``autoscaling.alpha.kubernetes.io/*`` annotations on the v1 form, as kube
does, so a v1 read-modify-write keeps it. Unlike kube, those annotations hold the v2
structures as JSON (kube writes them in v2beta1's shape).
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import yaml

from fakes.kube import errors, patch
from fakes.kube.errors import ApiError, dumps
from fakes.kube.messages import Request, Response
from fakes.kube.router import Router
from fakes.kube.watch import WatchEvent

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.watch import Watcher

JsonObj = dict[str, Any]
Convert = Callable[[JsonObj], JsonObj]

_PREFIX = "autoscaling.alpha.kubernetes.io/"
_METRICS = _PREFIX + "metrics"
_BEHAVIOR = _PREFIX + "behavior"
_CONDITIONS = _PREFIX + "conditions"
_CURRENT = _PREFIX + "current-metrics"


def _is_cpu_utilization(metric: JsonObj) -> bool:
    resource = metric.get("resource") or {}
    return (
        metric.get("type") == "Resource"
        and resource.get("name") == "cpu"
        and (resource.get("target") or {}).get("type") == "Utilization"
    )


def hpa_v2_to_v1(obj: JsonObj) -> JsonObj:
    """An ``autoscaling/v2`` HPA in its ``autoscaling/v1`` form (a new dict)."""
    out = json.loads(dumps(obj))
    out["apiVersion"] = "autoscaling/v1"
    annotations = dict(out.get("metadata", {}).get("annotations") or {})
    spec = out.get("spec")
    if isinstance(spec, dict):
        metrics = spec.pop("metrics", None) or []
        rest = []
        for metric in metrics:
            if _is_cpu_utilization(metric) and "targetCPUUtilizationPercentage" not in spec:
                target = metric["resource"]["target"].get("averageUtilization")
                if target is not None:
                    spec["targetCPUUtilizationPercentage"] = target
                    continue
            rest.append(metric)
        if rest:
            annotations[_METRICS] = dumps(rest).decode()
        behavior = spec.pop("behavior", None)
        if behavior:
            annotations[_BEHAVIOR] = dumps(behavior).decode()
    status = out.get("status")
    if isinstance(status, dict) or isinstance(spec, dict):
        # v1 serialises both counts even when zero (no omitempty), and clients require them.
        status = out.setdefault("status", {})
        status.setdefault("currentReplicas", 0)
        status.setdefault("desiredReplicas", 0)
        current = status.pop("currentMetrics", None) or []
        rest = []
        for metric in current:
            resource = metric.get("resource") or {}
            value = (resource.get("current") or {}).get("averageUtilization")
            if (
                metric.get("type") == "Resource"
                and resource.get("name") == "cpu"
                and value is not None
            ):
                status["currentCPUUtilizationPercentage"] = value
            else:
                rest.append(metric)
        if rest:
            annotations[_CURRENT] = dumps(rest).decode()
        conditions = status.pop("conditions", None)
        if conditions:
            annotations[_CONDITIONS] = dumps(conditions).decode()
    if annotations:
        out.setdefault("metadata", {})["annotations"] = annotations
    return cast("JsonObj", out)


def hpa_v1_to_v2(obj: JsonObj) -> JsonObj:
    """An ``autoscaling/v1`` HPA (or a partial one, for apply) in its v2 form (a new dict)."""
    out = json.loads(dumps(obj))
    if "apiVersion" in out:
        out["apiVersion"] = "autoscaling/v2"
    meta = out.get("metadata")
    annotations = dict(meta.get("annotations") or {}) if isinstance(meta, dict) else {}

    def take(key: str) -> Any:
        value = annotations.pop(key, None)
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise errors.bad_request(
                f"metadata.annotations[{key!r}]: not the JSON this server writes there: {value!r}"
            ) from None

    spec = out.get("spec")
    if isinstance(spec, dict):
        metrics = take(_METRICS) or []
        target = spec.pop("targetCPUUtilizationPercentage", None)
        if target is not None:
            cpu = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}
            metrics = [{"type": "Resource", "resource": cpu}, *metrics]
        if metrics:
            spec["metrics"] = metrics
        behavior = take(_BEHAVIOR)
        if behavior:
            spec["behavior"] = behavior
    status = out.get("status")
    if isinstance(status, dict):
        current = take(_CURRENT) or []
        value = status.pop("currentCPUUtilizationPercentage", None)
        if value is not None:
            cpu = {"name": "cpu", "current": {"averageUtilization": value}}
            current = [{"type": "Resource", "resource": cpu}, *current]
        if current:
            status["currentMetrics"] = current
        conditions = take(_CONDITIONS)
        if conditions:
            status["conditions"] = conditions
    else:
        for key in (_CURRENT, _CONDITIONS):
            annotations.pop(key, None)
    if isinstance(meta, dict):
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
    return cast("JsonObj", out)


_PATCH_TYPES = (
    "application/json-patch+json, application/merge-patch+json, "
    "application/strategic-merge-patch+json, application/apply-patch+yaml"
)

CONVERTERS: dict[tuple[str, str, str], tuple[Convert, Convert]] = {
    ("autoscaling", "v1", "horizontalpodautoscalers"): (hpa_v1_to_v2, hpa_v2_to_v1),
}
"""``(group, view version, plural)`` → ``(to storage, to view)``."""


class ConvertingRouter(Router):
    """A :class:`Router` that also serves the registry's views (see module docstring)."""

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith(self._view_prefixes):
            return super().dispatch(request)
        target = self._view_target(request.path)
        if target is None:
            return super().dispatch(request)
        path, view, to_storage, to_view = target
        try:
            return self._serve_view(request, path, view, to_storage, to_view)
        except ApiError as error:
            return Response.error(error)

    @functools.cached_property
    def _view_prefixes(self) -> tuple[str, ...]:
        """Path prefixes of the views' group-versions: every other request skips conversion."""
        return tuple(f"/apis/{v.group}/{v.version}/" for v, _ in self.registry.views)

    def _view_target(self, path: str) -> tuple[str, ResourceKind, Convert, Convert] | None:
        if not path.startswith("/apis/"):
            return None
        parts = path.split("/")
        if len(parts) < 5:
            return None
        group, version = parts[2], parts[3]
        rest = [p for p in parts[4:] if p]
        if rest and rest[0] == "watch":
            rest = rest[1:]
        if len(rest) >= 3 and rest[0] == "namespaces":
            rest = rest[2:]
        if not rest:
            return None
        found = self.registry.view(group, version, rest[0])
        converters = CONVERTERS.get((group, version, rest[0]))
        if found is None or converters is None:
            return None
        view, storage = found
        parts[3] = storage.version
        return "/".join(parts), view, *converters

    def _serve_view(
        self, request: Request, path: str, view: ResourceKind, to_storage: Convert, to_view: Convert
    ) -> Response:
        forwarded = Request(request.method, path, request.query, request.headers, request.body)
        content_type = (request.header("Content-Type") or "").split(";")[0].strip()
        if request.method in ("POST", "PUT") and request.body:
            forwarded.body = dumps(to_storage(_json_body(request.body)))
        elif request.method == "PATCH" and content_type == "application/apply-patch+yaml":
            forwarded.body = dumps(to_storage(_json_body(request.body)))
            forwarded.headers = {**request.headers, "Content-Type": content_type}
        elif request.method == "PATCH":
            update = self._patch_as_update(request, path, content_type, to_storage, to_view)
            if isinstance(update, Response):
                return update
            forwarded = update
        response = super().dispatch(forwarded)
        return _convert_response(response, view, to_view)

    def _patch_as_update(
        self,
        request: Request,
        path: str,
        content_type: str,
        to_storage: Convert,
        to_view: Convert,
    ) -> Request | Response:
        current = super().dispatch(Request("GET", path))
        if current.status != 200:
            return current
        obj = to_view(json.loads(current.body))
        ops = _json_body(request.body, any_json=True)
        try:
            if content_type == "application/json-patch+json":
                patched = patch.json_patch(obj, ops)
            elif content_type == "application/merge-patch+json":
                patched = patch.merge_patch(obj, ops)
            elif content_type == "application/strategic-merge-patch+json":
                patched = patch.strategic_merge(obj, ops)
            else:
                raise errors.unsupported_media_type(_PATCH_TYPES)
        except patch.PatchError as exc:
            raise errors.bad_request(str(exc)) from None
        rv = obj["metadata"].get("resourceVersion")
        patched.setdefault("metadata", {})["resourceVersion"] = rv
        query = {k: v for k, v in request.query.items() if k != "force"}
        return Request(
            "PUT", path, query, {"Content-Type": "application/json"}, dumps(to_storage(patched))
        )


def _json_body(body: bytes, *, any_json: bool = False) -> Any:
    """A JSON (or YAML, as the router accepts) request body."""
    try:
        value = json.loads(body)
    except ValueError:
        try:
            value = yaml.safe_load(body)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
    if not any_json and not isinstance(value, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return value


def _convert_response(response: Response, view: ResourceKind, to_view: Convert) -> Response:
    if response.watch is not None:
        watcher = cast("Watcher", _ConvertingWatcher(response.watch, to_view))
        return Response(response.status, response.headers, response.body, watcher)
    if not response.body or response.status >= 300:
        return response
    obj = json.loads(response.body)
    if obj.get("kind") == view.kind:
        obj = to_view(obj)
    elif obj.get("kind") == view.list_kind:
        obj["apiVersion"] = view.api_version
        obj["items"] = [to_view(item) for item in obj.get("items") or ()]
    else:
        return response
    return Response(response.status, response.headers, dumps(obj))


class _ConvertingWatcher:
    """A watcher whose events carry the view's form of the object."""

    def __init__(self, inner: Watcher, to_view: Convert) -> None:
        self._inner = inner
        self._to_view = to_view

    def _event(self, event: WatchEvent) -> WatchEvent:
        if event.type in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
            return WatchEvent(event.type, dumps(self._to_view(event.object)))
        return event

    async def __aiter__(self) -> AsyncIterator[WatchEvent]:
        async for event in self._inner:
            yield self._event(event)

    def __iter__(self) -> Iterator[WatchEvent]:
        for event in self._inner:
            yield self._event(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
