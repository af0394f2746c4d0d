"""Namespaces: a ``default`` ServiceAccount in each one, as the ServiceAccount controller does.

Deleting a namespace's content and finalizing it is done by the API core
(``fakes.kube.api``) when the namespace is deleted; pods there still terminate
gracefully through the kubelet stages.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fakes.kube.controllers.base import Controller
from fakes.kube.errors import ApiError


class NamespaceController(Controller):
    name = "namespace-controller"

    def setup(self) -> None:
        self.ns_kind = self.kind("namespaces")
        self.sa_kind = self.kind("serviceaccounts")
        self.watch("namespaces", lambda c: self.enqueue(c.name))

    def resync(self) -> None:
        for stored in self.access.store.select(self.ns_kind):
            self.enqueue(stored.name)

    def reconcile(self, key: Any) -> None:
        ns = self.access.get(self.ns_kind, "", key)
        if ns is None:
            return
        if ns["metadata"].get("deletionTimestamp"):
            return
        if self.access.store.get(self.sa_kind, key, "default") is None:
            with contextlib.suppress(ApiError):
                self.access.create(
                    self.sa_kind, {"metadata": {"name": "default", "namespace": key}}
                )
