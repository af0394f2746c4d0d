"""JSON in Go's words: malformed bodies as ``encoding/json`` describes them, and values
as ``fmt`` prints a decoded one (``go_format``), for kube's messages.

kube-apiserver answers a body it cannot parse with 400 ``couldn't get version/kind;
json parse error: <Go's message>``, e.g. ``invalid character '}' looking for
beginning of object key string``. Python's decoder words the same faults differently
(``Expecting property name enclosed in double quotes: line 1 column 10 (char 9)``), and
a user comparing the harness's answer with a real cluster's should see one text.
:func:`go_message` translates the decoder's message, using the offending character
and, where Go's text depends on it, whether the parser was inside an object or a list.
"""

from __future__ import annotations

import json
from typing import Any


def go_message(error: json.JSONDecodeError) -> str:
    """Go's ``encoding/json`` message for the fault ``error`` describes."""
    doc, pos, msg = error.doc, error.pos, error.msg
    if pos >= len(doc.rstrip()) or msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    char = _quoted(doc[pos])
    if msg.startswith("Expecting property name"):
        return f"invalid character {char} looking for beginning of object key string"
    if msg.startswith("Expecting ':'"):
        return f"invalid character {char} after object key"
    if msg.startswith("Expecting ','"):
        where = "object key:value pair" if _innermost(doc, pos) == "{" else "array element"
        return f"invalid character {char} after {where}"
    if msg.startswith("Extra data"):
        return f"invalid character {char} after top-level value"
    if msg.startswith("Invalid control character"):
        return f"invalid character {char} in string literal"
    return f"invalid character {char} looking for beginning of value"


def _quoted(char: str) -> str:
    """A character as Go's ``quoteChar`` prints it."""
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    if char.isprintable():
        return f"'{char}'"
    return repr(char)


def _innermost(doc: str, pos: int) -> str:
    """The innermost ``{`` or ``[`` still open at ``pos`` (outside strings), or ``""``."""
    stack: list[str] = []
    in_string = escaped = False
    for char in doc[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def go_format(value: Any) -> str:
    """``value`` as Go's ``%+v`` prints a decoded JSON value (``map[a:1 b:[x y]]``)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
