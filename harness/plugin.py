"""The windtunnel pytest plugin: options, fixtures, the step library, evidence and reports.

Loaded through the ``pytest11`` entry point, so any project that installs windtunnel
gets it. It adds:

* options ``--scenario NAME`` (the default profile of scenarios that do not choose one),
  ``--cluster sim|kubeconfig:PATH``, ``--store memory|sqlite``, ``--seed N``,
  ``--catalogue PATH`` and ``--windtunnel-reports DIR`` (write the requirement reports);
* fixtures ``world`` (a fresh :class:`harness.world.World` per test: its own virtual-time
  loop and, once a step needs it, its own testbed), ``testbed``, ``engine``,
  ``cluster``, ``testbed_options`` and ``profile_name``;
* the step library (``harness.steps``), available to every feature;
* a marker per catalogue requirement, so ``-m BR-WORKFLOW-032`` selects its scenarios,
  and an error at file:line for a requirement tag the catalogue lacks;
* a refusal of ``async def`` steps that are not wrapped (see ``harness.steps``);
* per scenario, a :class:`harness.evidence.ScenarioEvidence` carried in
  ``report.user_properties`` and collected on the controller (also under xdist), from
  which the reports are written at the end of the session. The requirement ids also
  go into ``user_properties`` as ``requirement`` entries, so JUnit XML carries them.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from harness import evidence as ev
from harness.catalogue import (
    REQUIREMENT_TAG,
    Catalogue,
    CatalogueError,
    check_tags,
    default_catalogue_path,
    load_catalogue,
    requirement_tags,
)
from harness.steps import step_modules
from harness.steps.asyncio_steps import refuse_unwrapped
from harness.steps.context import CURRENT_STEP, FEATURE_FILE
from harness.testbed import Testbed, TestbedOptions
from harness.world import World

DEFAULT_SCENARIO = "HighLoadProduction"
_WORLD = pytest.StashKey[World]()
_RECORD = pytest.StashKey[dict[str, Any]]()
_SCENARIO = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("windtunnel", "windtunnel scenario harness")
    group.addoption(
        "--scenario",
        dest="windtunnel_scenario",
        default=None,
        metavar="NAME",
        help=f"scenario profile for scenarios that choose none (default {DEFAULT_SCENARIO})",
    )
    group.addoption(
        "--cluster",
        dest="windtunnel_cluster",
        default="sim",
        metavar="sim|kubeconfig:PATH",
        help="the simulated cluster (default) or the cluster a kubeconfig names",
    )
    group.addoption(
        "--store",
        dest="windtunnel_store",
        default=None,
        choices=("memory", "sqlite"),
        help="the engine's stores (default: the profile's)",
    )
    group.addoption(
        "--seed",
        dest="windtunnel_seed",
        default=None,
        type=int,
        metavar="N",
        help="seed for the cluster, retry jitter and ids (default: the profile's)",
    )
    group.addoption(
        "--catalogue",
        dest="windtunnel_catalogue",
        default=None,
        metavar="PATH",
        help="the requirement catalogue (default: features/requirements.yaml under rootdir)",
    )
    group.addoption(
        "--windtunnel-reports",
        dest="windtunnel_reports",
        default=None,
        metavar="DIR",
        help="write requirements.json/.html/.md, cucumber.json and history into DIR",
    )
    parser.addini("windtunnel_scenario", "default scenario profile", default=DEFAULT_SCENARIO)


# -- configuration -------------------------------------------------------------------


class _Session:
    """What the plugin keeps for one pytest session (on the controller and on workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rootdir = Path(str(config.rootpath))
        scenario = config.getoption("windtunnel_scenario") or config.getini("windtunnel_scenario")
        self.scenario: str = str(scenario)
        self.cluster: str = config.getoption("windtunnel_cluster")
        self.store: str | None = config.getoption("windtunnel_store")
        self.seed: int | None = config.getoption("windtunnel_seed")
        self.catalogue: Catalogue | None = None
        self.evidence: dict[str, ev.ScenarioEvidence] = {}
        self.started_at = time.time()
        try:
            TestbedOptions(cluster=self.cluster)
        except Exception as exc:
            raise pytest.UsageError(f"--cluster: {exc}") from None
        path = config.getoption("windtunnel_catalogue")
        catalogue_path = Path(path) if path else default_catalogue_path(self.rootdir)
        if path or catalogue_path.is_file():
            try:
                self.catalogue = load_catalogue(catalogue_path)
            except CatalogueError as exc:
                raise pytest.UsageError(str(exc)) from None
            for requirement in self.catalogue.requirements.values():
                config.addinivalue_line("markers", f"{requirement.id}: {requirement.title}")

    def options(self) -> TestbedOptions:
        return TestbedOptions(store=self.store, cluster=self.cluster, seed=self.seed)  # type: ignore[arg-type]

    @pytest.hookimpl(tryfirst=True)
    def pytest_bdd_apply_tag(self, tag: str, function: Any) -> bool | None:
        """Leave an unknown requirement tag unmarked: the collection check reports it at
        its file and line (as a mark it would fail earlier, as an anonymous unknown mark)."""
        if REQUIREMENT_TAG.match(tag) and (self.catalogue is None or tag not in self.catalogue):
            return True
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """On the controller, take the evidence out of the report (JUnit gets the ids only)."""
        if hasattr(self.config, "workerinput"):
            return  # a worker: the evidence must travel on to the controller
        kept = []
        for name, value in report.user_properties:
            if name != ev.USER_PROPERTY:
                kept.append((name, value))
                continue
            data = ev.loads(str(value))
            previous = self.evidence.get(data["nodeid"])
            if previous is None or _rank(data["status"]) >= _rank(previous["status"]):
                self.evidence[data["nodeid"]] = data
        report.user_properties[:] = kept

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return
        out = self.config.getoption("windtunnel_reports")
        if out and self.catalogue is not None:
            _write_reports(Path(out), self, self.config)


_SESSION = pytest.StashKey[_Session]()


def pytest_configure(config: pytest.Config) -> None:
    state = _Session(config)
    config.stash[_SESSION] = state
    config.pluginmanager.register(state, "windtunnel-session")
    if state.catalogue is not None and not hasattr(config, "workerinput"):
        # Before any collection (and before xdist starts workers): a bad tag stops the
        # run here with its file and line, once.
        problems = check_tags(_feature_files(config), state.catalogue, state.rootdir)
        if problems:
            raise pytest.UsageError(str(CatalogueError(problems)))
    for module in step_modules():
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, f"windtunnel-steps-{module.__name__}")


def _feature_files(config: pytest.Config) -> set[Path]:
    """The feature files the run's arguments (or testpaths) name or hold."""
    found: set[Path] = set()
    for arg in config.args or [str(config.rootpath)]:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        if path.suffix == ".feature" and path.is_file():
            found.add(path)
            continue
        folder = path.parent if path.is_file() else path
        if folder.is_dir():
            found.update(folder.rglob("*.feature"))
    return found


def _session(config: pytest.Config) -> _Session:
    return config.stash[_SESSION]


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Check requirement tags of every collected feature file against the catalogue."""
    state = _session(config)
    files = {Path(f) for f in (_feature_file(item) for item in items) if f is not None}
    if not files:
        return
    if state.catalogue is None:
        tagged = [f for f in files if requirement_tags(_tag_words(f))]
        if tagged:
            raise pytest.UsageError(
                f"{tagged[0]} tags requirements but there is no catalogue: create "
                f"{default_catalogue_path(state.rootdir)} or pass --catalogue PATH"
            )
        return
    problems = check_tags(files, state.catalogue, state.rootdir)
    if problems:
        raise pytest.UsageError(str(CatalogueError(problems)))


def _tag_words(path: Path) -> list[str]:
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("@"):
            words.extend(line.split("#", 1)[0].split())
    return words


def _feature_file(item: pytest.Item) -> str | None:
    scenario = _scenario_of(item)
    return None if scenario is None else str(scenario.feature.filename)


def _scenario_of(item: pytest.Item) -> Any:
    """The scenario a pytest-bdd test runs: rendered once it ran, else its template."""
    ran = item.stash.get(_SCENARIO, None)
    if ran is not None:
        return ran
    # pytest-bdd's own lookup (its generation module does the same).
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    return scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def testbed_options(request: pytest.FixtureRequest) -> TestbedOptions:
    """The options every testbed of this run is built with (from the command line)."""
    return _session(request.config).options()


@pytest.fixture
def profile_name(request: pytest.FixtureRequest) -> str:
    """The default profile (``--scenario``) of scenarios that do not choose one."""
    return _session(request.config).scenario


@pytest.fixture
def world(
    request: pytest.FixtureRequest, testbed_options: TestbedOptions, profile_name: str
) -> Any:
    """A fresh world per scenario: its own virtual-time loop and (lazily) its testbed."""
    w = World(testbed_options, profile_name)
    request.node.stash[_WORLD] = w
    yield w
    w.close()


@pytest.fixture
def testbed(world: World) -> Testbed:
    """The scenario's testbed (the default profile's, unless a step chose another)."""
    return world.bed()


@pytest.fixture
def engine(testbed: Testbed) -> Any:
    """The scenario's running engine."""
    return testbed.engine


@pytest.fixture
def cluster(testbed: Testbed) -> Any:
    """The scenario's simulated cluster."""
    return testbed.cluster()


# -- steps: refuse unwrapped async, record what ran ----------------------------------


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    request.node.stash[_RECORD] = {"steps": [], "wall": time.perf_counter()}
    request.node.stash[FEATURE_FILE] = str(feature.filename)
    request.node.stash[_SCENARIO] = scenario


def pytest_bdd_before_step(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any
) -> None:
    request.node.stash[CURRENT_STEP] = step
    record = request.node.stash.get(_RECORD, None)
    if record is not None:
        record["current"] = (step, time.perf_counter())


def pytest_bdd_before_step_call(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: dict[str, Any],
) -> None:
    refuse_unwrapped(step_func, f"{step.keyword} {step.name}")


def pytest_bdd_after_step(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: dict[str, Any],
) -> None:
    _end_step(request, "passed")


def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: dict[str, Any],
    exception: BaseException,
) -> None:
    _end_step(request, "failed", exception)


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    _end_step(request, "undefined", exception, step=step)


def _end_step(
    request: pytest.FixtureRequest, status: str, exc: BaseException | None = None, step: Any = None
) -> None:
    record = request.node.stash.get(_RECORD, None)
    if record is None:
        return
    current = record.pop("current", None)
    started = time.perf_counter()
    if current is not None:
        step, started = current
    if step is None:
        return
    record["steps"].append(
        {
            "keyword": step.keyword,
            "name": step.name,
            "line": step.line_number,
            "status": status,
            "duration_wall": time.perf_counter() - started,
        }
    )
    if exc is not None:
        record["failing_step"] = f"{step.keyword} {step.name}"
        record["error"] = _error_text(exc)


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 4000 else text[:4000] + " ..."


# -- evidence: built where the scenario ran, collected on the controller -------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    scenario = _scenario_of(item)
    if scenario is not None and call.when == "setup":
        # On the item, so every phase's report has them (JUnit reads the teardown's).
        item.user_properties.extend(("requirement", r) for r in _requirements(scenario))
    report: pytest.TestReport = yield
    scenario = _scenario_of(item)
    if scenario is None:
        return report
    state = _session(item.config)
    requirements = _requirements(scenario)
    attach = report.when == "call" or (report.when == "setup" and not report.passed)
    attach = attach or (report.when == "teardown" and report.failed)
    if attach:
        evidence = _evidence(item, report, scenario, requirements, state)
        report.user_properties.append((ev.USER_PROPERTY, ev.dumps(evidence)))
    return report


def _requirements(scenario: Any) -> list[str]:
    return requirement_tags(_all_tags(scenario))


def _all_tags(scenario: Any) -> list[str]:
    rule = getattr(scenario, "rule", None)
    tags = set(scenario.tags) | set(scenario.feature.tags) | (set(rule.tags) if rule else set())
    return sorted(tags)


def _evidence(
    item: pytest.Item,
    report: pytest.TestReport,
    scenario: Any,
    requirements: list[str],
    state: _Session,
) -> ev.ScenarioEvidence:
    record: dict[str, Any] = item.stash.get(_RECORD, {"steps": [], "wall": time.perf_counter()})
    world = item.stash.get(_WORLD, None)
    status: ev.Outcome = "passed" if report.passed else "skipped" if report.skipped else "failed"
    steps = list(record["steps"])
    done = {(s["line"], s["name"]) for s in steps}
    for step in scenario.steps:
        if (step.line_number, step.name) not in done:
            steps.append(
                {
                    "keyword": step.keyword,
                    "name": step.name,
                    "line": step.line_number,
                    "status": "skipped",
                    "duration_wall": 0.0,
                }
            )
    error = record.get("error")
    if status == "failed" and error is None and report.longrepr is not None:
        error = str(getattr(report.longrepr, "reprcrash", None) or report.longrepr)[:4000]
    if report.when == "teardown":
        error = f"teardown failed: {str(report.longrepr)[:4000]}"
    feature = scenario.feature
    profile = world.profile_name if world is not None else None
    bed = world.testbed if world is not None else None
    seed = bed.profile.seed if bed is not None else (state.seed if state.seed is not None else 0)
    store = bed.store_kind if bed is not None else (state.store or "memory")
    return {
        "nodeid": item.nodeid,
        "feature_file": _relative(Path(feature.filename), state.rootdir),
        "feature_name": feature.name,
        "feature_line": int(getattr(feature, "line_number", 1) or 1),
        "scenario_name": scenario.name,
        "line": scenario.line_number,
        "tags": _all_tags(scenario),
        "requirements": requirements,
        "status": status,
        "duration_wall": time.perf_counter() - record["wall"],
        "duration_virtual": round(world.now(), 6)
        if world is not None and not world.closed
        else 0.0,
        "failing_step": record.get("failing_step") if status == "failed" else None,
        "error": error if status != "passed" else None,
        "steps": steps,
        "executions": world.execution_evidence() if world is not None else [],
        "profile": profile or state.scenario,
        "cluster": state.cluster,
        "store": store,
        "seed": seed,
        "reproduce": _reproduce(item.nodeid, profile or state.scenario, seed, state),
    }


def _reproduce(nodeid: str, profile: str, seed: int, state: _Session) -> str:
    args = ["python", "-m", "pytest", "-p", "no:randomly", nodeid, "--scenario", profile]
    args += ["--seed", str(seed)]
    if state.store:
        args += ["--store", state.store]
    if state.cluster != "sim":
        args += ["--cluster", state.cluster]
    return shlex.join(args)


def _relative(path: Path, rootdir: Path) -> str:
    try:
        return path.resolve().relative_to(rootdir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _rank(status: str) -> int:
    return {"skipped": 0, "passed": 1, "failed": 2}.get(status, 0)


def _write_reports(out: Path, state: _Session, config: pytest.Config) -> None:
    from harness.report import write_reports
    from harness.runinfo import run_meta

    assert state.catalogue is not None
    evidence = sorted(
        state.evidence.values(), key=lambda e: (e["feature_file"], e["line"], e["nodeid"])
    )
    workers = (
        int(getattr(config.option, "numprocesses", 0) or 0)
        if config.pluginmanager.has_plugin("xdist")
        else 0
    )
    meta = run_meta(
        rootdir=state.rootdir,
        started_at=state.started_at,
        profile=state.scenario,
        cluster=state.cluster,
        store=state.store or "profile",
        seed=state.seed,
        pytest_args=list(config.invocation_params.args),
        workers=workers,
    )
    write_reports(out, state.catalogue, evidence, meta)
