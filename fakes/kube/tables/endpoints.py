"""Rows for Endpoints and EndpointSlices: where a Service's traffic goes.

Both print at most three addresses and then ``+ N more...``, as the real server's
``formatEndpoints`` and ``formatDiscoveryEndpoints`` do, so a Service with many pods
keeps a one-line row.
"""

from __future__ import annotations

from typing import Any

from fakes.kube.tables.columns import AGE, NAME, NONE, JsonObj, Printer, age, col

MAX_SHOWN = 3


def _join(shown: list[str], count: int, empty: str) -> str:
    text = ",".join(shown)
    if count > len(shown):
        return f"{text} + {count - len(shown)} more..."
    return text or empty


def format_endpoints(obj: JsonObj) -> str:
    """``ip:port`` for each ready address and port; ``<none>`` without subsets.

    As kube's printer: not-ready addresses are left out, and a subset with addresses
    but only not-ready ones prints an empty cell rather than ``<none>``.
    """
    subsets = obj.get("subsets") or []
    if not subsets:
        return NONE
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or ()]
        ports = subset.get("ports") or []
        targets = (
            addresses
            if not ports
            else [_host_port(ip, p.get("port", 0)) for p in ports for ip in addresses]
        )
        count += len(targets)
        shown.extend(targets[: MAX_SHOWN - len(shown)])
    return _join(shown, count, "")


def _host_port(ip: str, port: Any) -> str:
    # Go's net.JoinHostPort brackets IPv6 addresses.
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _endpoints_row(obj: JsonObj, now: float) -> list[Any]:
    return [obj["metadata"].get("name", ""), format_endpoints(obj), age(obj, now)]


def _slice_row(obj: JsonObj, now: float) -> list[Any]:
    ports = obj.get("ports") or []
    port_text = [
        str(p["port"]) if p.get("port") is not None else (p.get("name") or "*") for p in ports
    ]
    addresses = [a for e in obj.get("endpoints") or () for a in e.get("addresses") or ()]
    return [
        obj["metadata"].get("name", ""),
        obj.get("addressType", ""),
        _join(port_text[:MAX_SHOWN], len(port_text), "<unset>"),
        _join(addresses[:MAX_SHOWN], len(addresses), "<unset>"),
        age(obj, now),
    ]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "endpoints"): ([NAME, col("Endpoints"), AGE], _endpoints_row),
    ("discovery.k8s.io", "endpointslices"): (
        [NAME, col("AddressType"), col("Ports"), col("Endpoints"), AGE],
        _slice_row,
    ),
}
