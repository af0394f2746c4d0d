"""What the store holds and announces: a stored object, and one change to it.

:class:`Stored` keeps an object as its compact JSON bytes plus the few fields reads
need without decoding (namespace, name, uid, labels, field-selector values, owner
uids). :class:`Change` is one write as watchers, history and subscribers see it.
Both are plain records; ``fakes.kube.store`` makes and keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakes.kube.kinds import ResourceKind

JsonObj = dict[str, Any]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


class Stored:
    """One stored object: its encoded bytes and the fields reads need without decoding."""

    __slots__ = ("fields", "kind", "labels", "name", "namespace", "owners", "raw", "rv", "uid")

    def __init__(
        self,
        kind: ResourceKind,
        namespace: str,
        name: str,
        uid: str,
        rv: int,
        raw: bytes,
        labels: dict[str, str],
        fields: tuple[str, ...],
        owners: tuple[str, ...],
    ) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.rv = rv
        self.raw = raw
        self.labels = labels
        self.fields = fields
        self.owners = owners

    def field_values(self) -> dict[str, str]:
        """Every field-selector value of this object, by field label."""
        out = {"metadata.name": self.name, "metadata.namespace": self.namespace}
        out.update(zip(self.kind.extra_fields, self.fields, strict=True))
        return out

    def decode(self) -> JsonObj:
        import json

        obj: JsonObj = json.loads(self.raw)
        return obj

    def __repr__(self) -> str:
        return f"<Stored {self.kind.plural} {self.namespace}/{self.name} rv={self.rv}>"


class Change:
    """One write as watchers see it: the event type and the object after the write.

    ``prev_labels``/``prev_fields`` describe the object before a MODIFIED write, so a
    filtered watch can turn "now matches" into ADDED and "no longer matches" into
    DELETED, as the real watch cache does. ``prev_raw`` is the object as it was before
    a MODIFIED or DELETED write (the bytes already held, not a copy), so a paged list
    can roll the history back to the revision its first page was served at.
    """

    __slots__ = (
        "fields",
        "kind",
        "labels",
        "name",
        "namespace",
        "prev_fields",
        "prev_labels",
        "prev_raw",
        "raw",
        "rv",
        "type",
    )

    def __init__(
        self,
        type: str,
        kind: ResourceKind,
        rv: int,
        raw: bytes,
        namespace: str,
        name: str,
        labels: dict[str, str],
        fields: tuple[str, ...],
        prev_labels: dict[str, str] | None = None,
        prev_fields: tuple[str, ...] | None = None,
        prev_raw: bytes | None = None,
    ) -> None:
        self.type = type
        self.kind = kind
        self.rv = rv
        self.raw = raw
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.fields = fields
        self.prev_labels = prev_labels
        self.prev_fields = prev_fields
        self.prev_raw = prev_raw

    def field_values(self, previous: bool = False) -> dict[str, str]:
        fields = self.prev_fields if previous and self.prev_fields is not None else self.fields
        out = {"metadata.name": self.name, "metadata.namespace": self.namespace}
        out.update(zip(self.kind.extra_fields, fields, strict=True))
        return out

    def line(self, type: str | None = None) -> bytes:
        """The watch-stream line for this change (newline-terminated JSON)."""
        return b'{"type":"' + (type or self.type).encode() + b'","object":' + self.raw + b"}\n"


Listener = Callable[[Change], None]
