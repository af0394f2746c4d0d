"""One load run from start to verdict: what ``windtunnel load`` does.

1. Resolve the profile, check its ``load:`` section and compile its workflow mix
   (problems at file:line), and write the plan into ``reports/load/<run-id>/``.
2. HTTP mode: start ``windtunnel serve`` on the profile with a SQLite store in the run
   folder (:mod:`loadtests.service`).
3. Run Locust as a subprocess (never imported here) on ``loadtests/locustfile.py``,
   headless, writing its CSV, JSON and HTML into the run folder; show its progress.
   ``--processes N`` is Locust's multi-process mode; ``role="master"`` waits for
   ``expect_workers`` workers (``windtunnel load --worker --master-host H``).
4. Drain: the in-process engines drain themselves when the test stops; in HTTP mode
   the runner follows what the service still runs to its end, then stops it (SIGTERM).
5. Count from the engine's stores (:mod:`loadtests.ledger`), measure from Locust's
   stats (:mod:`loadtests.stats`), check the SLOs (:mod:`loadtests.slo`), write
   ``result.json``, ``summary.md`` and the trend plots, and append to the history.

The verdict: passed when every SLO is met and nothing was lost.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich.console import Console

import loadtests
from harness.runinfo import git_commit, iso
from loadtests import service as svc
from loadtests.history import LoadRunRecord, append_run, fingerprint, read_runs
from loadtests.ledger import StoreCount, count_stores
from loadtests.mix import check_mix
from loadtests.plan import (
    STORE_ROOT_ENV,
    STORE_TAG_ENV,
    TOKEN_ENV,
    LoadPlan,
    Mode,
    PlanError,
    load_of,
)
from loadtests.progress import ProgressView, parse_line
from loadtests.schedule import peak_users, total_duration
from loadtests.slo import check_slos
from loadtests.stats import read_stats
from loadtests.summary import summary_markdown
from loadtests.trends import write_trends
from scenarios import resolve_profile

Role = Literal["local", "master", "worker"]
USERS: dict[Mode, str] = {"http": "HttpEngineUser", "inprocess": "InProcessEngineUser"}
SLACK = 120.0
"""Seconds past the shape's end and the drain after which a stuck Locust is stopped."""


class LoadError(RuntimeError):
    """The run could not be made (as opposed to a run whose verdict is a failure)."""


@dataclass(frozen=True)
class LoadOptions:
    scenario: str
    mode: Mode | None = None
    users: int | None = None
    spawn_rate: float | None = None
    duration: float | None = None
    processes: int | None = None
    seed: int | None = None
    reports: Path = Path("reports")
    role: Role = "local"
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    expect_workers: int = 1
    service_host: str = "127.0.0.1"
    trend_runs: int = 20
    quiet: bool = False


@dataclass
class LoadResult:
    record: LoadRunRecord
    exit_code: int
    messages: list[str] = field(default_factory=list)


def locustfile() -> Path:
    return Path(loadtests.__file__).parent / "locustfile.py"


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_load(options: LoadOptions, console: Console) -> LoadResult:
    """A local or master run (see module docstring)."""
    started = time.time()
    profile, origins = resolve_profile(options.scenario)
    load = load_of(profile)
    check_mix(profile, origins)
    mode: Mode = options.mode or load.mode
    run_id = new_run_id()
    load_dir = options.reports / "load"
    run_dir = load_dir / run_id
    store_dir = run_dir / "stores"
    store_dir.mkdir(parents=True, exist_ok=True)
    plan = LoadPlan(
        run_id=run_id,
        scenario=options.scenario,
        mode=mode,
        seed=profile.seed if options.seed is None else options.seed,
        store_dir=str(store_dir.resolve()),
        users=options.users,
        duration=options.duration,
        spawn_rate=options.spawn_rate,
    )
    shape = plan.shape()
    (run_dir / "plan.json").write_text(plan.to_json() + "\n", encoding="utf-8")
    console.print(
        f"load run [bold]{run_id}[/bold]: {profile.name}, {mode} users, {shape.kind} shape "
        f"to {peak_users(shape)} users over {total_duration(shape):g} s"
        + (f", {options.processes} processes" if options.processes else "")
        + (f", master for {options.expect_workers} worker(s)" if options.role == "master" else ""),
        highlight=False,
    )
    token = secrets.token_urlsafe(32)
    service = None
    if mode == "http":
        service = svc.start_service(options.scenario, run_dir, token, host=options.service_host)
        console.print(f"  service: {service.url} (store {service.store})", highlight=False)
    try:
        view = ProgressView(console, quiet=options.quiet)
        timeout = total_duration(shape) + load.drain_seconds + SLACK
        code = _run_locust(plan, options, run_dir, service, token, view, timeout)
        if service is not None:
            running, left = svc.drain(service.url, token, load.drain_seconds)
            if running:
                console.print(f"  drain: {running} running at stop, {left} did not end in time")
    finally:
        if service is not None:
            service_code = service.stop()
            if service_code != 0:
                console.print(f"[yellow]the service exited {service_code} on SIGTERM[/yellow]")
    stats_file = run_dir / "stats.json"
    if not stats_file.exists():
        raise LoadError(
            f"Locust exited {code} without writing its stats; see {run_dir / 'locust.log'}:\n"
            + _tail(run_dir / "locust.log")
        )
    measurement = read_stats(stats_file)
    stores = [service.store] if service is not None else sorted(store_dir.glob("*.sqlite"))
    ledger: StoreCount | None = count_stores(stores) if stores else None
    no_loss: bool | None
    if ledger is not None:
        no_loss = ledger.lost == 0 and ledger.submitted >= measurement.acknowledged
    elif options.role == "master" and measurement.acknowledged:
        no_loss = None  # the stores are on the workers' machines; each checks its own
    else:
        no_loss = measurement.acknowledged == 0
    slos = check_slos(load.slos, measurement)
    slo_passed = all(s.passed for s in slos)
    record: LoadRunRecord = {
        "run_id": run_id,
        "started_at": iso(started),
        "finished_at": iso(time.time()),
        "git_commit": git_commit(Path.cwd()),
        "fingerprint": fingerprint(profile),
        "profile": profile.name,
        "mode": mode,
        "role": options.role,
        "processes": options.processes or 1,
        "shape": shape.model_dump(exclude_none=True),
        "users_peak": peak_users(shape),
        "measurement": measurement.as_dict(),
        "slos": [s.as_dict() for s in slos],
        "slo_passed": slo_passed,
        "ledger": ledger.as_dict() if ledger is not None else None,
        "no_loss": no_loss,
        "passed": slo_passed and no_loss is not False,
        "run_dir": str(run_dir.resolve()),
    }
    (run_dir / "result.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    append_run(load_dir, record)
    same = [r for r in read_runs(load_dir, profile.name) if r["mode"] == mode]
    write_trends(same[-options.trend_runs :], run_dir)
    (run_dir / "summary.md").write_text(summary_markdown(record, run_dir), encoding="utf-8")
    messages = [s.message() for s in slos if not s.passed]
    if no_loss is None:
        console.print(
            "  loss check: the workers' stores are on their machines; each "
            "'windtunnel load --worker' checks its own when it ends",
            highlight=False,
        )
    elif ledger is None and not no_loss:
        messages.append(f"lost executions: no store found under {store_dir}")
    if ledger is not None and not no_loss:
        messages.append(
            f"lost executions: {ledger.submitted} in the store(s), {ledger.terminal} terminal, "
            f"{measurement.acknowledged} acknowledged to users; unfinished: "
            + (", ".join(ledger.unfinished) or "none")
        )
    return LoadResult(record, 0 if record["passed"] else 1, messages)


def _run_locust(
    plan: LoadPlan,
    options: LoadOptions,
    run_dir: Path,
    service: svc.Service | None,
    token: str,
    view: ProgressView,
    timeout: float,
) -> int:
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--headless"]
    cmd += ["--only-summary", "--loglevel", "INFO"]
    cmd += ["--json-file", str(run_dir / "stats"), "--csv", str(run_dir / "locust")]
    cmd += ["--html", str(run_dir / "report.html")]
    if service is not None:
        cmd += ["--host", service.url]
    if options.processes:
        cmd += ["--processes", str(options.processes)]
        if options.role != "master":
            # The forked workers talk to their parent on a loopback port of this run's
            # own (Locust's default, 5557 on every interface, would clash between runs).
            port = str(svc.free_port("127.0.0.1"))
            cmd += ["--master-bind-host", "127.0.0.1", "--master-bind-port", port]
            cmd += ["--master-host", "127.0.0.1", "--master-port", port]
    if options.role == "master":
        cmd += ["--master", "--master-bind-host", options.master_host]
        cmd += ["--master-bind-port", str(options.master_port)]
        cmd += ["--expect-workers", str(options.expect_workers)]
        cmd += ["--expect-workers-max-wait", "120"]
    cmd.append(USERS[plan.mode])
    env = {
        **os.environ,
        "WINDTUNNEL_LOAD_PLAN": plan.to_json(),
        TOKEN_ENV: token,
        STORE_TAG_ENV: uuid.uuid4().hex[:8],
        "PYTHONUNBUFFERED": "1",
    }
    return _supervise(cmd, env, run_dir / "locust.log", view, timeout)


def _supervise(
    cmd: list[str], env: dict[str, str], log: Path, view: ProgressView, timeout: float
) -> int:
    """Run Locust; progress lines to the view, everything else to ``log``."""
    with log.open("a", encoding="utf-8") as sink:
        process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=sink, text=True, env=env, bufsize=1
        )
        stopper = threading.Timer(timeout, process.terminate)
        stopper.daemon = True
        stopper.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                data = parse_line(line)
                if data is not None:
                    view.show(data)
                else:
                    sink.write(line)
            return process.wait()
        finally:
            stopper.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()


def run_worker(options: LoadOptions, console: Console) -> int:
    """A worker of a distributed run: Locust ``--worker``, then its own loss check."""
    tag = uuid.uuid4().hex[:8]
    load_dir = options.reports / "load"
    load_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--worker"]
    cmd += ["--master-host", options.master_host, "--master-port", str(options.master_port)]
    if options.processes:
        cmd += ["--processes", str(options.processes)]
    env = {
        **os.environ,
        STORE_TAG_ENV: tag,
        STORE_ROOT_ENV: str(load_dir.resolve()),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("WINDTUNNEL_LOAD_PLAN", None)
    log = load_dir / f"worker-{tag}.log"
    console.print(
        f"load worker {tag}: master {options.master_host}:{options.master_port}, log {log}",
        highlight=False,
    )
    view = ProgressView(console, quiet=options.quiet)
    code = _supervise(cmd, env, log, view, timeout=7 * 24 * 3600.0)
    stores = sorted(load_dir.glob(f"*/stores/inprocess-{tag}-*.sqlite"))
    if not stores:
        console.print(f"worker {tag}: Locust exited {code}; no in-process store to check")
        return code
    ledger = count_stores(stores)
    console.print(
        f"worker {tag}: {ledger.submitted} executions in its store(s), {ledger.terminal} "
        f"terminal, {ledger.lost} lost",
        highlight=False,
    )
    return 1 if ledger.lost else 0


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8")[-chars:]
    except OSError:
        return ""


__all__ = ["LoadError", "LoadOptions", "LoadResult", "PlanError", "run_load", "run_worker"]
