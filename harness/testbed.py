"""The testbed: one place that wires a profile's cluster, an engine, stores and actions.

Everything above the engine (the pytest plugin, the Gherkin steps, the CLI, the load
users) gets its parts here, so none of it reaches into ``fakes.kube`` internals::

    async with Testbed(load_profile("HighLoadProduction")) as bed:
        result = await bed.engine.run(bed.template(data))
        bed.sim.api.get("deployments", "api", "default")

A testbed holds, on the running event loop:

* the cluster: the profile's :class:`scenarios.ScenarioCluster` (``cluster="sim"``), or
  the one a kubeconfig names (``cluster="kubeconfig:PATH"``; ``sim`` is then None and
  steps that need to shape or break the cluster say so);
* an asyncio ``kubernetes.aio`` ApiClient (the engine's) and a sync one (for reads:
  the scenario's observer, whose requests the cluster's fault rules leave alone);
* the stores: in-memory, or one SQLite file (``store="sqlite"``);
* an :class:`engine.Engine` with the built-in, the Kubernetes and the harness's test
  actions (``harness.actions``) registered, the profile's concurrency and seed, and
  resource-aware admission fed by a :class:`CapacityTracker` over the cluster;
* a record of every execution submitted and every engine event, which is the evidence
  the reports draw.

The engine can be crashed and restarted on what its stores hold (:meth:`crash`), and
rebuilt with other settings before anything runs (:meth:`configure_engine`).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine import (
    ActionRegistry,
    BreakerRegistry,
    CompiledWorkflow,
    Engine,
    EngineMetrics,
    Event,
    EventKind,
    SqliteStore,
    WorkflowTemplate,
    default_registry,
)
from engine.admission import CapacityLedger
from engine.dead_letters import DeadLetterQueue
from engine.kube_actions import register_kube_actions
from engine.kube_actions.capacity import CapacityTracker
from engine.kube_actions.client import api_client_from_kubeconfig, kubeconfig_path
from engine.loader import template_from_data
from engine.sqlite_store import SqliteDeadLetters
from engine.validation import compile_template
from fakes.kube import OBSERVER_HEADER
from fakes.kube.clock import WallClock
from fakes.stores import InMemoryExecutionRepository, InMemoryStateStorage
from harness.actions import ActionLog, register_test_actions
from harness.journal import Journal, JournalingStorage
from scenarios import EngineSetup, Profile, ScenarioCluster, build_cluster, engine_settings

StoreKind = Literal["memory", "sqlite"]


class TestbedError(RuntimeError):
    """The testbed cannot do what was asked in its current configuration."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class TestbedOptions:
    """How to build a testbed; the defaults are the fast, isolated test setup."""

    __test__ = False  # not a pytest test class

    store: StoreKind | None = None
    """``memory`` or ``sqlite``; None: what the profile's ``engine.store`` says."""
    cluster: str = "sim"
    """``sim`` (the profile's simulated cluster) or ``kubeconfig:PATH``."""
    seed: int | None = None
    """Overrides the profile's seed (cluster randomness, retry jitter, execution ids)."""
    sqlite_path: Path | None = None
    """Where the SQLite store lives; a temporary directory of the testbed's when None."""
    capacity_interval: float = 30.0
    """How often (loop seconds) admission re-measures the cluster besides on pod changes."""
    real_time: bool = False
    """For the service and load runs: the cluster's timestamps on the wall clock, and the
    engine's in Unix time (``Engine(wall_clock=True)``) so they survive a restart."""
    record: bool = True
    """Keep the evidence (every event, store write and execution id) for the reports.
    A long-running service or load run turns it off: it would grow without bound."""

    def __post_init__(self) -> None:
        if self.store not in (None, "memory", "sqlite"):
            raise ValueError(f"store must be 'memory' or 'sqlite', got {self.store!r}")
        if self.cluster != "sim":
            kubeconfig_path(self.cluster)  # raises a KubeconfigError naming the value


@dataclass
class _Stores:
    state: Any
    repository: Any
    dead_letters: Any
    sqlite: SqliteStore | None = None


@dataclass
class Testbed:
    """See the module docstring. Build with ``Testbed(profile, options)``, then start."""

    __test__ = False  # not a pytest test class

    profile: Profile
    options: TestbedOptions = field(default_factory=TestbedOptions)

    def __post_init__(self) -> None:
        if self.options.seed is not None and self.options.seed != self.profile.seed:
            self.profile = self.profile.model_copy(update={"seed": self.options.seed})
        self.setup: EngineSetup = engine_settings(self.profile)
        self.sim: ScenarioCluster | None = None
        self.api_client: Any = None
        """The ``kubernetes.aio`` ApiClient the engine's actions use."""
        self.sync_api_client: Any = None
        self.ledger = CapacityLedger()
        self.tracker: CapacityTracker | None = None
        self.actions = ActionLog()
        self.journal = Journal()
        """Every status the engine wrote to its state storage (across restarts)."""
        self.events: list[Event] = []
        self.executions: list[str] = []
        """Every execution id submitted on this testbed, in submission order."""
        self.templates: dict[tuple[str, int], CompiledWorkflow] = {}
        """Every template registered through :meth:`template`, re-registered on a new engine."""
        self.registry: ActionRegistry | None = None
        """The actions of every engine of this testbed (built-in, Kubernetes, test)."""
        self.restarts = 0
        self.t0 = 0.0
        """Loop time at which the testbed finished starting."""
        self._engine: Engine | None = None
        self._metrics: EngineMetrics | None = None
        self._stores: _Stores | None = None
        self._tmpdir: Path | None = None
        self._engine_kwargs: dict[str, Any] = {}
        self._unsubscribe: Any = None
        self._seen: set[str] = set()
        self._started = False

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> Testbed:
        """Build the cluster (settled), the clients, the stores and a running engine."""
        if self._started:
            raise TestbedError("the testbed is already started")
        self._started = True
        try:
            if self.options.cluster == "sim":
                clock = WallClock() if self.options.real_time else None
                self.sim = await build_cluster(self.profile, clock=clock)
                self.api_client = self.sim.aio_api_client()
                self.sync_api_client = self.sim.api_client()
                # The sync client is the scenario's eyes: its reads bypass injected faults.
                self.sync_api_client.set_default_header(OBSERVER_HEADER, "true")
            else:
                path = kubeconfig_path(self.options.cluster)
                self.api_client = await api_client_from_kubeconfig(path)
                self.sync_api_client = _sync_client_from_kubeconfig(path)
            self.tracker = CapacityTracker(
                self.api_client, self.ledger, interval=self.options.capacity_interval
            )
            await self.tracker.start()
            self._stores = self._open_stores()
            self._engine = self._new_engine(self._stores)
            self.t0 = asyncio.get_running_loop().time()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self, *, cancel: bool = True) -> None:
        """Stop the engine (cancelling what still runs), the tracker, clients and cluster.

        ``cancel=False`` leaves unfinished executions as the stores hold them, for a
        service that stops to be restarted on the same stores and recover them.
        """
        if self._engine is not None:
            await self._close_engine(cancel=cancel)
        if self._stores is not None and self._stores.sqlite is not None:
            self._stores.sqlite.close()
        self._stores = None
        if self.tracker is not None:
            await self.tracker.stop()
            self.tracker = None
        if self.api_client is not None:
            await self.api_client.close()
            self.api_client = None
        if self.sync_api_client is not None:
            self.sync_api_client.close()
            self.sync_api_client = None
        if self.sim is not None:
            await self.sim.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def __aenter__(self) -> Testbed:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- parts -------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The running engine (a new object after :meth:`crash` or :meth:`configure_engine`)."""
        if self._engine is None:
            raise TestbedError("the testbed is not started: await testbed.start() first")
        return self._engine

    @property
    def metrics(self) -> EngineMetrics:
        """Prometheus metrics of the current engine, kept from its event stream."""
        if self._metrics is None:
            raise TestbedError("the testbed is not started: await testbed.start() first")
        return self._metrics

    @property
    def state(self) -> Any:
        """The engine's :class:`engine.StateStorage`."""
        return self._require_stores().state

    @property
    def repository(self) -> Any:
        """The engine's :class:`engine.ExecutionRepository`."""
        return self._require_stores().repository

    def cluster(self) -> ScenarioCluster:
        """The simulated cluster; a clear error when the testbed runs on a real one."""
        if self.sim is None:
            raise TestbedError(
                f"this needs the simulated cluster, but the testbed runs on "
                f"{self.options.cluster!r}: run with --cluster sim"
            )
        return self.sim

    def now(self) -> float:
        """Seconds of loop time since the testbed started."""
        return asyncio.get_running_loop().time() - self.t0

    # -- templates ---------------------------------------------------------------

    def template(
        self,
        data: Mapping[str, Any] | WorkflowTemplate,
        *,
        source: str | None = None,
        locate: Any = None,
    ) -> CompiledWorkflow:
        """Validate a template, apply the profile's defaults, and register it.

        ``source`` and ``locate`` (the line finder of ``engine.loader.parse_document``)
        make every problem name its file and line.
        """
        template = (
            data
            if isinstance(data, WorkflowTemplate)
            else template_from_data(dict(data), source=source, locate=locate)
        )
        template = self.setup.apply_defaults(template)
        where: dict[str, Any] = {"source": source}
        if locate is not None:
            where["locate"] = locate
        compiled = self.engine.register(compile_template(template, self.engine.actions, **where))
        self.templates[(compiled.name, compiled.version)] = compiled
        return compiled

    # -- engine control ----------------------------------------------------------

    async def configure_engine(
        self, *, breakers: BreakerRegistry | None = None, max_concurrency: int | None = None
    ) -> Engine:
        """Rebuild the engine with other settings, on the same stores, before work starts."""
        if self.executions:
            raise TestbedError(
                "the engine can only be reconfigured before the scenario submits work "
                "(put the configuring step before the first submission)"
            )
        if breakers is not None:
            self._engine_kwargs["breakers"] = breakers
        if max_concurrency is not None:
            self._engine_kwargs["max_concurrency"] = max_concurrency
        stores = self._require_stores()
        await self._close_engine()
        self._engine = self._new_engine(stores)
        for compiled in self.templates.values():
            self._engine.register(compiled)
        return self._engine

    async def crash(self) -> list[str]:
        """Kill the engine as a crash would and start a new one on what the stores held.

        The new engine sees only what was committed at the moment of the crash (the
        old engine's last words go to stores nobody reads again), gets every template
        registered again, and recovers; returns the ids it resumed.
        """
        old = self._require_stores()
        survivor = self._snapshot(old)
        await self._close_engine()
        if old.sqlite is not None:
            old.sqlite.close()
        self._stores = survivor
        self.restarts += 1
        self._engine = self._new_engine(survivor)
        for compiled in self.templates.values():
            self._engine.register(compiled)
        return await self._engine.recover()

    # -- internals ---------------------------------------------------------------

    def _require_stores(self) -> _Stores:
        if self._stores is None:
            raise TestbedError("the testbed is not started: await testbed.start() first")
        return self._stores

    @property
    def store_kind(self) -> StoreKind:
        """The kind of store the engine runs on (the option's, else the profile's)."""
        kind = self.options.store or self.setup.store
        return "sqlite" if kind == "sqlite" else "memory"

    def _open_stores(self) -> _Stores:
        if self.store_kind == "memory":
            return _Stores(InMemoryStateStorage(), InMemoryExecutionRepository(), DeadLetterQueue())
        path = self.options.sqlite_path or self._tmp() / "windtunnel.sqlite"
        store = SqliteStore(path)
        return _Stores(store, store, SqliteDeadLetters(store), store)

    def _snapshot(self, stores: _Stores) -> _Stores:
        if stores.sqlite is None:
            state, repo = stores.state, stores.repository
            assert isinstance(state, InMemoryStateStorage)
            assert isinstance(repo, InMemoryExecutionRepository)
            letters = DeadLetterQueue()
            for letter in stores.dead_letters.list(include_replayed=True):
                letters.add(letter)
            return _Stores(state.snapshot(), repo.snapshot(), letters)
        # What another process would find in the file: committed transactions only.
        target = self._tmp() / f"after-crash-{self.restarts + 1}.sqlite"
        source = sqlite3.connect(stores.sqlite.path)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        store = SqliteStore(target)
        return _Stores(store, store, SqliteDeadLetters(store), store)

    def _new_engine(self, stores: _Stores) -> Engine:
        if self.registry is None:
            # One registry for every engine of this testbed: actions a scenario adds
            # survive a reconfiguration or a crash, as they would a process restart.
            self.registry = default_registry()
            register_kube_actions(self.registry, self.api_client)
            register_test_actions(self.registry, self.actions)
        registry = self.registry
        kwargs: dict[str, Any] = {**self.setup.engine_kwargs(), **self._engine_kwargs}
        if self.options.real_time:
            kwargs.setdefault("wall_clock", True)
        state = (
            JournalingStorage(stores.state, self.journal) if self.options.record else stores.state
        )
        engine = Engine(
            state_storage=state,
            repository=stores.repository,
            dead_letters=stores.dead_letters,
            actions=registry,
            admission=self.ledger,
            **kwargs,
        )
        if self.options.record:
            self._unsubscribe = engine.events.subscribe(self._on_event)
        self._metrics = EngineMetrics(engine)
        return engine

    async def _close_engine(self, *, cancel: bool = True) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        if cancel:
            await engine.aclose()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._metrics is not None:
            self._metrics.close()

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        if event.kind is EventKind.EXECUTION_SUBMITTED and event.execution_id not in self._seen:
            self._seen.add(event.execution_id)
            self.executions.append(event.execution_id)

    def _tmp(self) -> Path:
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="windtunnel-testbed-"))
        return self._tmpdir


def _sync_client_from_kubeconfig(path: Path) -> Any:
    from kubernetes import config

    return config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(path), persist_config=False
    )
