"""The cluster's pod IP allocator: in order, one /24 at a time, and a clear end."""

from __future__ import annotations

import pytest

from fakes.kube.controllers.pod_ips import CAPACITY, PodIPs, pod_ips
from fakes.kube.store import ObjectStore


def test_pod_ips_count_up_through_the_range_and_stop_at_its_end() -> None:
    ips = PodIPs()
    assert [ips.allocate() for _ in range(3)] == ["10.245.0.2", "10.245.0.3", "10.245.0.4"]
    ips.next = 250
    assert ips.allocate() == "10.245.1.2"
    ips.next = 256 * 250
    assert ips.allocate() == "10.246.0.2"
    ips.next = CAPACITY - 1
    assert ips.allocate() == "10.255.255.251"
    with pytest.raises(ValueError, match="all 704,000 pod IPs"):
        ips.allocate()


def test_one_allocator_per_cluster_store() -> None:
    a, b = ObjectStore(()), ObjectStore(())
    assert pod_ips(a) is pod_ips(a)
    assert pod_ips(a) is not pod_ips(b)
    first = pod_ips(a).allocate()
    assert pod_ips(a).allocate() != first
    assert pod_ips(b).allocate() == first
