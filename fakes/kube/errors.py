"""API errors as ``Status`` objects, shaped and encoded like kube-apiserver's.

Every failure in the core is an :class:`ApiError`. The front ends encode it with
:func:`status_bytes`, which writes the fields in the real server's order (kind,
apiVersion, metadata, status, message, reason, details, code) as compact JSON, so a
client that compares bodies, or the official client's ``ApiException.body``, sees
what a real cluster would send.

The constructors below carry the real server's message wording, because users and
the engine match on those strings ("the object has been modified", "exceeded quota").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]


class ApiError(Exception):
    """A request the API server refuses; ``status`` is the body it answers with."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: JsonObj | None = None,
        headers: dict[str, str] | None = None,
        metadata: JsonObj | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    @property
    def status(self) -> JsonObj:
        out: JsonObj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes, the encoding used for everything the server stores or sends."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def status_bytes(error: ApiError) -> bytes:
    return dumps(error.status)


def success_status(code: int = 200, details: JsonObj | None = None) -> JsonObj:
    """The ``Status`` a successful delete/binding/eviction answers with."""
    out: JsonObj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        out["details"] = details
    if code != 200:
        out["code"] = code
    return out


def _details(kind: ResourceKind, name: str) -> JsonObj:
    out: JsonObj = {"name": name}
    if kind.group:
        out["group"] = kind.group
    out["kind"] = kind.plural
    return out


def not_found(kind: ResourceKind, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{kind.group_resource} "{name}" not found', _details(kind, name)
    )


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'namespaces "{namespace}" not found',
        {"name": namespace, "kind": "namespaces"},
    )


def already_exists(kind: ResourceKind, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{kind.group_resource} "{name}" already exists', _details(kind, name)
    )


def conflict(kind: ResourceKind, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {kind.group_resource} "{name}": {why}',
        _details(kind, name),
    )


STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def stale(kind: ResourceKind, name: str) -> ApiError:
    return conflict(kind, name, STALE)


def forbidden(kind: ResourceKind, name: str, why: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{kind.group_resource} "{name}" is forbidden: {why}',
        _details(kind, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def unsupported_media_type(accepted: str, hint: str = "") -> ApiError:
    message = (
        "the body of the request was in an unknown format - accepted media types include: "
        + accepted
    )
    if hint:
        message = f"{message}; {hint}"
    return ApiError(415, "UnsupportedMediaType", message)


def gone(message: str, continue_token: str = "") -> ApiError:
    """410 Expired; ``continue_token`` goes in the Status's list metadata, as kube sends it."""
    return ApiError(
        410, "Expired", message, metadata={"continue": continue_token} if continue_token else None
    )


def resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def too_many_requests(message: str, causes: list[JsonObj] | None = None) -> ApiError:
    details: JsonObj = {"causes": causes} if causes else {}
    return ApiError(429, "TooManyRequests", message, details)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", message, {"causes": [{"message": message}]})


class GoLiteral(str):
    """A field value already rendered as the Go server prints it (``v1.LabelSelector{...}``)."""


class FieldError:
    """One field problem of a 422 Invalid answer, worded like k8s field.Error."""

    __slots__ = ("detail", "field", "type", "value")

    REASONS: ClassVar[dict[str, str]] = {
        "Required value": "FieldValueRequired",
        "Invalid value": "FieldValueInvalid",
        "Unsupported value": "FieldValueNotSupported",
        "Forbidden": "FieldValueForbidden",
        "Duplicate value": "FieldValueDuplicate",
        "Too long": "FieldValueTooLong",
    }

    def __init__(self, field: str, type: str, detail: str, value: Any = None) -> None:
        self.field = field
        self.type = type
        self.detail = detail
        self.value = value

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls(field, "Required value", detail)

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls(field, "Invalid value", detail, value)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> FieldError:
        return cls(field, "Forbidden", detail)

    @classmethod
    def not_supported(cls, field: str, value: Any, allowed: list[str]) -> FieldError:
        quoted = ", ".join(f'"{a}"' for a in allowed)
        return cls(field, "Unsupported value", f"supported values: {quoted}", value)

    def body(self) -> str:
        """The text after the field path: ``Invalid value: "x": must be ...``."""
        if self.type == "Invalid value" or self.type == "Unsupported value":
            if isinstance(self.value, GoLiteral):
                shown = str(self.value)
            elif isinstance(self.value, str):
                shown = json.dumps(self.value)
            else:
                shown = _go_value(self.value)
            text = f"{self.type}: {shown}"
        else:
            text = self.type
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _go_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def invalid(kind: ResourceKind, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid, message and causes in the real server's format."""
    return invalid_group_kind(kind.kind, kind.group, name, errors)


def invalid_group_kind(kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid naming ``kind`` of ``group``, a resource or not (``ListOptions``).

    ``details.name`` is left out when empty, as Go's ``omitempty`` leaves it out.
    """
    qualified = f"{kind}.{group}" if group else kind
    summary = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    details: JsonObj = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {
            "reason": FieldError.REASONS.get(e.type, "FieldValueInvalid"),
            "message": e.body(),
            "field": e.field,
        }
        for e in errors
    ]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)
