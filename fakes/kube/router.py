"""The HTTP-shaped core: a ``Request`` (method, path, query, headers, body) → a ``Response``.

Every front end -- the in-process official clients (``fakes.kube.inprocess``,
``fakes.kube.aio``) and the HTTP server -- builds a :class:`Request` and calls
:meth:`Router.handle` (async, on the event loop) or :meth:`Router.handle_sync`
(from a thread, e.g. the sync official client). The answer is a :class:`Response`
with ``status``, ``headers`` and either ``body`` bytes or, for a watch, a
:class:`~fakes.kube.watch.Watcher` in ``watch``: iterate it with ``async for`` (or
``for`` from a thread) and send ``event.line()`` for each event -- one JSON object
per line, written as it happens. :meth:`Response.watch_lines` does that for you.

Parsing follows kube-apiserver: ``/api/v1/...`` and ``/apis/GROUP/VERSION/...``,
namespaced and cluster paths, the legacy ``/watch/`` prefix, subresources; query
booleans parse as apimachinery does (absent, ``0`` or ``false`` (any case) is false,
anything else -- even empty -- is true); a body without ``Content-Type`` is JSON;
YAML bodies are accepted; anything else is 415. Unknown paths are 404, unsupported
verbs 405, all as ``Status`` bodies.

Reactors (``fakes.kube.reactors``) see the parsed request first.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from fakes.kube import discovery, errors, fieldvalidation
from fakes.kube.clock import sync_timer
from fakes.kube.errors import ApiError, dumps
from fakes.kube.fieldvalidation import directive
from fakes.kube.gojson import go_message
from fakes.kube.managedfields import default_manager
from fakes.kube.messages import JSON, Request, RequestInfo, Response
from fakes.kube.reactors import Plan, Reactor, plan

if TYPE_CHECKING:
    from collections.abc import Callable

    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind

_ACCEPTED = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
_COLLECTION_VERBS = {"POST": "create", "DELETE": "deletecollection"}
# Parsed paths kept per router; cleared when full (a churn of one-off names costs a
# re-parse, never unbounded memory).
ROUTE_CACHE_SIZE = 4096
# A non-resource route's path kind -> (verb, RequestInfo.path_kind); "noresource" is a
# resource-shaped path naming nothing served.
_NON_RESOURCE = {
    "discovery": ("get", "discovery"),
    "version": ("get", "version"),
    "unknown": ("get", "unknown"),
    "noresource": ("unknown", "unknown"),
}
# The writes that decode a body, and so read ``fieldValidation``.
_DECODES = ("create", "update", "patch")
_ITEM_VERBS = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}


# (kind, namespace, name, subresource, /watch/ prefix, path kind); kind is None and
# path kind says why ("discovery", "version", "unknown", "noresource") for non-resources.
_Route = tuple["ResourceKind | None", str | None, str | None, str | None, bool, str]


class Router:
    """Parses requests, runs reactors, and serves them from an :class:`Api`."""

    def __init__(
        self,
        api: Api,
        reactors: list[Reactor] | None = None,
        sleep_sync: Callable[[float], None] | None = None,
    ) -> None:
        self.api = api
        self.registry = api.registry
        self.reactors: list[Reactor] = reactors if reactors is not None else []
        # The cluster's clock decides how a thread waits: real time, or virtual time.
        self.sleep_sync = sleep_sync or sync_timer(api.clock).sleep
        # path -> what it addresses; the registry is fixed for the router's life, so
        # a path always parses the same way. Saves half the seam's cost on a read.
        self._routes: dict[str, _Route] = {}

    # -- entry points ------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Serve on the event loop; reactor delays are awaited on the loop's clock."""
        if not self.reactors:
            return self.dispatch(request)
        self._parse(request)
        chosen = plan(self.reactors, request)
        if chosen is None:
            return self.dispatch(request)
        if chosen.delay > 0:
            await asyncio.sleep(chosen.delay)
        return self._finish(chosen, request)

    def handle_sync(self, request: Request) -> Response:
        """Serve from a plain thread; reactor delays use ``sleep_sync`` (the clock's timer)."""
        if not self.reactors:
            return self.dispatch(request)
        self._parse(request)
        chosen = plan(self.reactors, request)
        if chosen is None:
            return self.dispatch(request)
        if chosen.delay > 0:
            self.sleep_sync(chosen.delay)
        return self._finish(chosen, request)

    def _finish(self, chosen: Plan, request: Request) -> Response:
        response = chosen.response if chosen.response is not None else self.dispatch(request)
        for hook in chosen.after:
            response = hook(response)
        return response

    def dispatch(self, request: Request) -> Response:
        """Serve without reactors (synchronous; never blocks)."""
        try:
            info = self._parse(request)
            if info.path_kind != "resource":
                return self._non_resource(request, info)
            return self._serve(request, info)
        except ApiError as error:
            return Response.error(error)

    # -- parsing -----------------------------------------------------------------

    def _parse(self, request: Request) -> RequestInfo:
        if request.info is not None:
            return request.info
        info = self._parse_path(request)
        request.info = info
        return info

    def _parse_path(self, request: Request) -> RequestInfo:
        path = request.path
        route = self._routes.get(path)
        if route is None:
            route = self._route(path)
            if len(self._routes) >= ROUTE_CACHE_SIZE:
                self._routes.clear()
            self._routes[path] = route
        kind, namespace, name, sub, watch_prefix, path_kind = route
        method = request.method
        if kind is None:
            verb, path_kind = _NON_RESOURCE[path_kind]
            return RequestInfo(verb, path_kind=path_kind)
        if name is None:
            if method == "GET":
                verb = "watch" if watch_prefix or request.flag("watch") else "list"
            else:
                verb = _COLLECTION_VERBS.get(method, "unsupported")
            return RequestInfo(verb, kind, namespace)
        if method == "GET":
            verb = "watch" if watch_prefix else "get"
        elif method == "POST":
            verb = "create" if sub else "unsupported"
        else:
            verb = _ITEM_VERBS.get(method, "unsupported")
        return RequestInfo(verb, kind, namespace, name, sub)

    def _route(self, path: str) -> _Route:
        """What a path addresses, whatever the method and query (so it can be cached)."""
        # Segments are unquoted one by one (a "/" inside a name stays part of it).
        if "%" in path:
            parts = [unquote(p) for p in path.split("/") if p]
        else:
            parts = [p for p in path.split("/") if p]
        if not parts:
            return (None, None, None, None, False, "unknown")
        head = parts[0]
        if head == "api":
            if len(parts) <= 2:
                return (None, None, None, None, False, "discovery")
            group, version, rest = "", parts[1], parts[2:]
        elif head == "apis":
            if len(parts) <= 3:
                return (None, None, None, None, False, "discovery")
            group, version, rest = parts[1], parts[2], parts[3:]
        elif head == "version" and len(parts) == 1:
            return (None, None, None, None, False, "version")
        else:
            return (None, None, None, None, False, "unknown")
        watch_prefix = rest[0] == "watch"
        if watch_prefix:
            rest = rest[1:]
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        plural = rest[0] if rest else ""
        kind = self.registry.by_url(group, version, plural)
        if kind is None or len(rest) > 3 or (namespace is not None and not kind.namespaced):
            return (None, None, None, None, False, "noresource")
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        return (kind, namespace, name, sub, watch_prefix, "resource")

    # -- serving ------------------------------------------------------------------

    def _non_resource(self, request: Request, info: RequestInfo) -> Response:
        if request.method != "GET":
            raise errors.method_not_allowed()
        parts = [p for p in request.path.split("/") if p]
        doc: dict[str, Any] | None = None
        if info.path_kind == "version":
            doc = discovery.VERSION_INFO
        elif info.path_kind == "discovery":
            if parts == ["api"]:
                doc = discovery.api_versions()
            elif parts == ["apis"]:
                doc = discovery.api_group_list(self.registry)
            elif parts[0] == "api":
                doc = discovery.api_resource_list(self.registry, "", parts[1])
            elif len(parts) == 2:
                doc = discovery.api_group(self.registry, parts[1])
            else:
                doc = discovery.api_resource_list(self.registry, parts[1], parts[2])
        if doc is None:
            raise errors.resource_not_found()
        return Response.json(200, dumps(doc))

    def _serve(self, request: Request, info: RequestInfo) -> Response:
        kind = info.kind
        assert kind is not None
        verb = info.verb
        sub = info.subresource
        if sub is not None:
            sr = kind.subresource(sub)
            if sr is None:
                raise errors.resource_not_found()
            if verb not in sr.verbs:
                raise errors.method_not_allowed()
        elif verb not in kind.verbs:
            raise errors.method_not_allowed()
        api = self.api
        ns = info.namespace
        if verb == "get":
            return Response.json(
                200, api.get_raw(kind, ns, info.name or "", sub, request.param("resourceVersion"))
            )
        if verb == "list":
            limit = request.param("limit")
            body = api.list_raw(
                kind,
                ns,
                label_selector=request.param("labelSelector"),
                field_selector=request.param("fieldSelector"),
                limit=_int_param("limit", limit),
                continue_token=request.param("continue"),
                resource_version=request.param("resourceVersion"),
                resource_version_match=request.param("resourceVersionMatch"),
            )
            return Response.json(200, body)
        if verb == "watch":
            return self._watch(request, info, kind)
        dry_run = self._dry_run(request)
        mode = directive(request.param("fieldValidation"), verb) if verb in _DECODES else ""
        if verb == "create":
            body = self._body(request)
            warnings = fieldvalidation.decode_object(kind, sub, body, mode)
            raw = api.create_raw(
                kind,
                ns,
                body,
                dry_run=dry_run,
                field_manager=_field_manager(request),
                subresource=sub,
                name=info.name,
            )
            return _warned(Response.json(201, raw), warnings)
        if verb == "update":
            body = self._body(request)
            warnings = fieldvalidation.decode_object(kind, sub, body, mode)
            raw = api.update_raw(
                kind,
                ns,
                info.name or "",
                body,
                subresource=sub,
                dry_run=dry_run,
                field_manager=_field_manager(request),
            )
            return _warned(Response.json(200, raw), warnings)
        if verb == "patch":
            content_type = request.header("Content-Type") or ""
            body = request.body
            if content_type.startswith("application/apply-patch"):
                warnings = []
                parsed = fieldvalidation.check_apply(kind, sub, body, info.name or "", ns or "")
            else:
                try:
                    parsed, warnings = fieldvalidation.decode_patch(
                        kind, sub, body, content_type, mode
                    )
                except ApiError:
                    # kube reads the object before it decodes the patch: a patch of
                    # nothing is 404 however malformed it is.
                    if not api.exists(kind, ns, info.name or ""):
                        raise errors.not_found(kind, info.name or "") from None
                    raise
            status, raw = api.patch_raw(
                kind,
                ns,
                info.name or "",
                body,
                content_type,
                subresource=sub,
                dry_run=dry_run,
                field_manager=_field_manager(request, content_type),
                force=request.flag("force"),
                parsed=parsed,
            )
            return _warned(Response.json(status, raw), warnings)
        if verb == "delete":
            options = self._delete_options(request)
            dry_run = dry_run or "All" in (options.get("dryRun") or ())
            status, raw = api.delete_raw(kind, ns, info.name or "", options, dry_run=dry_run)
            return Response.json(status, raw)
        if verb == "deletecollection":
            options = self._delete_options(request)
            dry_run = dry_run or "All" in (options.get("dryRun") or ())
            raw = api.delete_collection_raw(
                kind,
                ns,
                options,
                label_selector=request.param("labelSelector"),
                field_selector=request.param("fieldSelector"),
                dry_run=dry_run,
            )
            return Response.json(200, raw)
        raise errors.method_not_allowed()

    def _watch(self, request: Request, info: RequestInfo, kind: ResourceKind) -> Response:
        name = info.name
        field_selector = request.param("fieldSelector") or ""
        if name:
            field_selector = f"metadata.name={name}" + (
                "," + field_selector if field_selector else ""
            )
        timeout = request.param("timeoutSeconds")
        send_initial = request.param("sendInitialEvents")
        watcher = self.api.watch(
            kind,
            info.namespace,
            label_selector=request.param("labelSelector") or "",
            field_selector=field_selector,
            resource_version=request.param("resourceVersion"),
            allow_bookmarks=request.flag("allowWatchBookmarks"),
            timeout_seconds=float(_int_param("timeoutSeconds", timeout) or 0) if timeout else None,
            send_initial_events=None if send_initial is None else request.flag("sendInitialEvents"),
        )
        headers = {
            "Content-Type": JSON,
            "Cache-Control": "no-cache, private",
            "Transfer-Encoding": "chunked",
        }
        return Response(200, headers, b"", watcher)

    @staticmethod
    def _dry_run(request: Request) -> bool:
        values = request.query.get("dryRun")
        if not values:
            return False
        for value in values:
            if value != "All":
                raise errors.bad_request(
                    f'Invalid dryRun value: "{value}"; supported values: "All"'
                )
        return True

    def _body(self, request: Request) -> Any:
        content_type = (request.header("Content-Type") or JSON).split(";", 1)[0].strip().lower()
        body = request.body
        if content_type in (JSON, "*/*", ""):
            try:
                return json.loads(body) if body else None
            except json.JSONDecodeError as exc:
                raise errors.bad_request(
                    f"couldn't get version/kind; json parse error: {go_message(exc)}"
                ) from exc
            except ValueError as exc:  # not UTF-8
                raise errors.bad_request(
                    f"couldn't get version/kind; json parse error: {exc}"
                ) from exc
        if content_type in ("application/yaml", "text/yaml", "application/x-yaml"):
            import yaml

            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error converting YAML to JSON: {exc}") from exc
        hint = ""
        if content_type == "application/vnd.kubernetes.protobuf":
            hint = (
                "this simulated server does not decode protobuf; send JSON or YAML "
                "(with kubectl: write the object to a file and use `kubectl create -f`)"
            )
        raise errors.unsupported_media_type(_ACCEPTED, hint)

    def _delete_options(self, request: Request) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.body:
            body = self._body(request)
            if body is not None and not isinstance(body, dict):
                raise errors.bad_request("DeleteOptions must be a JSON object")
            options.update(body or {})
        grace = request.param("gracePeriodSeconds")
        if grace is not None:
            options["gracePeriodSeconds"] = _int_param("gracePeriodSeconds", grace)
        policy = request.param("propagationPolicy")
        if policy:
            options["propagationPolicy"] = policy
        if "orphanDependents" in request.query:
            options["orphanDependents"] = request.flag("orphanDependents")
        return options


def _warned(response: Response, warnings: list[str]) -> Response:
    """``response`` with a ``Warning`` header for ``warnings`` (fieldValidation=Warn)."""
    if warnings:
        response.headers = {**response.headers, "Warning": fieldvalidation.warning_header(warnings)}
    return response


def _int_param(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise errors.bad_request(f'invalid value for {name}: "{value}" is not an integer') from exc


def _field_manager(request: Request, content_type: str = "") -> str | None:
    """``fieldManager``, else kube's default from the User-Agent (never for apply)."""
    manager = request.param("fieldManager")
    if manager or content_type.startswith("application/apply-patch"):
        return manager
    return default_manager(request.header("User-Agent"))
