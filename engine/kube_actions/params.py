"""Parameter models of the Kubernetes actions, checked when a template is validated.

Names follow Kubernetes rules (DNS-1123 labels/subdomains) so a typo in a template is
reported at validation, with the field, before anything touches a cluster.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
QUANTITY = r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$"

Namespace = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
Name = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]
Timeout = Annotated[float, Field(gt=0, le=86_400)]
Quantity = Annotated[str, Field(pattern=QUANTITY)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Target(_Params):
    namespace: Namespace = "default"
    name: Name


class ScaleParams(_Target):
    replicas: Annotated[int, Field(ge=0, le=100_000)]
    wait: bool = True
    timeout: Timeout = 300.0


class RolloutParams(_Target):
    timeout: Timeout = 300.0


class RestartParams(_Target):
    wait: bool = True
    timeout: Timeout = 300.0


class RollbackParams(_Target):
    to_revision: Annotated[int, Field(ge=1)] | None = None
    wait: bool = True
    timeout: Timeout = 300.0


class ContainerResources(_Params):
    """New requests/limits of one container; ``null`` removes a resource."""

    requests: dict[str, Quantity | None] = Field(default_factory=dict)
    limits: dict[str, Quantity | None] = Field(default_factory=dict)


class PatchResourcesParams(_Target):
    containers: Annotated[dict[str, ContainerResources], Field(min_length=1)]
    wait: bool = True
    timeout: Timeout = 300.0


class DeletePodParams(_Target):
    grace_period_seconds: Annotated[int, Field(ge=0)] | None = None
    wait: bool = True
    timeout: Timeout = 300.0


class NodeParams(_Params):
    name: Name
    timeout: Timeout = 60.0


class DrainParams(NodeParams):
    timeout: Timeout = 600.0
    ignore_daemonsets: bool = True
    delete_emptydir_data: bool = True
    force: bool = False
    grace_period_seconds: Annotated[int, Field(ge=0)] | None = None
    wait_for_replacements: bool = True


class ObjectRef(_Params):
    api_version: Annotated[str, Field(alias="apiVersion", min_length=1)]
    kind: Annotated[str, Field(min_length=1)]
    name: Name
    namespace: Namespace | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LabelParams(ObjectRef):
    labels: Annotated[dict[str, str | None], Field(min_length=1)]
    timeout: Timeout = 60.0


class AnnotateParams(ObjectRef):
    annotations: Annotated[dict[str, str | None], Field(min_length=1)]
    timeout: Timeout = 60.0


class ApplyParams(_Params):
    manifest: dict[str, Any] | list[dict[str, Any]]
    namespace: Namespace | None = None
    server_side: bool = True
    timeout: Timeout = 300.0

    @model_validator(mode="after")
    def _objects_are_named(self) -> ApplyParams:
        objects = self.manifest if isinstance(self.manifest, list) else [self.manifest]
        if isinstance(self.manifest, dict) and self.manifest.get("kind", "").endswith("List"):
            objects = list(self.manifest.get("items") or [])
        if not objects:
            raise ValueError("the manifest holds no objects")
        for i, obj in enumerate(objects):
            missing = [
                f for f in ("apiVersion", "kind") if not isinstance(obj.get(f), str) or not obj[f]
            ]
            if not (obj.get("metadata") or {}).get("name"):
                missing.append("metadata.name")
            if missing:
                raise ValueError(f"object {i} lacks {', '.join(missing)}")
        return self
