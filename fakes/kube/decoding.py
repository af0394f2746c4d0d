"""Schema-driven decoding of request bodies: unknown fields and wrong JSON types.

kube-apiserver decodes every body it is sent into the Go struct of its kind. The
decoder rejects a value of the wrong JSON type (``containerPort: "eighty"``, a
ConfigMap value that is a number, a bad quantity) and reports the fields the struct
does not have, which the ``fieldValidation`` directive then turns into an error, a
warning or nothing (``fakes.kube.fieldvalidation``). Without this the simulated
server stored whatever JSON it was given.

The schema is not written here: the official client's model classes carry it
(``V1Container.openapi_types`` and ``attribute_map``). What the client cannot say is
filled in from kube's Go types: which ``int`` fields are ``int64`` (the rest are
``int32``) and which ``str``/``Dict[str, str]`` fields are ``resource.Quantity``
(they also accept JSON numbers). ``object`` fields (IntOrString, raw JSON) accept
anything. Schemas are built lazily per model class and cached.

:func:`schema_for` gives the root :class:`Struct` of a kind; :meth:`Struct.check`
walks a body, returns the unknown fields (dropping them when asked) and raises
:class:`DecodeError` on the first type mismatch, worded like Go's ``encoding/json``
(type errors win over unknown fields, as in kube's decoder).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache, lru_cache
from typing import Any

from engine.quantity import QuantityError, parse_quantity
from fakes.kube.fieldsets import item_key, path_string
from fakes.kube.patch import list_keys

JsonObj = dict[str, Any]
# A path as the walker tracks it: FieldsV1-like elements, "f:<field>", "i:<index>",
# "k:{...}" (an apply list item named by its keys) or "m:<map key>".
Path = tuple[str, ...]

# Go int64 fields by JSON name (every other integer in the served kinds is int32).
_INT64 = frozenset(
    {
        "generation",
        "observedGeneration",
        "deletionGracePeriodSeconds",
        "activeDeadlineSeconds",
        "terminationGracePeriodSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "supplementalGroups",
        "expirationSeconds",
        "gracePeriodSeconds",
        "tolerationSeconds",
        "startingDeadlineSeconds",
    }
)
# (model class, python attribute) whose Go type is resource.Quantity (or a map of them).
_QUANTITIES = frozenset(
    {
        ("V1ResourceRequirements", "limits"),
        ("V1ResourceRequirements", "requests"),
        ("V1VolumeResourceRequirements", "limits"),
        ("V1VolumeResourceRequirements", "requests"),
        ("V1NodeStatus", "capacity"),
        ("V1NodeStatus", "allocatable"),
        ("V1ResourceQuotaSpec", "hard"),
        ("V1ResourceQuotaStatus", "hard"),
        ("V1ResourceQuotaStatus", "used"),
        ("V1LimitRangeItem", "default"),
        ("V1LimitRangeItem", "default_request"),
        ("V1LimitRangeItem", "max"),
        ("V1LimitRangeItem", "min"),
        ("V1LimitRangeItem", "max_limit_request_ratio"),
        ("V1PodSpec", "overhead"),
        ("V1PodStatus", "allocated_resources"),
        ("V1ContainerStatus", "allocated_resources"),
        ("V1EmptyDirVolumeSource", "size_limit"),
        ("V1ResourceFieldRef", "divisor"),
        ("V2MetricTarget", "average_value"),
        ("V2MetricTarget", "value"),
    }
)
_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_MODEL_NAME = re.compile(r"^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$")
_SCALARS = {
    "str": "string",
    "bool": "bool",
    "float": "float64",
    "datetime": "v1.Time",
    "bytes": "[]uint8",
    "bytearray": "[]uint8",
    "object": "",
}


class DecodeError(ValueError):
    """A body kube's decoder refuses; ``str()`` is the decoder's message."""


class Node:
    """One schema node: ``tag`` says what JSON it takes, ``go_type`` how Go names it."""

    __slots__ = ("go_type", "tag")

    def __init__(self, tag: str, go_type: str) -> None:
        self.tag = tag
        self.go_type = go_type


class Container(Node):
    """A list (``tag == "list"``) or a string-keyed map (``"map"``) of ``item``."""

    __slots__ = ("item",)

    def __init__(self, tag: str, item: Node) -> None:
        super().__init__(tag, ("[]" if tag == "list" else "map[string]") + item.go_type)
        self.item = item


class Struct(Node):
    """A Go struct, from a client model class; its fields are resolved on first use."""

    __slots__ = ("_fields", "model", "name")

    def __init__(self, model: type) -> None:
        match = _MODEL_NAME.match(model.__name__)
        version, name = (match.group(2), match.group(3)) if match else ("v1", model.__name__)
        super().__init__("struct", f"{version.lower()}.{name}")
        self.model = model
        self.name = name
        self._fields: dict[str, Node] | None = None

    @property
    def fields(self) -> dict[str, Node]:
        """JSON field name -> node."""
        if self._fields is None:
            types: dict[str, str] = getattr(self.model, "openapi_types", {})
            names: dict[str, str] = getattr(self.model, "attribute_map", {})
            cls = self.model.__name__
            self._fields = {
                names.get(attr, attr): _node(
                    spec, names.get(attr, attr), (cls, attr) in _QUANTITIES
                )
                for attr, spec in types.items()
            }
        return self._fields

    def check(
        self, obj: JsonObj, *, drop: bool, directives: bool = False, apply: bool = False
    ) -> list[Path]:
        """The unknown fields of ``obj``; raises :class:`DecodeError` on a wrong type.

        ``drop`` removes the unknown fields from ``obj`` (fieldValidation Warn/Ignore).
        ``directives`` skips strategic-merge-patch keys (``$patch``,
        ``$setElementOrder/...``). ``apply`` names list items by their keys, as
        server-side apply's paths do.
        """
        walker = _Walker(drop, directives, apply)
        walker.struct(self, obj, (), ())
        return walker.unknown

    def check_at(self, pointer: str, value: Any, *, drop: bool) -> tuple[list[Path], bool]:
        """Check ``value`` written at a JSON-patch ``pointer``: (unknown fields, whether
        the pointer itself names an unknown field). Pointers that go nowhere known
        (through ``object`` fields, or missing fields) are left to the patch handler.
        """
        node: Node = self
        owner = self.name
        path: Path = ()
        gopath: Path = ()
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        for index, part in enumerate(parts):
            if isinstance(node, Struct):
                field = node.fields.get(part)
                if field is None:
                    if index == len(parts) - 1:
                        return [(*path, "f:" + part)], True
                    return [], False
                owner = node.name
                node, path, gopath = field, (*path, "f:" + part), (*gopath, part)
            elif isinstance(node, Container):
                path = (*path, f"i:{part}" if node.tag == "list" else f"m:{part}")
                node = node.item
            else:
                return [], False
        walker = _Walker(drop, False, False)
        if value is not None:
            walker.value(node, value, path, owner, gopath)
        return walker.unknown, False


def _node(spec: str, json_name: str, quantity: bool) -> Node:
    if spec.startswith("List["):
        return Container("list", _node(spec[5:-1], json_name, quantity))
    if spec.startswith("Dict[str, "):
        return Container("map", _node(spec[10:-1], json_name, quantity))
    if quantity:
        return Node("quantity", "resource.Quantity")
    if spec == "int":
        size = "int64" if json_name in _INT64 else "int32"
        return Node(size, size)
    if spec in _SCALARS:
        return Node(spec, _SCALARS[spec])
    from kubernetes.client import models

    model = getattr(models, spec, None)
    return _struct(model) if model is not None else Node("object", "")


@cache
def _struct(model: type) -> Struct:
    return Struct(model)


@cache
def schema_for(group: str, version: str, kind: str) -> Struct | None:
    """The client model of ``group/version, Kind`` (``V1Pod``, ``CoreV1Event``, ...)."""
    from kubernetes.client import models

    version_cap = version[:1].upper() + version[1:]
    prefix = (group.split(".")[0] if group else "core").capitalize()
    for name in (f"{version_cap}{kind}", f"{prefix}{version_cap}{kind}"):
        model = getattr(models, name, None)
        if model is not None and hasattr(model, "openapi_types"):
            return _struct(model)
    return None


def path_text(path: Path) -> str:
    """A path as kube's strict decoder prints it: ``spec.containers[0].imagePullPolicyy``."""
    return path_string(path).lstrip(".")


def apply_path_text(path: Path) -> str:
    """A path as server-side apply prints it: ``.spec.containers[name="app"].image``."""
    return path_string(path)


class _Walker:
    __slots__ = ("apply", "directives", "drop", "unknown")

    def __init__(self, drop: bool, directives: bool, apply: bool) -> None:
        self.drop = drop
        self.directives = directives
        self.apply = apply
        self.unknown: list[Path] = []

    def struct(self, node: Struct, obj: JsonObj, path: Path, gopath: Path) -> None:
        fields = node.fields
        dropped: list[str] = []
        for key, value in obj.items():
            field = fields.get(key)
            if field is None:
                if self.directives and key[:1] == "$":
                    continue
                self.unknown.append((*path, "f:" + key))
                dropped.append(key)
                continue
            # The common scalars inline: paths are only built for what needs them.
            tag = field.tag
            if (
                value is None
                or tag == "object"
                or (tag == "str" and type(value) is str)
                or (tag == "bool" and type(value) is bool)
            ):
                continue
            self.value(field, value, (*path, "f:" + key), node.name, (*gopath, key))
        if self.drop:
            for key in dropped:
                del obj[key]

    def value(self, node: Node, value: Any, path: Path, owner: str, gopath: Path) -> None:
        """Check ``value`` against ``node``; ``owner.gopath`` names the Go struct field."""
        tag = node.tag
        if tag == "str":
            ok = type(value) is str
        elif tag == "int32" or tag == "int64":
            low, high = _INT_RANGE[tag]
            ok = type(value) is int and low <= value <= high
        elif tag == "bool":
            ok = type(value) is bool
        elif tag == "object":
            ok = True
        elif tag == "struct":
            ok = type(value) is dict
            if ok:
                assert isinstance(node, Struct)
                self.struct(node, value, path, gopath)
        elif tag == "list":
            ok = type(value) is list
            if ok:
                assert isinstance(node, Container)
                self.items(node, value, path, owner, gopath)
        elif tag == "map":
            ok = type(value) is dict
            if ok:
                assert isinstance(node, Container)
                item_node = node.item
                plain = item_node.tag == "str"
                skip = self.directives
                for key, item in value.items():
                    if skip and key[:1] == "$":
                        continue  # a directive ($patch, $retainKeys, ...), not an entry
                    if item is not None and not (plain and type(item) is str):
                        self.value(item_node, item, (*path, "m:" + key), owner, gopath)
        elif tag == "float":
            ok = type(value) is int or type(value) is float
        else:
            _special(tag, value)
            ok = True
        if not ok:
            raise DecodeError(_type_message(node, value, owner, gopath))

    def items(
        self, node: Container, value: list[Any], path: Path, owner: str, gopath: Path
    ) -> None:
        keys: tuple[str, ...] = ()
        if self.apply and node.item.tag == "struct":
            field = path[-1][2:] if path else ""
            names = tuple(p[2:] for p in path[:-1] if p[:2] == "f:")
            keys = list_keys(field, names, apply=True)
        for index, item in enumerate(value):
            if item is None:
                continue
            if keys and isinstance(item, dict) and all(k in item for k in keys):
                here = (*path, item_key(keys, item))
            else:
                here = (*path, f"i:{index}")
            self.value(node.item, item, here, owner, gopath)


def _special(tag: str, value: Any) -> None:
    """Quantities, timestamps and base64 bytes: checked by their Go unmarshallers."""
    if tag == "quantity":
        if type(value) is int or type(value) is float:
            return
        problem = _quantity_problem(value) if type(value) is str else _quantity_problem("!")
        if problem:
            raise DecodeError(problem)
    elif tag == "datetime":
        if type(value) is not str:
            raise DecodeError(
                f"json: cannot unmarshal {_json_kind(value)} into Go value of type string"
            )
        if not _RFC3339.match(value):
            raise DecodeError(
                f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": '
                f'cannot parse "{value}" as "2006"'
            )
    elif tag in ("bytes", "bytearray") and type(value) is str:
        bad = _base64_error(value)
        if bad is not None:
            raise DecodeError(f"illegal base64 data at input byte {bad}")
    elif tag in ("bytes", "bytearray"):
        raise DecodeError(
            f"json: cannot unmarshal {_json_kind(value)} into Go value of type []uint8"
        )


@lru_cache(maxsize=1024)
def _quantity_problem(text: str) -> str:
    """Why ``text`` is not a quantity ("" when it is); the same few values recur."""
    try:
        parse_quantity(text)
    except QuantityError as exc:
        return str(exc)
    return ""


def _base64_error(text: str) -> int | None:
    """Where Go's StdEncoding gives up on ``text``, or None when it decodes."""
    clean = text.replace("\r", "").replace("\n", "")
    for index, char in enumerate(clean):
        if char not in _B64 and char != "=":
            return index
    try:
        base64.b64decode(clean, validate=True)
    except binascii.Error:
        return max(len(clean) - len(clean) % 4, 0)
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_message(node: Node, value: Any, owner: str, gopath: Path) -> str:
    kind = _json_kind(value)
    if kind == "number" and node.tag in ("int32", "int64"):
        kind = f"number {value}"
    return (
        f"json: cannot unmarshal {kind} into Go struct field {owner}.{'.'.join(gopath)} "
        f"of type {node.go_type}"
    )
