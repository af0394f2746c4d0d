"""Label and field selectors: parsing the query-string forms and matching stored objects.

Label selectors support the full Kubernetes grammar -- equality (``a=b``, ``a==b``,
``a!=b``), sets (``a in (x,y)``, ``a notin (x)``), existence (``a``, ``!a``) and the
numeric ``a>1`` / ``a<1`` -- and the structured ``LabelSelector`` form used in specs
(``matchLabels`` / ``matchExpressions``). Field selectors support ``=``, ``==`` and
``!=`` with the real escaping rules, over the fields a kind declares in the kind table.

Both expose :meth:`index_keys` so the store can pick the cheapest index for a read
instead of scanning (see ``fakes.kube.store``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fakes.kube.errors import bad_request

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_key_error(key: str) -> str | None:
    """Why ``key`` is not a valid label key, or ``None`` when it is."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return (
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return None


def label_value_error(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or ``None`` when it is."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return (
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )
    return None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label requirement; ``op`` is one of = != in notin exists !exists gt lt."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, str]) -> bool:
        op = self.op
        value = labels.get(self.key)
        if op == "=" or op == "in":
            return value is not None and value in self.values
        if op == "!=" or op == "notin":
            return value is None or value not in self.values
        if op == "exists":
            return value is not None
        if op == "!exists":
            return value is None
        if value is None:
            return False
        try:
            number = int(value)
        except ValueError:
            return False
        bound = int(next(iter(self.values)))
        return number > bound if op == "gt" else number < bound

    def __str__(self) -> str:
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{next(iter(self.values))}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        return f"{self.key}{'>' if self.op == 'gt' else '<'}{next(iter(self.values))}"


class LabelSelector:
    """A conjunction of label requirements; the empty selector matches everything."""

    __slots__ = ("requirements",)

    def __init__(self, requirements: tuple[Requirement, ...] = ()) -> None:
        self.requirements = requirements

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: dict[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def equalities(self) -> list[tuple[str, str]]:
        """``(key, value)`` pairs every match must carry: candidates for an index read."""
        out = []
        for r in self.requirements:
            if r.op == "=" or (r.op == "in" and len(r.values) == 1):
                out.append((r.key, next(iter(r.values))))
        return out

    def __str__(self) -> str:
        return ",".join(str(r) for r in sorted(self.requirements, key=lambda r: r.key))

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        """Parse the query-string form; a malformed selector is a 400 like the real server's."""
        if not text or not text.strip():
            return _EVERYTHING
        return cls(tuple(_parse_requirement(part.strip()) for part in _split_top_level(text)))

    @classmethod
    def from_spec(cls, spec: dict[str, Any] | None) -> LabelSelector:
        """The structured ``LabelSelector`` of a spec (``matchLabels``/``matchExpressions``)."""
        if not spec:
            return _EVERYTHING
        reqs: list[Requirement] = []
        for key, value in (spec.get("matchLabels") or {}).items():
            reqs.append(Requirement(key, "=", frozenset([str(value)])))
        ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
        for expr in spec.get("matchExpressions") or []:
            op = ops.get(expr.get("operator", ""))
            if op is None:
                raise bad_request(
                    f"{expr.get('operator')!r} is not a valid label selector operator"
                )
            reqs.append(Requirement(expr["key"], op, frozenset(expr.get("values") or ())))
        return cls(tuple(reqs))


_EVERYTHING = LabelSelector()


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_SET_RE = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_CMP_RE = re.compile(r"^([^=!<>\s]+)\s*(==|!=|=|>|<)\s*(.*)$")


def _parse_requirement(part: str) -> Requirement:
    if not part:
        raise bad_request("unable to parse requirement: found '', expected: identifier")
    m = _SET_RE.match(part)
    if m:
        key, op, values = m.group(1), m.group(2), m.group(3)
        vals = frozenset(v.strip() for v in values.split(",") if v.strip())
        _check(key, vals)
        return Requirement(key, op, vals)
    if part.startswith("!"):
        key = part[1:].strip()
        _check(key, frozenset())
        return Requirement(key, "!exists")
    m = _CMP_RE.match(part)
    if m:
        key, op, value = m.group(1), m.group(2), m.group(3).strip()
        if op in (">", "<"):
            if not value.lstrip("-").isdigit():
                raise bad_request(
                    "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                    f"an integer, got {value!r}"
                )
            _check(key, frozenset())
            return Requirement(key, "gt" if op == ">" else "lt", frozenset([value]))
        _check(key, frozenset([value]))
        return Requirement(key, "!=" if op == "!=" else "=", frozenset([value]))
    if " " in part or "(" in part:
        raise bad_request(
            f"unable to parse requirement: couldn't parse the selector string {part!r}"
        )
    _check(part, frozenset())
    return Requirement(part, "exists")


def _check(key: str, values: frozenset[str]) -> None:
    why = label_key_error(key)
    if why:
        raise bad_request(f'unable to parse requirement: key: Invalid value: "{key}": {why}')
    for v in values:
        why = label_value_error(v)
        if why:
            raise bad_request(
                f'unable to parse requirement: values[0][{key}]: Invalid value: "{v}": {why}'
            )


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    equal: bool
    value: str


class FieldSelector:
    """A conjunction of ``field=value`` / ``field!=value`` terms over declared field labels."""

    __slots__ = ("requirements",)

    def __init__(self, requirements: tuple[FieldRequirement, ...] = ()) -> None:
        self.requirements = requirements

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, values: dict[str, str]) -> bool:
        return all((values.get(r.field, "") == r.value) is r.equal for r in self.requirements)

    def equalities(self) -> list[tuple[str, str]]:
        return [(r.field, r.value) for r in self.requirements if r.equal]

    @classmethod
    def parse(cls, text: str | None, allowed: tuple[str, ...]) -> FieldSelector:
        """Parse a field selector; unknown field labels are a 400 like the real server's."""
        if not text or not text.strip():
            return _ALL_FIELDS
        reqs = []
        for term in _split_unescaped(text, ","):
            if not term:
                continue
            field, op, value = _split_field_term(term)
            if field not in allowed:
                raise bad_request(f"field label not supported: {field}")
            reqs.append(FieldRequirement(field, op != "!=", _unescape(value)))
        return cls(tuple(reqs))


_ALL_FIELDS = FieldSelector()


def _split_unescaped(text: str, sep: str) -> list[str]:
    out, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _split_field_term(term: str) -> tuple[str, str, str]:
    i = 0
    while i < len(term):
        ch = term[i]
        if ch == "\\":
            i += 2
            continue
        if term.startswith("!=", i):
            return term[:i].strip(), "!=", term[i + 2 :]
        if term.startswith("==", i):
            return term[:i].strip(), "==", term[i + 2 :]
        if ch == "=":
            return term[:i].strip(), "=", term[i + 1 :]
        i += 1
    raise bad_request(f"invalid selector: '{term}'; can't understand '{term}'")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
