# mypy: disable-error-code="misc"
# The methods below are the Api's, annotated ``self: Api`` so that they are
# type-checked against the whole facade; mypy reports such a self type on a mixin as
# "misc" (it is not a supertype of the mixin), which is exactly the intent here.
"""The ``scale`` and ``pods/binding`` subresources.

``scale`` is a view: an ``autoscaling/v1`` Scale built from the object's
``spec.replicas``, ``status.replicas`` and selector; writing it changes only
``spec.replicas``. ``binding`` is how the scheduler sets ``spec.nodeName`` (a pod's
spec is otherwise immutable) and marks the pod ``PodScheduled``. Eviction is
``fakes.kube.eviction``. These are methods of :class:`fakes.kube.api.Api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.codec import copy_json, load_json
from fakes.kube.errors import FieldError, dumps
from fakes.kube.selectors import LabelSelector

if TYPE_CHECKING:
    from fakes.kube.api import Api
    from fakes.kube.kinds import ResourceKind
    from fakes.kube.store import Stored

JsonObj = dict[str, Any]


class SubresourceMixin:
    """Scale and binding."""

    def _scale_of(self: Api, kind: ResourceKind, obj: JsonObj) -> JsonObj:
        if kind.subresource("scale") is None:
            raise errors.resource_not_found()
        meta = obj["metadata"]
        selector = LabelSelector.from_spec(obj.get("spec", {}).get("selector"))
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
                "creationTimestamp": meta["creationTimestamp"],
            },
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {
                "replicas": obj.get("status", {}).get("replicas", 0),
                "selector": str(selector),
            },
        }

    def _write_scale(
        self: Api,
        kind: ResourceKind,
        stored: Stored,
        old: JsonObj,
        scale: JsonObj,
        dry_run: bool,
        manager: str | None = None,
    ) -> bytes:
        if kind.subresource("scale") is None:
            raise errors.resource_not_found()
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                kind,
                old["metadata"]["name"],
                [
                    FieldError.invalid(
                        "spec.replicas", replicas, "must be greater than or equal to 0"
                    )
                ],
            )
        new = copy_json(old)
        new["spec"]["replicas"] = replicas
        raw = self._commit_update(kind, stored, old, new, dry_run, manager, "scale")
        return dumps(self._scale_of(kind, load_json(raw)))

    def _bind(self: Api, kind: ResourceKind, ns: str, name: str, body: Any, dry_run: bool) -> bytes:
        if kind is not self.pods:
            raise errors.resource_not_found()
        target = (body or {}).get("target") or {}
        node = target.get("name")
        if not node:
            raise errors.invalid(kind, name, [FieldError.required("target.name", "")])
        with self.store.lock:
            stored = self._stored(kind, ns, name)
            old = stored.decode()
            current = old.get("spec", {}).get("nodeName")
            if current:
                raise errors.conflict(
                    kind, name, f'pod {name} is already assigned to node "{current}"'
                )
            new = copy_json(old)
            new["spec"]["nodeName"] = node
            conditions = new.setdefault("status", {}).setdefault("conditions", [])
            conditions[:] = [c for c in conditions if c.get("type") != "PodScheduled"]
            conditions.append(
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": self.now(),
                }
            )
            if not dry_run:
                self.store.replace(stored, new)
        return dumps(errors.success_status(201))
