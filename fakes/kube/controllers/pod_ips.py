"""Pod IPs: one allocator per cluster, so that no two pods get the same address.

The settled-cluster builder (``bulk.py``) writes Deployments' pods in batches, each
batch with its own code path but all of one cluster; an address handed out once is
never handed out again, whichever Deployment, batch or :class:`bulk.Placer` asks.
The allocator belongs to the cluster's object store (:func:`pod_ips`), so it lives
exactly as long as the cluster and is found from anything that holds the store.

Addresses come in order, 250 to a /24 (``.2``-``.251``, as the kubelet numbers them),
from 10.245.0.0 upwards through 10.255.255.0/24: 704,000 pods. The kubelet's own
counter numbers the pods it starts inside 10.244.0.0/16, below this range, so pods
the controllers start later never meet a settled pod's address; a kubelet that draws
from :func:`pod_ips` as well keeps every pod of the cluster in one sequence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from fakes.kube.store import ObjectStore

_FIRST_OCTET2 = 245
_PER_BLOCK = 250
CAPACITY = (256 - _FIRST_OCTET2) * 256 * _PER_BLOCK
"""How many addresses one cluster's allocator can hand out."""


class PodIPs:
    """Hands out pod IPs in order (deterministic); see module docstring."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next = 0

    def allocate(self) -> str:
        n = self.next
        if n >= CAPACITY:
            raise ValueError(
                f"the cluster has handed out all {CAPACITY:,} pod IPs of 10.245.0.0-10.255.255.0; "
                "build fewer pods in one cluster"
            )
        self.next = n + 1
        block, host = divmod(n, _PER_BLOCK)
        return f"10.{_FIRST_OCTET2 + (block >> 8)}.{block & 255}.{host + 2}"


_BY_STORE: WeakKeyDictionary[ObjectStore, PodIPs] = WeakKeyDictionary()


def pod_ips(store: ObjectStore) -> PodIPs:
    """The allocator of the cluster whose objects ``store`` holds (made on first use)."""
    ips = _BY_STORE.get(store)
    if ips is None:
        ips = _BY_STORE[store] = PodIPs()
    return ips
