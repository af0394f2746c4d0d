"""Object validation that answers 422 Invalid with field causes, like kube-apiserver.

Covers what users hit in practice and what the simulated controllers rely on: names
(RFC 1123), labels and annotations (syntax and types), the workload invariants
(replicas >= 0, selector present and matching the template labels), pod basics
(containers with a name and an image) and the keys and size of Secret and ConfigMap
data. The error texts are the real server's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fakes.kube.errors import FieldError
from fakes.kube.selectors import LabelSelector, label_key_error, label_value_error

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key_name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
# core.MaxSecretSize, also the limit of a ConfigMap's data and binaryData together.
MAX_DATA_SIZE = 1024 * 1024
# Kinds whose names must be RFC 1123 labels rather than subdomains.
_LABEL_NAMED = {"namespaces", "services"}
_WORKLOADS = {"deployments", "replicasets", "statefulsets", "daemonsets"}


def validate_name(kind: ResourceKind, name: Any) -> list[FieldError]:
    if not isinstance(name, str):
        return [FieldError.invalid("metadata.name", name, "must be a string")]
    if kind.plural in _LABEL_NAMED:
        if len(name) > 63 or not _LABEL.match(name):
            return [FieldError.invalid("metadata.name", name, _LABEL_MSG)]
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        return [FieldError.invalid("metadata.name", name, _SUBDOMAIN_MSG)]
    return []


def validate_metadata(kind: ResourceKind, meta: Any) -> list[FieldError]:
    if not isinstance(meta, dict):
        return [FieldError.invalid("metadata", meta, "must be an object")]
    errors: list[FieldError] = []
    if not meta.get("name") and not meta.get("generateName"):
        errors.append(FieldError.required("metadata.name", "name or generateName is required"))
    elif meta.get("name"):
        errors += validate_name(kind, meta["name"])
    errors += _validate_string_map(meta.get("labels"), "metadata.labels", labels=True)
    errors += _validate_string_map(meta.get("annotations"), "metadata.annotations", labels=False)
    finalizers = meta.get("finalizers")
    if finalizers is not None and (
        not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers)
    ):
        errors.append(
            FieldError.invalid("metadata.finalizers", finalizers, "must be a list of strings")
        )
    return errors


def _validate_string_map(value: Any, path: str, labels: bool) -> list[FieldError]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [FieldError.invalid(path, value, "must be a map of string keys to string values")]
    errors = []
    for k, v in value.items():
        if not isinstance(v, str):
            errors.append(
                FieldError.invalid(f"{path}.{k}" if labels else path, v, "must be a string")
            )
            continue
        why = label_key_error(k)
        if why:
            errors.append(FieldError.invalid(path, k, why))
        if labels:
            why = label_value_error(v)
            if why:
                errors.append(FieldError.invalid(path, v, why))
    return errors


def _validate_containers(spec: JsonObj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [FieldError.required(f"{path}.containers", "")]
    seen: set[str] = set()
    for i, c in enumerate(containers):
        cpath = f"{path}.containers[{i}]"
        if not isinstance(c, dict):
            errors.append(FieldError.invalid(cpath, c, "must be an object"))
            continue
        name = c.get("name")
        if not name:
            errors.append(FieldError.required(f"{cpath}.name", ""))
        elif not isinstance(name, str) or not _LABEL.match(name):
            errors.append(FieldError.invalid(f"{cpath}.name", name, _LABEL_MSG))
        elif name in seen:
            errors.append(FieldError(f"{cpath}.name", "Duplicate value", "", name))
        else:
            seen.add(name)
        if not c.get("image"):
            errors.append(FieldError.required(f"{cpath}.image", ""))
    return errors


def config_key_errors(key: str) -> list[str]:
    """``IsConfigMapKey``: why ``key`` may not name a Secret or ConfigMap entry."""
    why = []
    if len(key) > 253:
        why.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(key):
        why.append(_CONFIG_KEY_MSG)
    if key == ".":
        why.append("must not be '.'")
    elif key == "..":
        why.append("must not be '..'")
    elif key.startswith(".."):
        why.append("must not start with '..'")
    return why


def _base64_size(value: str) -> int:
    """Decoded length of a base64 value, without decoding (nor failing on bad input)."""
    return len(value) * 3 // 4 - (2 if value.endswith("==") else 1 if value.endswith("=") else 0)


def _too_long(path: str) -> FieldError:
    return FieldError(path, "Too long", f"may not be more than {MAX_DATA_SIZE} bytes")


def _key_problems(path: str, key: str) -> list[FieldError]:
    return [FieldError.invalid(f"{path}[{key}]", key, why) for why in config_key_errors(key)]


def _validate_secret(obj: JsonObj) -> list[FieldError]:
    """``ValidateSecret``: data keys are config keys, 1 MiB of decoded data at most."""
    data = obj.get("data")
    if not isinstance(data, dict):
        return []
    errors: list[FieldError] = []
    size = 0
    for key, value in data.items():
        errors += _key_problems("data", key)
        if isinstance(value, str):
            size += _base64_size(value)
    if size > MAX_DATA_SIZE:
        errors.append(_too_long("data"))
    return errors


def _validate_configmap(obj: JsonObj) -> list[FieldError]:
    """``ValidateConfigMap``: config keys, no key in both maps, 1 MiB in all."""
    data = obj.get("data")
    binary = obj.get("binaryData")
    data = data if isinstance(data, dict) else {}
    binary = binary if isinstance(binary, dict) else {}
    errors: list[FieldError] = []
    size = 0
    for key, value in data.items():
        errors += _key_problems("data", key)
        if key in binary:
            errors.append(
                FieldError.invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
            )
        if isinstance(value, str):
            size += len(value.encode())
    for key, value in binary.items():
        errors += _key_problems("binaryData", key)
        if key in data:
            errors.append(
                FieldError.invalid(f"binaryData[{key}]", key, "duplicate of key present in data")
            )
        if isinstance(value, str):
            size += _base64_size(value)
    if size > MAX_DATA_SIZE:
        errors.append(_too_long(""))  # "" names the whole object, as kube's does
    return errors


def _validate_replicas(spec: JsonObj) -> list[FieldError]:
    replicas = spec.get("replicas")
    if replicas is None:
        return []
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        return [FieldError.invalid("spec.replicas", replicas, "must be an integer")]
    if replicas < 0:
        return [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")]
    return []


def _validate_strategy(spec: JsonObj) -> list[FieldError]:
    """``ValidateDeploymentStrategy``: rollingUpdate only with RollingUpdate, never 0/0.

    Switching a Deployment to Recreate must drop its rollingUpdate (``kubectl apply``
    does it with ``$retainKeys``); a rollout that may neither surge nor go unavailable
    could never make progress.
    """
    strategy = spec.get("strategy")
    if not isinstance(strategy, dict):
        return []
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    path = "spec.strategy"
    if kind is None:
        return []  # not defaulted yet: the defaulter names RollingUpdate
    if kind == "Recreate":
        if rolling is not None:
            return [
                FieldError.forbidden(
                    f"{path}.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if kind != "RollingUpdate":
        return [FieldError.not_supported(path, strategy, ["Recreate", "RollingUpdate"])]
    if (
        isinstance(rolling, dict)
        and _is_zero(rolling.get("maxUnavailable"))
        and _is_zero(rolling.get("maxSurge"))
    ):
        return [
            FieldError.invalid(
                f"{path}.rollingUpdate.maxUnavailable",
                rolling.get("maxUnavailable"),
                "may not be 0 when `maxSurge` is 0",
            )
        ]
    return []


def _is_zero(value: Any) -> bool:
    return value in (0, "0%") and value is not False


def validate_object(kind: ResourceKind, obj: JsonObj) -> list[FieldError]:
    """All field errors of ``obj`` (empty when valid)."""
    errors = validate_metadata(kind, obj.get("metadata"))
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [*errors, FieldError.invalid("spec", spec, "must be an object")]
    spec = spec or {}
    plural = kind.plural
    if plural == "pods":
        errors += _validate_containers(spec, "spec")
    elif plural in _WORKLOADS or plural == "jobs":
        errors += _validate_replicas(spec)
        selector = spec.get("selector")
        template = spec.get("template")
        tlabels = (
            (template or {}).get("metadata", {}).get("labels") or {}
            if isinstance(template, dict)
            else {}
        )
        if not selector:
            errors.append(FieldError.required("spec.selector", ""))
        elif isinstance(selector, dict):
            sel = LabelSelector.from_spec(selector)
            if sel.empty:
                errors.append(
                    FieldError.invalid(
                        "spec.selector", selector, "empty selector is invalid for deployment"
                    )
                )
            elif not sel.matches(tlabels):
                errors.append(
                    FieldError.invalid(
                        "spec.template.metadata.labels",
                        tlabels,
                        "`selector` does not match template `labels`",
                    )
                )
        if plural == "deployments":
            errors += _validate_strategy(spec)
        if not isinstance(template, dict):
            errors.append(FieldError.required("spec.template", ""))
        else:
            errors += _validate_containers(template.get("spec") or {}, "spec.template.spec")
    elif plural == "secrets" and not kind.group:
        errors += _validate_secret(obj)
    elif plural == "configmaps" and not kind.group:
        errors += _validate_configmap(obj)
    elif plural == "poddisruptionbudgets" and "minAvailable" in spec and "maxUnavailable" in spec:
        errors.append(
            FieldError.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")
        )
    return errors
