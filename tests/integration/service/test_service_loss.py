"""The loss check: SIGKILL the service mid-load, restart it on its SQLite store, lose nothing.

A few hundred executions are submitted over HTTP, each with its own idempotency key,
32 at a time; once half of them have been acknowledged the service is SIGKILLed (no
drain, no flush: whatever was in flight is cut off). ``windtunnel serve`` is started
again on the same store file: it registers the templates it had recorded, recovers the
unfinished executions (their interrupted steps are idempotent sleeps, so they run
again) and the client submits the keys it never got an answer for. Then every
execution is followed to its end over its event stream, the service is stopped, and
the store is counted directly: one execution per key, every one terminal and
succeeded, every acknowledged id among them (submitted = terminal).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from service_live import AUTH, TOKEN, ServeProcess, run_async

from engine import ExecutionStatus, SqliteStore

TOTAL = 300
KILL_AFTER = 150
CONCURRENCY = 32
LOAD = {
    "name": "load",
    "steps": [{"id": "work", "action": "sleep", "params": {"seconds": 0.05}}],
}
BOUND = 60.0


def _args(tmp_path: Path) -> list[str]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    store = tmp_path / "engine.sqlite"
    return [
        *("--scenario", "BasicDevelopment", "--store", f"sqlite:{store}"),
        *("--port", "0", "--token-file", str(token_file)),
    ]


async def _submit_all(
    url: str, keys: list[str], acknowledged: dict[str, str], kill: Callable[[], None] | None
) -> None:
    """Submit every key (32 at a time); call ``kill`` once KILL_AFTER are acknowledged."""
    gate = asyncio.Semaphore(CONCURRENCY)
    killed = False
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=url, headers=AUTH, timeout=BOUND, limits=limits
    ) as client:

        async def one(key: str) -> None:
            nonlocal killed
            async with gate:
                if killed:
                    return
                try:
                    response = await client.post(
                        "/v1/executions", json={"template": "load", "idempotency_key": key}
                    )
                except httpx.TransportError:
                    return  # in flight when the service died: unacknowledged
                if response.status_code in (200, 201):
                    acknowledged[key] = response.json()["execution_id"]
                else:
                    raise AssertionError(f"{key}: {response.status_code} {response.text}")
                if kill is not None and not killed and len(acknowledged) >= KILL_AFTER:
                    killed = True
                    kill()

        await asyncio.gather(*(one(key) for key in keys))


def _follow_to_end(url: str, execution_ids: list[str]) -> dict[str, str]:
    """Each execution's terminal status, read from its event stream's last event."""
    final: dict[str, str] = {}
    with httpx.Client(base_url=url, headers=AUTH, timeout=BOUND) as client:
        for execution_id in execution_ids:
            last = None
            with client.stream("GET", f"/v1/executions/{execution_id}/events") as stream:
                assert stream.status_code == 200, execution_id
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        last = json.loads(line[len("data: ") :])
            assert last is not None
            assert last["type"] == "io.windtunnel.execution_finished", last
            final[execution_id] = last["data"]["status"]
    return final


@pytest.mark.slow
def test_a_sigkill_mid_load_loses_no_execution(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    keys = [f"key-{i:04d}" for i in range(TOTAL)]
    acknowledged: dict[str, str] = {}

    first = serve_process(*_args(tmp_path))
    url = first.listening_url()
    assert httpx.post(f"{url}/v1/templates", json=LOAD, headers=AUTH).status_code == 201
    run_async(_submit_all(url, keys, acknowledged, kill=first.kill))
    assert first.proc.returncode == -9  # SIGKILLed, not stopped
    before_restart = dict(acknowledged)
    assert KILL_AFTER <= len(before_restart) < TOTAL

    second = serve_process(*_args(tmp_path))
    url = second.listening_url()
    recovered = [re.search(r"recovered (\d+) unfinished", line) for line in second.lines]
    counts = [int(m.group(1)) for m in recovered if m]
    assert counts, second.lines
    assert counts[0] > 0  # the kill did cut executions off mid-run
    run_async(_submit_all(url, [k for k in keys if k not in acknowledged], acknowledged, None))
    assert len(acknowledged) == TOTAL
    for key, execution_id in before_restart.items():
        assert acknowledged[key] == execution_id
    final = _follow_to_end(url, sorted(set(acknowledged.values())))
    assert set(final.values()) == {"Succeeded"}
    assert second.terminate(BOUND) == 0

    with SqliteStore(tmp_path / "engine.sqlite") as store:
        records = store.list()
    by_key = {r.idempotency_key: r for r in records}
    assert len(records) == len(by_key) == TOTAL  # submitted: one execution per key
    assert {k: r.execution_id for k, r in by_key.items()} == acknowledged
    assert all(r.status is ExecutionStatus.SUCCEEDED for r in records)  # terminal, all of them
