"""Update validation: what may not change once an object exists.

kube-apiserver refuses, with 422 Invalid, updates that change:

* a **pod's spec**, except ``spec.containers[*].image``,
  ``spec.initContainers[*].image``, ``spec.activeDeadlineSeconds`` (set, or lowered),
  ``spec.tolerations`` (additions only) and ``spec.terminationGracePeriodSeconds``
  (to 1 from a negative value). Node placement goes through ``pods/binding``,
  status through ``pods/status``; neither comes here;
* the ``spec.selector`` of apps/v1 Deployments, ReplicaSets and DaemonSets, and of
  Jobs; a StatefulSet's spec other than replicas, ordinals, template, updateStrategy,
  persistentVolumeClaimRetentionPolicy and minReadySeconds;
* a **Job's** ``spec.template``, except its labels, annotations, node selector,
  tolerations, affinity and scheduling gates while the Job is suspended.

Every write path (update, the three patch types, server-side apply) reaches
:func:`update_problems` through ``UpdateMixin._prepare_update``. The wording is the
real server's (``ValidatePodUpdate`` and friends in ``validation.go``).
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from fakes.kube.defaults import default_pod_spec
from fakes.kube.errors import FieldError, GoLiteral

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

POD_UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
_SELECTOR_IMMUTABLE = {("apps", "deployments"), ("apps", "replicasets"), ("apps", "daemonsets")}
_STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)
_STATEFULSET_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)
# What a suspended Job's pod template may change (kube's "mutable scheduling directives").
_JOB_TEMPLATE_MUTABLE_META = ("labels", "annotations")
_JOB_TEMPLATE_MUTABLE_SPEC = ("nodeSelector", "tolerations", "affinity", "schedulingGates")


def update_problems(kind: ResourceKind, old: JsonObj, new: JsonObj) -> list[FieldError]:
    """The immutability errors of changing ``old`` into ``new`` (main resource only)."""
    key = (kind.group, kind.plural)
    if key == ("", "pods"):
        return pod_update_problems(old, new)
    old_spec = _spec(old)
    new_spec = _spec(new)
    if key in _SELECTOR_IMMUTABLE:
        return _selector_problems(old_spec, new_spec)
    if key == ("apps", "statefulsets"):
        rest_old = {k: v for k, v in old_spec.items() if k not in _STATEFULSET_MUTABLE}
        rest_new = {k: v for k, v in new_spec.items() if k not in _STATEFULSET_MUTABLE}
        if rest_old != rest_new:
            return [FieldError.forbidden("spec", _STATEFULSET_FORBIDDEN)]
        return []
    if key == ("batch", "jobs"):
        return _selector_problems(old_spec, new_spec) + _job_template_problems(old_spec, new_spec)
    return []


def _spec(obj: JsonObj) -> JsonObj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


# -- pods ------------------------------------------------------------------------------


def pod_update_problems(old: JsonObj, new: JsonObj) -> list[FieldError]:
    """``ValidatePodUpdate``: munge the updatable fields back, then the specs must match."""
    old_spec = _defaulted(old.get("spec"))
    new_spec = _defaulted(new.get("spec"))
    problems: list[FieldError] = []
    for field in ("containers", "initContainers"):
        old_list = old_spec.get(field) or []
        new_list = new_spec.get(field) or []
        if len(old_list) != len(new_list):
            return [
                FieldError.forbidden(
                    f"spec.{field}", "pod updates may not add or remove containers"
                )
            ]
        for i, container in enumerate(new_list):
            image = container.get("image") if isinstance(container, dict) else None
            if not image:
                problems.append(FieldError.required(f"spec.{field}[{i}].image"))
            elif image.strip() != image:
                problems.append(
                    FieldError.invalid(
                        f"spec.{field}[{i}].image",
                        image,
                        "must not have leading or trailing whitespace",
                    )
                )
    if problems:
        return problems
    munged = copy.deepcopy(new_spec)
    for field in ("containers", "initContainers"):
        for container, before in zip(
            munged.get(field) or [], old_spec.get(field) or [], strict=True
        ):
            if isinstance(container, dict) and isinstance(before, dict):
                if "image" in before:
                    container["image"] = before["image"]
                else:
                    container.pop("image", None)
    deadline = _deadline_problem(old_spec.get("activeDeadlineSeconds"), new_spec)
    if deadline is not None:
        return [deadline]
    _copy_field(munged, old_spec, "activeDeadlineSeconds")
    tolerations = _toleration_problem(old_spec.get("tolerations"), new_spec.get("tolerations"))
    if tolerations is not None:
        return [tolerations]
    _copy_field(munged, old_spec, "tolerations")
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if (
        isinstance(old_grace, int)
        and old_grace < 0
        and new_spec.get("terminationGracePeriodSeconds") == 1
    ):
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old_spec:
        detail = (
            "pod updates may not change fields other than "
            + ",".join(POD_UPDATABLE_FIELDS)
            + "\n"
            + _spec_diff(old_spec, munged)
        )
        return [FieldError.forbidden("spec", detail)]
    return []


def _defaulted(spec: Any) -> JsonObj:
    """A copy with the scheme defaults filled, as the real server decodes every body."""
    out: JsonObj = copy.deepcopy(spec) if isinstance(spec, dict) else {}
    default_pod_spec(out)
    return out


def _copy_field(target: JsonObj, source: JsonObj, field: str) -> None:
    if field in source:
        target[field] = copy.deepcopy(source[field])
    else:
        target.pop(field, None)


def _deadline_problem(old: Any, new_spec: JsonObj) -> FieldError | None:
    new = new_spec.get("activeDeadlineSeconds")
    path = "spec.activeDeadlineSeconds"
    if new is not None:
        if not isinstance(new, int) or new < 0 or new > 2**31 - 1:
            return FieldError.invalid(path, new, "must be between 0 and 2147483647, inclusive")
        if isinstance(old, int) and old < new:
            return FieldError.invalid(path, new, "must be less than or equal to previous value")
    elif old is not None:
        return FieldError.invalid(
            path, None, "must not update from a positive integer to nil value"
        )
    return None


def _toleration_problem(old: Any, new: Any) -> FieldError | None:
    """Existing tolerations stay; only a NoExecute ``tolerationSeconds`` may go down."""
    old_list = [t for t in old or () if isinstance(t, dict)]
    new_list = [t for t in new or () if isinstance(t, dict)]
    for before in old_list:
        if not any(_toleration_kept(before, after) for after in new_list):
            return FieldError.forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            )
    return None


def _toleration_kept(before: JsonObj, after: JsonObj) -> bool:
    same = all(before.get(k) == after.get(k) for k in ("key", "operator", "value", "effect"))
    if not same:
        return False
    old_seconds, new_seconds = before.get("tolerationSeconds"), after.get("tolerationSeconds")
    if old_seconds == new_seconds:
        return True
    return (
        before.get("effect") == "NoExecute"
        and isinstance(old_seconds, int)
        and isinstance(new_seconds, int)
        and new_seconds <= old_seconds
    )


def _spec_diff(old: JsonObj, new: JsonObj) -> str:
    """A short diff of the top-level spec fields, in the spirit of kube's ``cmp.Diff``."""
    lines = ["  core.PodSpec{"]
    for field in sorted(old.keys() | new.keys()):
        if old.get(field) == new.get(field):
            continue
        if field in old:
            lines.append(f"- \t{field}: {_compact(old[field])},")
        if field in new:
            lines.append(f"+ \t{field}: {_compact(new[field])},")
    lines.append("  }")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# -- workloads ---------------------------------------------------------------------


def _selector_problems(old_spec: JsonObj, new_spec: JsonObj) -> list[FieldError]:
    new = new_spec.get("selector")
    if old_spec.get("selector") == new:
        return []
    return [FieldError.invalid("spec.selector", go_label_selector(new), "field is immutable")]


def _job_template_problems(old_spec: JsonObj, new_spec: JsonObj) -> list[FieldError]:
    old, new = old_spec.get("template"), new_spec.get("template")
    if old == new:
        return []
    if old_spec.get("suspend") is True and _only_scheduling_changed(old, new):
        return []
    return [
        FieldError.invalid(
            "spec.template", GoLiteral("core.PodTemplateSpec{...}"), "field is immutable"
        )
    ]


def _only_scheduling_changed(old: Any, new: Any) -> bool:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    old, new = copy.deepcopy(old), copy.deepcopy(new)
    for template in (old, new):
        meta = template.setdefault("metadata", {})
        spec = template.setdefault("spec", {})
        for key in _JOB_TEMPLATE_MUTABLE_META:
            meta.pop(key, None)
        for key in _JOB_TEMPLATE_MUTABLE_SPEC:
            spec.pop(key, None)
    return bool(old == new)


def go_label_selector(selector: Any) -> GoLiteral:
    """A LabelSelector as Go's ``%#v`` prints it in kube's "field is immutable" errors."""
    if not isinstance(selector, dict):
        return GoLiteral("(*v1.LabelSelector)(nil)")
    labels = selector.get("matchLabels")
    if isinstance(labels, dict) and labels:
        pairs = ", ".join(f"{_go_str(k)}:{_go_str(labels[k])}" for k in sorted(labels))
        match_labels = f"map[string]string{{{pairs}}}"
    else:
        match_labels = "map[string]string(nil)"
    exprs = [e for e in selector.get("matchExpressions") or () if isinstance(e, dict)]
    if exprs:
        items = []
        for e in exprs:
            values = e.get("values")
            shown = (
                "[]string{" + ", ".join(_go_str(v) for v in values) + "}"
                if values
                else "[]string(nil)"
            )
            items.append(
                f"v1.LabelSelectorRequirement{{Key:{_go_str(e.get('key', ''))}, "
                f"Operator:{_go_str(e.get('operator', ''))}, Values:{shown}}}"
            )
        match_exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    else:
        match_exprs = "[]v1.LabelSelectorRequirement(nil)"
    return GoLiteral(
        f"v1.LabelSelector{{MatchLabels:{match_labels}, MatchExpressions:{match_exprs}}}"
    )


def _go_str(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)
