"""``windtunnel serve`` as a real process: listening, the ready file, HTTP, SIGTERM -> exit 0.

Each test starts the command on a temporary SQLite store and waits for its
"listening on" line (bounded), never for a time.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_live import AUTH, TOKEN, ServeProcess

from engine import ExecutionStatus, SqliteStore, StepStatus

NOOP = {"name": "noop-flow", "steps": [{"id": "only", "action": "noop"}]}
STEPPED = {
    "name": "stepped",
    "steps": [
        {"id": "first", "action": "sleep", "params": {"seconds": 1.0}},
        {"id": "second", "action": "noop", "depends_on": ["first"]},
    ],
}
BOUND = 30.0


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """CloudEvents from a streaming SSE response, as they arrive."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


def serve_args(tmp_path: Path, *extra: str) -> list[str]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    return [
        "--scenario",
        "BasicDevelopment",
        "--store",
        f"sqlite:{tmp_path / 'engine.sqlite'}",
        "--port",
        "0",
        "--token-file",
        str(token_file),
        *extra,
    ]


@pytest.mark.slow
def test_serve_answers_over_http_and_exits_0_on_sigterm(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    ready_file = tmp_path / "ready.json"
    process = serve_process(*serve_args(tmp_path, "--ready-file", str(ready_file)))
    url = process.listening_url()
    assert json.loads(ready_file.read_text()) == {"url": url, "pid": process.proc.pid}
    assert url.startswith("http://127.0.0.1:")

    with httpx.Client(base_url=url, timeout=BOUND) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        assert anonymous.get("/readyz").json() == {"status": "ready", "failing": []}
        assert anonymous.get("/v1/templates").status_code == 401
    with httpx.Client(base_url=url, headers=AUTH, timeout=BOUND) as client:
        assert client.post("/v1/templates", json=NOOP).status_code == 201
        submitted = client.post("/v1/executions", json={"template": "noop-flow"})
        assert submitted.status_code == 201
        execution_id = submitted.json()["execution_id"]
        with client.stream("GET", f"/v1/executions/{execution_id}/events") as stream:
            events = list(sse_events(stream))
        assert events[-1]["type"] == "io.windtunnel.execution_finished"
        assert events[-1]["data"]["status"] == "Succeeded"
        detail = client.get(f"/v1/executions/{execution_id}").json()
        assert detail["status"] == "Succeeded"
        assert detail["created_at"].startswith("20")  # Unix time, not loop time
        metrics = client.get("/metrics").text
        assert 'workflow_engine_executions_total{status="Succeeded",workflow="noop-flow"} 1.0' in (
            metrics
        )

    assert process.terminate(BOUND) == 0
    output = process.output()
    assert "shutting down" in output
    assert "drained: 0 executions paused" in output
    assert TOKEN not in output
    assert not ready_file.exists()


@pytest.mark.slow
def test_sigterm_mid_step_persists_the_step_and_the_restart_finishes_the_execution(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    first = serve_process(*serve_args(tmp_path))
    url = first.listening_url()
    with httpx.Client(base_url=url, headers=AUTH, timeout=BOUND) as client:
        assert client.post("/v1/templates", json=STEPPED).status_code == 201
        # Listening before submitting: the first step starts as the submission is answered.
        with client.stream("GET", "/v1/events") as stream:
            execution_id = client.post("/v1/executions", json={"template": "stepped"}).json()[
                "execution_id"
            ]
            for event in sse_events(stream):
                if event["type"] == "io.windtunnel.step_started":
                    assert (event["subject"], event["data"]["step_id"]) == (execution_id, "first")
                    first.proc.send_signal(signal.SIGTERM)  # while the step sleeps
                    break
    assert first.proc.wait(BOUND) == 0
    assert "drained: 1 executions paused for the next start, 0 steps still running" in (
        first.output()
    )
    with SqliteStore(tmp_path / "engine.sqlite") as store:
        state = store.load(execution_id)
    assert state is not None
    assert state.execution.status is ExecutionStatus.PAUSED
    assert state.steps["first"].status is StepStatus.SUCCEEDED  # ran to its end
    assert "second" not in state.steps or state.steps["second"].status is StepStatus.PENDING

    second = serve_process(*serve_args(tmp_path))
    url = second.listening_url()
    assert any("recovered 1 unfinished executions, resumed 1" in line for line in second.lines)
    with httpx.Client(base_url=url, headers=AUTH, timeout=BOUND) as client:
        with client.stream("GET", f"/v1/executions/{execution_id}/events") as stream:
            events = list(sse_events(stream))
        assert events[-1]["data"]["status"] == "Succeeded"
        detail = client.get(f"/v1/executions/{execution_id}").json()
    assert [s["status"] for s in detail["steps"]] == ["Succeeded", "Succeeded"]
    assert len(detail["steps"][0]["attempts"]) == 1  # the first step did not run again
    assert second.terminate(BOUND) == 0


@pytest.mark.slow
def test_insecure_local_serves_without_a_token(
    tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    process = serve_process(
        "--scenario", "BasicDevelopment", "--store", "memory", "--port", "0", "--insecure-local"
    )
    url = process.listening_url()
    with httpx.Client(base_url=url, timeout=BOUND) as client:
        assert client.get("/v1/templates").json() == {"items": []}
    assert process.terminate(BOUND) == 0
    assert "WARNING: --insecure-local" in process.output()


@pytest.mark.slow
def test_a_generated_token_is_written_0600_and_never_printed(
    tmp_path: Path, serve_process: Callable[..., ServeProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WINDTUNNEL_TOKEN", raising=False)
    process = serve_process("--scenario", "BasicDevelopment", "--store", "sqlite", "--port", "0")
    url = process.listening_url()
    token_file = tmp_path / "reports" / "service" / "token"
    token = token_file.read_text().strip()
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "reports" / "service" / "engine.sqlite").exists()
    with httpx.Client(base_url=url, timeout=BOUND) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/templates", headers=headers).status_code == 200
    assert process.terminate(BOUND) == 0
    output = process.output()
    assert str(token_file.resolve()) in output
    assert token not in output
