"""Operations: ``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``.

* ``/healthz`` is liveness: 200 while the process serves requests at all.
* ``/readyz`` is readiness: 200 ``{"status": "ready", "failing": []}``, or 503 with
  the checks that fail: the engine's store refusing writes (a failed commit), the
  service draining, and whatever the ``ready_check`` given to :func:`create_app` reports
  (the CLI checks that the stores can commit and the cluster answers). A check that
  raises or outlasts ``ready_timeout`` counts as failing, with its reason.
* ``/metrics`` is the engine's :class:`engine.EngineMetrics` in the Prometheus text
  format.
* ``/openapi.json`` is the OpenAPI 3.1 document of the API.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.service.context import ServiceContext
from engine.service.views import JSON, dumps


class OpsRoutes:
    def __init__(self, ctx: ServiceContext, openapi: dict[str, object]) -> None:
        self.ctx = ctx
        self._openapi = dumps(openapi).encode()

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
        ]

    async def healthz(self, request: Request) -> Response:
        return JSON({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        failing = await self.failing_checks()
        if failing:
            return JSON({"status": "unready", "failing": failing}, status_code=503)
        return JSON({"status": "ready", "failing": []})

    async def failing_checks(self) -> list[str]:
        ctx = self.ctx
        failing: list[str] = []
        if ctx.draining:
            failing.append("draining: the service is shutting down")
        write_failure = getattr(ctx.engine.state, "write_failure", None)
        if write_failure is not None:
            error = write_failure()
            if error is not None:
                failing.append(f"stores writable: {error}")
        if ctx.ready_check is not None:
            try:
                async with asyncio.timeout(ctx.ready_timeout):
                    failing.extend(await ctx.ready_check())
            except TimeoutError:
                failing.append(f"ready check: no answer within {ctx.ready_timeout:g}s")
            except Exception as exc:
                failing.append(f"ready check raised {type(exc).__name__}: {exc}")
        return failing

    async def metrics(self, request: Request) -> Response:
        return Response(self.ctx.metrics.render(), media_type=self.ctx.metrics.content_type)

    async def openapi(self, request: Request) -> Response:
        return Response(self._openapi, media_type="application/json")
