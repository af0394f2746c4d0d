"""An idle watch reaches its bookmarks and its timeout under virtual time, whatever the
float arithmetic of its deadlines.

Regression: a watch opened at loop time 4.984406 computed its 300 s bookmark as
304.98440600000004; the loop fired the timer (within its clock resolution) at
304.984406, the stream judged the bookmark not yet due and re-armed the same timer, and
looptime never moved past that instant: an engine wait idle past 300 s hung for ever.
"""

from __future__ import annotations

import asyncio

import pytest

from engine.kube_actions.rest import Kube
from fakes.kube.simulation import SimulatedCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]


@pytest.mark.timeout(30)  # the bug hangs in wall time; this turns a hang into a failure
@pytest.mark.parametrize("opened_at", [5.0, 4.984406, 7.123456789])
async def test_an_idle_watch_ends_at_its_timeout(opened_at: float) -> None:
    loop = asyncio.get_running_loop()
    async with SimulatedCluster(seed=1, nodes=1) as sim:
        await sim.settle()
        await asyncio.sleep(opened_at - loop.time())
        client = sim.aio_api_client()
        try:
            kube = Kube(client)
            path = "/api/v1/namespaces/default/configmaps"
            listed = await kube.get(path)
            start = loop.time()
            events = [
                e
                async for e in kube.watch(
                    path, resource_version=listed["metadata"]["resourceVersion"], timeout=400
                )
            ]
        finally:
            await client.close()
    assert 400 <= loop.time() - start <= 402  # the timeout, plus the client's own second
    assert {kind for kind, _ in events} == {"BOOKMARK"}  # idle: bookmarks only, then the end
