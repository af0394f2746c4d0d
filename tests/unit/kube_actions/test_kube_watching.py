"""The actions wait by watching: they react to the event itself, and re-list on 410 Gone.

A wait that polled every couple of seconds would pass any test that only checks the
outcome, so these check what only a watch gives, under virtual time:

* the wait ends within a few virtual milliseconds of the change that satisfies it,
  not at the next poll;
* every intermediate state is seen, in order (a poll skips the ones between polls);
* the API server serves one LIST and one WATCH for the whole wait, counted in the
  fault injector's request log -- no repeated GETs;
* a watch answered 410 (an HTTP 410, or the ERROR event of a resourceVersion the
  server no longer keeps) makes the wait list afresh and still finish on the event.

The last test runs each of these with ``wait_for`` replaced by a 2-second poll and
requires every one of them to fail: the evidence that they test the watch.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine import ExecutionStatus
from engine.kube_actions import waiting
from engine.kube_actions.errors import WaitTimeoutError
from engine.kube_actions.rest import JsonObj, Kube, object_path
from engine.kube_actions.rollout import rollout_state
from fakes.kube.errors import gone
from fakes.kube.messages import Request, Response
from fakes.kube.reactors import Reaction
from tests.unit.kube_actions.support import KubeEnv, deployment, kube_env

pytestmark = [pytest.mark.asyncio, pytest.mark.looptime]

CONFIGMAPS = object_path("v1", "configmaps", "default")
REACTION = 0.01  # virtual seconds between a change and the wait's end: "at once"
POLL_INTERVAL = 2.0


def flag(state: str) -> JsonObj:
    return {"metadata": {"name": "flag"}, "data": {"state": state}}


def set_state(env: KubeEnv, state: str) -> None:
    env.sim.api.patch("configmaps", "flag", {"data": {"state": state}}, "default")


async def at(delay: float, change: Callable[[], None]) -> None:
    await asyncio.sleep(delay)
    change()


def served(env: KubeEnv, resource: str, since: float) -> list[str]:
    """The verbs of the requests for ``resource`` the API server served since ``since``."""
    return [a.verb for a in env.sim.faults.log if a.resource == resource and a.time >= since]


async def wait_until_on(env: KubeEnv, seen: list[str] | None = None) -> float:
    """Wait (through ``waiting.wait_for``) until the flag is "on"; the loop time taken."""

    def check(items: list[JsonObj]) -> tuple[bool, Any]:
        states = [str((i.get("data") or {}).get("state")) for i in items]
        if seen is not None:
            seen.extend(states)
        return "on" in states, f"state {states}"

    loop = asyncio.get_running_loop()
    start = loop.time()
    await waiting.wait_for(
        Kube(env.api_client),
        CONFIGMAPS,
        check,
        timeout=60,
        what="the flag",
        field_selector="metadata.name=flag",
    )
    return loop.time() - start


# -- reacting to the event -------------------------------------------------------------


async def test_a_wait_ends_on_the_event_that_satisfies_it() -> None:
    async with kube_env() as env:
        env.sim.api.create("configmaps", flag("off"), "default")
        start = asyncio.get_running_loop().time()
        change = asyncio.create_task(at(5.0, lambda: set_state(env, "on")))
        elapsed = await wait_until_on(env)
        await change
        assert 5.0 <= elapsed < 5.0 + REACTION
        assert served(env, "configmaps", start) == ["list", "watch"]


async def test_a_wait_sees_every_intermediate_state_in_order() -> None:
    async with kube_env() as env:
        env.sim.api.create("configmaps", flag("off"), "default")
        start = asyncio.get_running_loop().time()
        steps = [f"warming-{i}" for i in range(8)] + ["on"]
        changes = [
            asyncio.create_task(at(1.0 + 0.25 * i, functools.partial(set_state, env, s)))
            for i, s in enumerate(steps)
        ]
        seen: list[str] = []
        elapsed = await wait_until_on(env, seen)
        await asyncio.gather(*changes)
        assert seen == ["off", *steps]
        assert 3.0 <= elapsed < 3.0 + REACTION
        assert served(env, "configmaps", start) == ["list", "watch"]


async def test_a_wait_that_times_out_lists_once_and_watches_once() -> None:
    async with kube_env() as env:
        env.sim.api.create("configmaps", flag("off"), "default")
        start = asyncio.get_running_loop().time()
        with pytest.raises(WaitTimeoutError, match=r"the flag: not done after 60s"):
            await wait_until_on(env)
        assert served(env, "configmaps", start) == ["list", "watch"]


async def test_wait_for_rollout_finishes_as_the_rollout_completes() -> None:
    async with kube_env(nodes=2) as env:
        for node in ("node-1", "node-2"):
            env.sim.cordon(node)
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()  # nowhere to schedule: the rollout stalls
        loop = asyncio.get_running_loop()
        start = loop.time()
        completed: list[float] = []

        async def note_completion() -> None:
            watch = env.sim.api.watch("deployments", "default", field_selector="metadata.name=web")
            async for event in watch:
                if rollout_state(event.object)[0]:
                    completed.append(loop.time())
                    watch.close()

        monitor = asyncio.create_task(note_completion())
        uncordon = asyncio.create_task(at(10.0, lambda: env.sim.cordon("node-1", False)))
        result = await env.run(
            "name: wait\nsteps:\n"
            "  - {id: wait, action: wait_for_rollout, params: {name: web, timeout: 120}}\n"
        )
        await asyncio.gather(monitor, uncordon)
        step = result.step("wait")
        assert result.status is ExecutionStatus.SUCCEEDED, step.error
        assert step.finished_at is not None
        (done,) = completed
        assert done > start + 10.0  # the pods started only after the uncordon
        assert 0 <= step.finished_at - done < REACTION
        assert served(env, "deployments", start) == ["list", "watch"]


async def test_delete_pod_finishes_as_the_replacement_turns_ready() -> None:
    async with kube_env() as env:
        env.sim.api.create("deployments", deployment("web", 2), "default")
        await env.sim.settle()
        victim = env.pods(selector="app=web")[0]["metadata"]
        known = {p["metadata"]["uid"] for p in env.pods(selector="app=web")}
        loop = asyncio.get_running_loop()
        start = loop.time()
        ready: list[float] = []

        async def note_replacement() -> None:
            watch = env.sim.api.watch("pods", "default", label_selector="app=web")
            async for event in watch:
                pod = event.object
                conditions = (pod.get("status") or {}).get("conditions") or ()
                if pod["metadata"]["uid"] not in known and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in conditions
                ):
                    ready.append(loop.time())
                    watch.close()

        monitor = asyncio.create_task(note_replacement())
        result = await env.run(
            "name: kill\nsteps:\n"
            f"  - {{id: kill, action: delete_pod, params: {{name: {victim['name']}}}}}\n"
        )
        await monitor
        step = result.step("kill")
        assert result.status is ExecutionStatus.SUCCEEDED, step.error
        assert step.finished_at is not None
        (turned_ready,) = ready
        assert turned_ready - start >= 1.5  # the kubelet's start and readiness latencies
        assert 0 <= step.finished_at - turned_ready < REACTION
        # Before the deletion: the pod, and the pods it has now; then one list and watch.
        assert served(env, "pods", start) == ["get", "list", "delete", "list", "watch"]


# -- 410 Gone --------------------------------------------------------------------------


@dataclass
class FirstWatch:
    """A reactor on the first watch of ``resource``: answer it 410, or delay it.

    ``events`` holds the types (and, for ERROR, the Status code) of what that watch's
    stream held when the server opened it.
    """

    resource: str
    answer_gone: bool = False
    delay: float = 0.0
    seen: int = 0
    events: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Reaction | None:
        info = request.info
        if info is None or info.kind is None or info.kind.plural != self.resource:
            return None
        if info.verb != "watch" or self.seen:
            return None
        self.seen += 1
        if self.answer_gone:
            return Reaction(response=Response.error(gone("too old resource version: 5 (9)")))

        def note(response: Response) -> Response:
            if response.watch is not None:
                self.events = [
                    f"{e.type} {e.object.get('code')}" if e.type == "ERROR" else e.type
                    for e in response.watch.queue
                ]
            return response

        return Reaction(delay=self.delay, after=note)


async def test_a_watch_answered_410_is_followed_by_a_fresh_list() -> None:
    async with kube_env() as env:
        env.sim.api.create("configmaps", flag("off"), "default")
        env.sim.cluster.reactors.append(FirstWatch("configmaps", answer_gone=True))
        start = asyncio.get_running_loop().time()
        change = asyncio.create_task(at(5.0, lambda: set_state(env, "on")))
        elapsed = await wait_until_on(env)
        await change
        assert 5.0 <= elapsed < 5.0 + REACTION
        assert served(env, "configmaps", start) == ["list", "watch", "list", "watch"]


async def test_a_watch_from_an_expired_resource_version_is_followed_by_a_fresh_list() -> None:
    # The server keeps four changes per kind; six land while the watch is on its way.
    async with kube_env(history_size=4) as env:
        env.sim.api.create("configmaps", flag("off"), "default")
        env.sim.api.create("configmaps", {"metadata": {"name": "noise"}}, "default")
        first = FirstWatch("configmaps", delay=1.0)
        env.sim.cluster.reactors.append(first)

        def churn() -> None:
            for i in range(6):
                env.sim.api.patch("configmaps", "noise", {"data": {"n": str(i)}}, "default")

        start = asyncio.get_running_loop().time()
        changes = [
            asyncio.create_task(at(0.5, churn)),
            asyncio.create_task(at(5.0, lambda: set_state(env, "on"))),
        ]
        elapsed = await wait_until_on(env)
        await asyncio.gather(*changes)
        assert first.events == ["ERROR 410"]  # the real watch cache's "too old"
        assert 5.0 <= elapsed < 5.0 + REACTION
        assert served(env, "configmaps", start) == ["list", "watch", "list", "watch"]


# -- evidence: each test above fails when waiting polls --------------------------------


async def polling_wait_for(
    kube: Kube,
    path: str,
    check: waiting.Check,
    *,
    timeout: float,
    what: str,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Any:
    """``wait_for`` as a 2-second poll: the same results, none of a watch's properties."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        listed = await kube.get(path, labelSelector=label_selector, fieldSelector=field_selector)
        done, progress = check(list(listed.get("items") or ()))
        if done:
            return progress
        if loop.time() + POLL_INTERVAL > deadline:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            raise WaitTimeoutError(
                f"{what}: not done after {timeout:g}s; last observed: {progress}"
            )
        await asyncio.sleep(POLL_INTERVAL)


WATCH_TESTS: list[Callable[[], Awaitable[None]]] = [
    test_a_wait_ends_on_the_event_that_satisfies_it,
    test_a_wait_sees_every_intermediate_state_in_order,
    test_a_wait_that_times_out_lists_once_and_watches_once,
    test_wait_for_rollout_finishes_as_the_rollout_completes,
    test_delete_pod_finishes_as_the_replacement_turns_ready,
    test_a_watch_answered_410_is_followed_by_a_fresh_list,
    test_a_watch_from_an_expired_resource_version_is_followed_by_a_fresh_list,
]


@pytest.mark.parametrize("watch_test", WATCH_TESTS, ids=lambda t: t.__name__)
async def test_each_watch_test_fails_when_waiting_polls(
    watch_test: Callable[[], Awaitable[None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = waiting.wait_for
    for name, module in list(sys.modules.items()):
        if name.startswith("engine.kube_actions") and getattr(module, "wait_for", None) is original:
            monkeypatch.setattr(module, "wait_for", polling_wait_for)
    with pytest.raises(AssertionError):
        await watch_test()
