"""The simulated API against a plain model, under random operation sequences.

Hypothesis drives create / replace (fresh, stale or unconditional) / merge patch /
strategic merge patch / delete / read / list by label / watch, all through the
official sync client, on two kinds (ConfigMaps and Secrets) that share one
resourceVersion sequence. The model only knows "a name maps to data and labels"
and the events its writes made; only those fields are compared, so server-side
defaulting never counts against the API.

Checked on every step: a write that changes an object gets a resourceVersion
above every earlier one and a no-op keeps it; a write with a stale
resourceVersion is 409 Conflict and changes nothing; anything on a missing name
is 404; a second create is 409 AlreadyExists; a list by label is exactly the
model's matches. A watch resumed from any resourceVersion seen so far, with or
without a label selector, replays exactly the model's events since then (an
object that stops matching the selector leaves with DELETED, one that starts
matching enters with ADDED, as kube's filtered watches do).

The cluster runs on a VirtualClock, so each watch's timeout ends it at once after
its replay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from kubernetes import client, watch
from kubernetes.client import ApiException

from fakes.kube import Cluster
from fakes.kube.clock import VirtualClock

NS = "default"
# kind -> the client's method suffix and the values its data holds (Secrets: base64).
KINDS = {
    "configmaps": ("config_map", ["x", "y", "z"]),
    "secrets": ("secret", ["eA==", "eQ==", "eg=="]),
}
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"

kinds = st.sampled_from(sorted(KINDS))
names = st.sampled_from(["a", "b", "c"])
keys = st.sampled_from(["k1", "k2", "k3"])
slots = st.integers(0, 2)  # which of the kind's three values
label_values = st.sampled_from(["x", "y"])
label_sets = st.dictionaries(st.sampled_from(["app", "tier"]), label_values, max_size=2)
# Every watch is checked unfiltered and through each of these.
SELECTORS = [None, ("app", "x"), ("app", "y")]


@dataclass
class Obj:
    data: dict[str, str]
    labels: dict[str, str]
    rv: str


@dataclass(frozen=True)
class Event:
    """A write as a watcher of its kind sees it; ``before`` labels decide filtered views."""

    rv: int
    kind: str
    type: str
    name: str
    data: dict[str, str]
    labels: dict[str, str]
    before: dict[str, str] | None


def matches(labels: dict[str, str] | None, selector: tuple[str, str] | None) -> bool:
    if labels is None:
        return False
    return selector is None or labels.get(selector[0]) == selector[1]


def seen_through(events: list[Event], selector: tuple[str, str] | None) -> list[tuple[Any, ...]]:
    """What a watch with ``selector`` reports for ``events``, as kube filters them."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        was = matches(e.before, selector)
        now = e.type != "DELETED" and matches(e.labels, selector)
        if e.type == "DELETED":
            kind = "DELETED" if was else None
        elif was and now:
            kind = "MODIFIED"
        elif now:
            kind = "ADDED"
        elif was:
            kind = "DELETED"
        else:
            kind = None
        if kind is not None:
            out.append((kind, e.name, e.data, e.labels))
    return out


class KubeModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cluster = Cluster(seed=3, clock=VirtualClock())
        self.api_client = self.cluster.api_client()
        self.core = client.CoreV1Api(self.api_client)
        self.model: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
        self.stale: dict[tuple[str, str], str] = {}
        self.events: list[Event] = []
        start = self.core.list_namespaced_config_map(NS).metadata.resource_version
        self.last_rv = int(start)
        self.checkpoints: list[str] = [start]
        self.written: set[str] = set()  # kinds a write was sent to since the last full list

    # -- plumbing ----------------------------------------------------------------------

    def _call(self, kind: str, verb: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        method = getattr(self.core, verb.format(KINDS[kind][0]))
        if verb.startswith(("create", "replace", "patch", "delete")):
            self.written.add(kind)
        try:
            return 200, method(*args, **kwargs)
        except ApiException as err:
            return err.status, json.loads(err.body)

    def _value(self, kind: str, slot: int) -> str:
        return KINDS[kind][1][slot]

    def _wrote(self, kind: str, event_type: str, name: str, rv: str, before: Obj | None) -> None:
        """Record a write that changed the object: its rv must be above all earlier ones."""
        assert int(rv) > self.last_rv, (rv, self.last_rv)
        self.last_rv = int(rv)
        self.checkpoints.append(rv)
        now = self.model[kind].get(name)
        shown = now if now is not None else before
        assert shown is not None
        self.events.append(
            Event(
                int(rv),
                kind,
                event_type,
                name,
                dict(shown.data),
                dict(shown.labels),
                None if before is None else dict(before.labels),
            )
        )
        if before is not None:
            self.stale[(kind, name)] = before.rv

    def _rv_for(self, kind: str, name: str, use_stale: bool) -> str | None:
        current = self.model[kind].get(name)
        if use_stale:
            return self.stale.get((kind, name))
        return None if current is None else current.rv

    def _updated(
        self, kind: str, name: str, answer: Any, data: dict[str, str], labels: Any
    ) -> None:
        """Apply an accepted update to the model; a no-op must keep the resourceVersion."""
        current = self.model[kind][name]
        before = Obj(dict(current.data), dict(current.labels), current.rv)
        rv = answer.metadata.resource_version
        assert (answer.data or {}, answer.metadata.labels or {}) == (data, labels)
        if (data, labels) == (before.data, before.labels):
            assert rv == before.rv
            return
        self.model[kind][name] = Obj(data, labels, rv)
        self._wrote(kind, "MODIFIED", name, rv, before)

    # -- rules ---------------------------------------------------------------------------

    @initialize(
        objects=st.lists(st.tuples(kinds, names, label_sets), min_size=2, max_size=6),
        slot=slots,
    )
    def populate(self, objects: list[tuple[str, str, dict[str, str]]], slot: int) -> None:
        """Start from a few labelled objects, so short runs still relabel, conflict and watch."""
        for kind, name, labels in objects:
            self.create(kind, name, {"k1": slot}, labels)

    @rule(kind=kinds, name=names, data=st.dictionaries(keys, slots, max_size=3), labels=label_sets)
    def create(self, kind: str, name: str, data: dict[str, int], labels: dict[str, str]) -> None:
        values = {k: self._value(kind, v) for k, v in data.items()}
        body = {"metadata": {"name": name, "labels": labels}, "data": values}
        status, answer = self._call(kind, "create_namespaced_{}", NS, body)
        if name in self.model[kind]:
            assert (status, answer["reason"]) == (409, "AlreadyExists")
            return
        assert status == 200, answer
        assert (answer.data or {}, answer.metadata.labels or {}) == (values, labels)
        rv = answer.metadata.resource_version
        self.model[kind][name] = Obj(values, labels, rv)
        self._wrote(kind, "ADDED", name, rv, None)

    @rule(
        kind=kinds,
        name=names,
        data=st.dictionaries(keys, slots, max_size=3),
        labels=st.none() | label_sets,
        use_stale=st.booleans(),
    )
    def replace(
        self,
        kind: str,
        name: str,
        data: dict[str, int],
        labels: dict[str, str] | None,
        use_stale: bool,
    ) -> None:
        current = self.model[kind].get(name)
        values = {k: self._value(kind, v) for k, v in data.items()}
        rv = self._rv_for(kind, name, use_stale)
        new_labels = labels if labels is not None else (current.labels if current else {})
        body = {
            "metadata": {"name": name, "resourceVersion": rv, "labels": new_labels},
            "data": values,
        }
        status, answer = self._call(kind, "replace_namespaced_{}", name, NS, body)
        if current is None:
            assert status == 404, answer
            return
        if rv is not None and rv != current.rv:
            assert (status, answer["reason"]) == (409, "Conflict")
            return
        assert status == 200, answer
        self._updated(kind, name, answer, values, new_labels)

    @rule(
        kind=kinds,
        name=names,
        key=keys,
        slot=st.none() | slots,
        label=st.none() | st.tuples(st.sampled_from(["app", "tier"]), st.none() | label_values),
        strategic=st.booleans(),
        use_stale=st.booleans(),
    )
    def patch(
        self,
        kind: str,
        name: str,
        key: str,
        slot: int | None,
        label: tuple[str, str | None] | None,
        strategic: bool,
        use_stale: bool,
    ) -> None:
        """A merge or strategic merge patch: null deletes a key, maps merge by key."""
        current = self.model[kind].get(name)
        value = None if slot is None else self._value(kind, slot)
        metadata: dict[str, Any] = {}
        rv = self.stale.get((kind, name)) if use_stale else None
        if rv is not None:
            metadata["resourceVersion"] = rv
        if label is not None:
            metadata["labels"] = {label[0]: label[1]}
        body = {"metadata": metadata, "data": {key: value}}
        status, answer = self._call(
            kind,
            "patch_namespaced_{}",
            name,
            NS,
            body,
            _content_type=STRATEGIC if strategic else MERGE,
        )
        if current is None:
            assert status == 404, answer
            return
        if rv is not None and rv != current.rv:
            assert (status, answer["reason"]) == (409, "Conflict")
            return
        assert status == 200, answer
        data = {**current.data, key: value}
        labels: dict[str, Any] = dict(current.labels)
        if label is not None:
            labels[label[0]] = label[1]
        self._updated(
            kind,
            name,
            answer,
            {k: v for k, v in data.items() if v is not None},
            {k: v for k, v in labels.items() if v is not None},
        )

    @rule(kind=kinds, name=names, keep=st.lists(keys, unique=True, max_size=2), slot=slots)
    def strategic_replace_directive(self, kind: str, name: str, keep: list[str], slot: int) -> None:
        """``$patch: replace`` on a map replaces it whole, which a merge patch cannot."""
        current = self.model[kind].get(name)
        data = {k: self._value(kind, slot) for k in keep}
        body = {"data": {"$patch": "replace", **data}}
        status, answer = self._call(
            kind, "patch_namespaced_{}", name, NS, body, _content_type=STRATEGIC
        )
        if current is None:
            assert status == 404, answer
            return
        assert status == 200, answer
        self._updated(kind, name, answer, data, dict(current.labels))

    @rule(kind=kinds, name=names)
    def delete(self, kind: str, name: str) -> None:
        status, answer = self._call(kind, "delete_namespaced_{}", name, NS)
        current = self.model[kind].get(name)
        if current is None:
            assert status == 404, answer
            return
        assert status == 200, answer
        assert (answer["kind"], answer["status"]) == ("Status", "Success")
        assert answer["details"] == {"name": name, "kind": kind, "uid": answer["details"]["uid"]}
        del self.model[kind][name]
        self.stale.pop((kind, name), None)
        # The Status carries no resourceVersion: the collection's is the deletion's.
        listed = self._call(kind, "list_namespaced_{}", NS)[1]
        self._wrote(kind, "DELETED", name, listed.metadata.resource_version, current)

    @rule(kind=kinds, name=names)
    def read(self, kind: str, name: str) -> None:
        status, answer = self._call(kind, "read_namespaced_{}", name, NS)
        current = self.model[kind].get(name)
        if current is None:
            assert (status, answer["reason"]) == (404, "NotFound")
            return
        assert status == 200
        assert (answer.data or {}, answer.metadata.labels or {}) == (current.data, current.labels)
        assert answer.metadata.resource_version == current.rv

    @rule(
        kind=kinds, key=st.sampled_from(["app", "tier"]), value=label_values, negate=st.booleans()
    )
    def list_by_label(self, kind: str, key: str, value: str, negate: bool) -> None:
        selector = f"{key}!={value}" if negate else f"{key}={value}"
        listed = self._call(kind, "list_namespaced_{}", NS, label_selector=selector)[1]
        expected = sorted(
            n for n, o in self.model[kind].items() if (o.labels.get(key) == value) != negate
        )
        assert [c.metadata.name for c in listed.items] == expected
        assert int(listed.metadata.resource_version) >= self.last_rv

    @rule(kind=kinds, data=st.data())
    def watch_from_a_resource_version(self, kind: str, data: st.DataObject) -> None:
        since = data.draw(st.sampled_from(self.checkpoints), label="resource_version")
        expected = [e for e in self.events if e.kind == kind and e.rv > int(since)]
        for selector in SELECTORS:
            seen, rvs = self._watch(kind, since, selector)
            assert seen == seen_through(expected, selector), selector
            assert rvs == sorted(set(rvs))
            if selector is None:
                assert rvs == [e.rv for e in expected]

    def _watch(
        self, kind: str, since: str, selector: tuple[str, str] | None
    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        w = watch.Watch()
        stream = w.stream(
            getattr(self.core, f"list_namespaced_{KINDS[kind][0]}"),
            NS,
            resource_version=since,
            label_selector=None if selector is None else f"{selector[0]}={selector[1]}",
            timeout_seconds=1,
        )
        seen = []
        rvs = []
        for event in stream:
            obj = event["object"]
            seen.append(
                (event["type"], obj.metadata.name, obj.data or {}, obj.metadata.labels or {})
            )
            rvs.append(int(obj.metadata.resource_version))
        return seen, rvs

    @invariant()
    def full_list_matches(self) -> None:
        """After any write, accepted or refused, the kind's list is exactly the model."""
        for kind in sorted(self.written):
            listed = self._call(kind, "list_namespaced_{}", NS)[1]
            got = {
                c.metadata.name: (
                    c.data or {},
                    c.metadata.labels or {},
                    c.metadata.resource_version,
                )
                for c in listed.items
            }
            want = {n: (o.data, o.labels, o.rv) for n, o in self.model[kind].items()}
            assert got == want
        self.written.clear()

    def teardown(self) -> None:
        self.api_client.close()


# Every step goes through the official client (about a millisecond a call): 20 steps
# keep the ci profile's 100 runs to a few seconds, and shrunk failures need only a few.
KubeModel.TestCase.settings = settings(settings.default, stateful_step_count=20)
TestKubeModel = KubeModel.TestCase
