"""JSON helpers shared by the API modules: decode stored bytes, deep-copy a body.

Stored objects are compact JSON bytes (``fakes.kube.errors.dumps`` writes them); the
API decodes only what it must change. A round trip through JSON is also the copy used
for request bodies, so the API never mutates or retains a caller's dict.
"""

from __future__ import annotations

import json
from typing import Any

JsonObj = dict[str, Any]


def copy_json(obj: Any) -> Any:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars)."""
    return json.loads(json.dumps(obj))


def load_json(raw: bytes) -> JsonObj:
    """Decode one stored or encoded object."""
    out: JsonObj = json.loads(raw)
    return out
