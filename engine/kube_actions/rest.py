"""A thin JSON layer over the official ``kubernetes.aio`` ApiClient.

Why not the generated typed methods: remediation needs any kind (``apply_manifest``,
``label``), merge/JSON/apply patches and subresources alike, and its outputs are plain
JSON. So requests go through the ApiClient's own serializer and transport
(``param_serialize`` + ``call_api``), which keeps everything the client carries --
host, TLS, bearer token or exec credentials from a kubeconfig -- and works the same
in-process (the simulated cluster's router) and over HTTP. Bodies are plain dicts.

Every non-2xx answer is raised as an engine error (:mod:`engine.kube_actions.errors`);
transport failures (a dropped connection) are transient.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from engine.kube_actions.errors import KubeTransientError, classify

JsonObj = dict[str, Any]

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
FIELD_MANAGER = "windtunnel-engine"


def object_path(
    group_version: str, plural: str, namespace: str | None = None, name: str | None = None
) -> str:
    """``/api/v1/namespaces/ns/pods/name`` (core) or ``/apis/apps/v1/...`` (grouped)."""
    base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    if namespace:
        base += f"/namespaces/{quote(namespace, safe='')}"
    base += f"/{plural}"
    if name:
        base += f"/{quote(name, safe='')}"
    return base


class Kube:
    """JSON requests and watches through one ``kubernetes.aio`` ApiClient."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    async def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: Any,
        content_type: str | None,
        timeout: float | None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        serialized = await self.api_client.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            return await self.api_client.call_api(
                *serialized, _request_timeout=timeout, _preload_content=False
            )
        except (TimeoutError, OSError) as exc:
            raise KubeTransientError(
                f"{method} {path}: connection failed: {exc!r}", status=0
            ) from exc
        except Exception as exc:
            if type(exc).__module__.startswith("aiohttp"):
                raise KubeTransientError(
                    f"{method} {path}: connection failed: {exc!r}", status=0
                ) from exc
            raise

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        dry_run: bool = False,
    ) -> JsonObj:
        """Send one request and return the decoded JSON answer; raise on non-2xx."""
        if dry_run:
            query = {**(query or {}), "dryRun": "All"}
        response = await self._send(method, path, query, body, content_type, None)
        try:
            data = await response.read()
        except (TimeoutError, OSError) as exc:
            raise KubeTransientError(f"{method} {path}: {exc!r}", status=0) from exc
        if not 200 <= response.status <= 299:
            raise classify(response.status, data, response.headers, what=f"{method} {path}")
        if not data:
            return {}
        decoded = json.loads(data)
        return decoded if isinstance(decoded, dict) else {"items": decoded}

    async def get(self, path: str, **query: Any) -> JsonObj:
        return await self.request("GET", path, query=query)

    async def patch(
        self, path: str, body: Any, *, content_type: str = MERGE_PATCH, dry_run: bool = False
    ) -> JsonObj:
        query = {"fieldManager": FIELD_MANAGER}
        if content_type == APPLY_PATCH:
            query["force"] = "true"
        return await self.request(
            "PATCH", path, query=query, body=body, content_type=content_type, dry_run=dry_run
        )

    async def watch(
        self, path: str, *, resource_version: str, timeout: float, **query: Any
    ) -> AsyncIterator[tuple[str, JsonObj]]:
        """``(type, object)`` events of a watch from ``resource_version``.

        The stream ends when the server closes it (its ``timeoutSeconds`` passed, or it
        dropped the watch); ERROR events are raised as engine errors (410 Gone among
        them, which callers answer by listing again).
        """
        seconds = max(1, int(timeout) + 1)
        params = {
            **query,
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(seconds),
        }
        response = await self._send("GET", path, params, None, None, seconds + 5.0)
        raw = response.response
        try:
            if not 200 <= response.status <= 299:
                data = await response.read()
                raise classify(response.status, data, response.headers, what=f"WATCH {path}")
            while True:
                try:
                    line = await raw.content.readline()
                except (TimeoutError, OSError) as exc:
                    raise KubeTransientError(f"WATCH {path}: {exc!r}", status=0) from exc
                if not line:
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = str(event.get("type", "")), event.get("object") or {}
                if kind == "ERROR":
                    raise classify(int(obj.get("code") or 500), json.dumps(obj), None, what=path)
                yield kind, obj
        finally:
            raw.release()
