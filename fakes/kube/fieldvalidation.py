"""The ``fieldValidation`` directive: what a write does with unknown fields.

kubectl (>= 1.27) sends ``fieldValidation=Strict`` and leaves schema checks to the
server. kube-apiserver decodes the body (``fakes.kube.decoding``) and then:

* ``Strict`` -- unknown fields fail the request;
* ``Warn`` (the default when the parameter is absent) -- they are dropped and each
  is named in a ``Warning: 299 - "unknown field \\"spec.foo\\""`` response header;
* ``Ignore`` -- they are dropped silently.

Unknown fields are never stored. Wrong JSON types always fail. The answers follow
kube's handlers: create and update are 400 BadRequest ("Pod in version "v1" cannot be
handled as a Pod: ..."); JSON, merge and strategic-merge patches are 422 Invalid on
field ``patch``; server-side apply refuses unknown fields whatever the directive
("failed to create typed patch object ...: field not declared in schema"), answered
400 as kube does since it stopped answering 500 for it.

Only requests from clients (the router) come here: the Python-level API the
controllers use is trusted input and skips it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fakes.kube import errors
from fakes.kube.decoding import (
    DecodeError,
    Path,
    Struct,
    apply_path_text,
    path_text,
    schema_for,
)
from fakes.kube.errors import ApiError, FieldError
from fakes.kube.gojson import go_format

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

DIRECTIVES = ("Ignore", "Strict", "Warn")
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_OPTIONS = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}


def directive(value: str | None, verb: str) -> str:
    """The directive of a ``fieldValidation`` parameter; absent or empty is ``Warn``.

    Any other value is 422 Invalid on the request's options, as kube validates them.
    """
    if not value:
        return "Warn"
    if value not in DIRECTIVES:
        raise errors.invalid_group_kind(
            _OPTIONS.get(verb, "CreateOptions"),
            "meta.k8s.io",
            "",
            [FieldError.not_supported("fieldValidation", value, ["", *DIRECTIVES])],
        )
    return value


def target(kind: ResourceKind, subresource: str | None) -> tuple[str, str, str]:
    """(group, version, kind) of the body a request to ``kind``/``subresource`` carries."""
    sub = kind.subresource(subresource) if subresource else None
    if sub is not None and sub.kind:
        return sub.group, sub.version or "v1", sub.kind
    return kind.group, kind.version, kind.kind


def decode_object(kind: ResourceKind, subresource: str | None, body: Any, mode: str) -> list[str]:
    """Check a create or update body in place; the warnings to send (Warn).

    Raises 400 BadRequest for a wrong type, or for unknown fields under Strict.
    """
    group, version, kind_name = target(kind, subresource)
    schema = schema_for(group, version, kind_name)
    if schema is None or not isinstance(body, dict):
        return []
    prefix = f"{kind_name} in version {json.dumps(version)} cannot be handled as a {kind_name}"
    try:
        unknown = schema.check(body, drop=mode != "Strict")
    except DecodeError as exc:
        raise errors.bad_request(f"{prefix}: {exc}") from None
    if unknown and mode == "Strict":
        raise errors.bad_request(f"{prefix}: {_strict(unknown)}")
    return _warnings(unknown, mode)


def decode_patch(
    kind: ResourceKind, subresource: str | None, body: bytes, content_type: str, mode: str
) -> tuple[Any, list[str]]:
    """Check a JSON, merge or strategic-merge patch; (the parsed patch, warnings).

    Unknown fields the patch adds are what would be unknown in the patched object
    (the stored object has none); in Warn and Ignore modes they are dropped from the
    parsed patch. The patch comes back ``None`` when it was not parsed here (no
    schema, malformed, not a patch type this checks): the patch handler parses the
    body itself and answers for it.
    """
    ctype = content_type.split(";", 1)[0].strip().lower()
    group, version, kind_name = target(kind, subresource)
    schema = schema_for(group, version, kind_name)
    if schema is None or not body or ctype not in _PATCH_TYPES:
        return None, []  # the patch handler answers for these
    try:
        patch = json.loads(body)
    except ValueError:
        return None, []  # the patch handler answers for malformed JSON
    strategic = ctype == "application/strategic-merge-patch+json"
    drop = mode != "Strict"
    try:
        if ctype == "application/json-patch+json":
            unknown = _check_json_patch(schema, patch, drop) if isinstance(patch, list) else []
        elif isinstance(patch, dict):
            unknown = schema.check(patch, drop=drop, directives=strategic)
        else:
            return patch, []
    except DecodeError as exc:
        raise _invalid_patch(body, patch, strategic, str(exc)) from None
    if not unknown:
        return patch, []
    if mode == "Strict":
        raise _invalid_patch(body, patch, strategic, _strict(unknown))
    return patch, _warnings(unknown, mode)


def check_apply(
    kind: ResourceKind, subresource: str | None, body: bytes, name: str, namespace: str
) -> Any:
    """Server-side apply: unknown fields and wrong types are 400, whatever the directive.

    Returns the parsed configuration for the apply handler (YAML is dear to parse
    twice), or ``None`` when the body is empty or malformed: the handler answers
    for those.
    """
    import yaml

    try:
        applied = yaml.safe_load(body) if body else None
    except yaml.YAMLError:
        return None
    group, version, kind_name = target(kind, subresource)
    schema = schema_for(group, version, kind_name)
    if schema is None or not isinstance(applied, dict):
        return applied
    gvk = f"{group}/{version}, Kind={kind_name}"
    prefix = f"failed to create typed patch object ({namespace}/{name}; {gvk})"
    try:
        unknown = schema.check(applied, drop=False, apply=True)
    except DecodeError as exc:
        raise errors.bad_request(f"{prefix}: {exc}") from None
    if unknown:
        problems = [f"{apply_path_text(p)}: field not declared in schema" for p in unknown]
        detail = problems[0] if len(problems) == 1 else "errors:\n  " + "\n  ".join(problems)
        raise errors.bad_request(f"{prefix}: {detail}")
    return applied


def warning_header(warnings: list[str]) -> str:
    """One ``Warning`` header value for all warnings (comma-separated, as RFC 7234 allows)."""
    return ", ".join(f"299 - {json.dumps(text)}" for text in warnings)


def _strict(unknown: list[Path]) -> str:
    return "strict decoding error: " + ", ".join(
        f"unknown field {json.dumps(path_text(p))}" for p in unknown
    )


def _warnings(unknown: list[Path], mode: str) -> list[str]:
    if mode != "Warn":
        return []
    return [f"unknown field {json.dumps(path_text(p))}" for p in unknown]


def _invalid_patch(body: bytes, patch: Any, strategic: bool, message: str) -> ApiError:
    """422 on field ``patch``, the value printed as kube prints it (Go map or JSON text)."""
    shown = go_format(patch) if strategic else body.decode(errors="replace")
    error = errors.invalid_group_kind("", "", "", [FieldError.invalid("patch", shown, message)])
    assert error.details is not None
    error.details.pop("kind", None)  # Go omits the empty kind
    return error


def _check_json_patch(schema: Struct, ops: list[Any], drop: bool) -> list[Path]:
    """Unknown fields and wrong types in the values of ``add``/``replace`` operations.

    With ``drop``, an operation that adds an unknown field is removed from ``ops``.
    """
    unknown: list[Path] = []
    kept: list[Any] = []
    for op in ops:
        if (
            isinstance(op, dict)
            and op.get("op") in ("add", "replace")
            and "value" in op
            and isinstance(op.get("path"), str)
            and op["path"].startswith("/")
        ):
            found, is_target = schema.check_at(op["path"], op["value"], drop=drop)
            unknown += found
            if is_target and drop:
                continue
        kept.append(op)
    ops[:] = kept
    return unknown
