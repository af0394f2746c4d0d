"""The simulated API against a plain dict model, under random operation sequences.

Hypothesis drives create / update (fresh or stale) / merge-patch / delete / list /
watch through the official sync client and checks every answer against a model
that only knows "a name maps to data and labels". A watch opened at the start must
replay into exactly the model's state, and resourceVersions only ever grow.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster

names = st.sampled_from(["a", "b", "c", "d"])
values = st.sampled_from(["x", "y", "z"])
datas = st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), values, max_size=3)
label_sets = st.dictionaries(st.sampled_from(["app", "tier"]), values, max_size=2)


class ConfigMapModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cluster = Cluster(seed=3)
        self.core = client.CoreV1Api(self.cluster.api_client())
        self.model: dict[str, dict[str, Any]] = {}
        self.stale: dict[str, str] = {}
        self.last_rv = self.cluster.store.rv
        self.watcher = self.cluster.api.watch(
            "configmaps", "default", resource_version=str(self.last_rv)
        )
        self.replayed: dict[str, dict[str, Any]] = {}

    def _rv_grew(self, rv: str) -> None:
        assert int(rv) > self.last_rv
        self.last_rv = int(rv)

    def _status(self, call: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        try:
            return 200, call(*args, **kwargs)
        except ApiException as err:
            return err.status, json.loads(err.body)

    @rule(name=names, data=datas, labels=label_sets)
    def create(self, name: str, data: dict[str, str], labels: dict[str, str]) -> None:
        body = {"metadata": {"name": name, "labels": labels}, "data": data}
        status, answer = self._status(self.core.create_namespaced_config_map, "default", body)
        if name in self.model:
            assert (status, answer["reason"]) == (409, "AlreadyExists")
            return
        assert status == 200
        self._rv_grew(answer.metadata.resource_version)
        self.model[name] = {"data": data, "labels": labels, "rv": answer.metadata.resource_version}

    @rule(name=names, data=datas, use_stale=st.booleans())
    def update(self, name: str, data: dict[str, str], use_stale: bool) -> None:
        current = self.model.get(name)
        rv = self.stale.get(name) if use_stale else (current or {}).get("rv")
        body = {"metadata": {"name": name, "resourceVersion": rv}, "data": data}
        if current is not None:
            body["metadata"]["labels"] = current["labels"]
        status, answer = self._status(
            self.core.replace_namespaced_config_map, name, "default", body
        )
        if current is None:
            assert status == 404
            return
        if use_stale and rv is not None and rv != current["rv"]:
            assert (status, answer["reason"]) == (409, "Conflict")
            return
        assert status == 200
        if data != current["data"]:
            self._rv_grew(answer.metadata.resource_version)
            self.stale[name] = current["rv"]
        current.update(data=data, rv=answer.metadata.resource_version)

    @rule(name=names, key=st.sampled_from(["k1", "k2", "k3"]), value=st.one_of(st.none(), values))
    def merge_patch(self, name: str, key: str, value: str | None) -> None:
        status, answer = self._patch(name, key, value)
        current = self.model.get(name)
        if current is None:
            assert status == 404
            return
        assert status == 200
        data = dict(current["data"])
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
        if data != current["data"]:
            self._rv_grew(answer["metadata"]["resourceVersion"])
            self.stale[name] = current["rv"]
        current.update(data=data, rv=answer["metadata"]["resourceVersion"])

    def _patch(self, name: str, key: str, value: str | None) -> tuple[int, Any]:
        from fakes.kube.errors import ApiError

        try:
            return 200, self.cluster.api.patch(
                "configmaps", name, {"data": {key: value}}, "default", patch_type="merge"
            )
        except ApiError as err:
            return err.code, err.status

    @rule(name=names)
    def delete(self, name: str) -> None:
        status, answer = self._status(self.core.delete_namespaced_config_map, name, "default")
        if name not in self.model:
            assert status == 404
            return
        assert status == 200
        assert answer["status"] == "Success"
        del self.model[name]
        self.stale.pop(name, None)
        self.last_rv = self.cluster.store.rv

    @rule(key=st.sampled_from(["app", "tier"]), value=values)
    def list_by_label(self, key: str, value: str) -> None:
        listed = self.core.list_namespaced_config_map("default", label_selector=f"{key}={value}")
        expected = sorted(n for n, o in self.model.items() if o["labels"].get(key) == value)
        assert [c.metadata.name for c in listed.items] == expected

    @invariant()
    def watch_replays_into_the_model(self) -> None:
        while self.watcher.queue:
            event = self.watcher.queue.popleft()
            obj = event.object
            name = obj["metadata"]["name"]
            if event.type == "DELETED":
                self.replayed.pop(name, None)
            else:
                self.replayed[name] = obj.get("data") or {}
        assert self.replayed == {n: o["data"] for n, o in self.model.items()}

    @invariant()
    def full_list_matches(self) -> None:
        listed = self.cluster.api.list("configmaps", "default")
        assert {c["metadata"]["name"]: c.get("data") or {} for c in listed} == {
            n: o["data"] for n, o in self.model.items()
        }

    def teardown(self) -> None:
        self.watcher.close()


TestConfigMapModel = ConfigMapModel.TestCase
