"""Kubernetes resource quantities ("500m", "1Gi", "1e3") as exact fractions.

Quota admission, LimitRange defaulting (in the simulated API server) and the engine's
resource-aware admission add and compare CPU and memory amounts; doing that in floats
would make "0.1+0.2 > 0.3" style quota decisions wrong, so
quantities are :class:`fractions.Fraction` and are printed back in the canonical
form the real server uses (``1536Mi``, ``2500m``, ``2``).
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_RE = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$"
)


_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Fraction:
    """Parse ``value``; raises :class:`QuantityError` with the real server's wording."""
    if isinstance(value, bool):
        raise QuantityError(_MESSAGE)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    m = _RE.match(value.strip())
    if not m:
        raise QuantityError(_MESSAGE)
    number = Fraction(m.group(1))
    suffix = m.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return number * Fraction(10) ** int(suffix[1:])
    return number * _DECIMAL[suffix]


def is_binary(value: str) -> bool:
    return isinstance(value, str) and value.strip()[-2:] in _BINARY


def format_quantity(amount: Fraction, binary: bool = False) -> str:
    """Canonical text for ``amount``: binary suffixes for memory-like values when asked."""
    if amount == 0:
        return "0"
    if binary and amount.denominator == 1:
        n = int(amount)
        for suffix, size in reversed(_BINARY.items()):
            if n % size == 0:
                return f"{n // size}{suffix}"
        return str(n)
    if amount.denominator == 1:
        n = int(amount)
        for suffix in ("E", "P", "T", "G", "M", "k"):
            size = int(_DECIMAL[suffix])
            if n % size == 0 and abs(n) >= size:
                return f"{n // size}{suffix}"
        return str(n)
    milli = amount * 1000
    if milli.denominator == 1:
        return f"{int(milli)}m"
    micro = amount * 10**6
    if micro.denominator == 1:
        return f"{int(micro)}u"
    nano = amount * 10**9
    return f"{int(nano.__ceil__())}n"
