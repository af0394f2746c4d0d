"""The simulated Kubernetes cluster: API server core, front ends, controllers and faults.

Start with :class:`Cluster` (``fakes.kube.cluster``). The layers, bottom up:

* ``kinds``     -- the resource-kind table that drives routing and discovery
* ``store``     -- encoded objects, indexes, one resourceVersion, change fan-out
* ``watch``     -- filtered, resumable watch streams (async and sync)
* ``api``       -- kube-apiserver semantics; the Python-level API for controllers
* ``router``    -- Request → Response, for every front end; ``reactors`` hook point
* ``inprocess`` / ``inprocess_aio`` -- the official sync / asyncio clients, no sockets
"""

from __future__ import annotations

from fakes.kube.api import Api
from fakes.kube.cluster import Cluster, connect
from fakes.kube.errors import ApiError
from fakes.kube.faults import OBSERVER_HEADER
from fakes.kube.kinds import KINDS, KindRegistry, ResourceKind
from fakes.kube.messages import Request, Response
from fakes.kube.reactors import Reaction, Reactor
from fakes.kube.router import Router
from fakes.kube.store import Change, ObjectStore, Stored
from fakes.kube.watch import Watcher, WatchEvent

__all__ = [
    "KINDS",
    "OBSERVER_HEADER",
    "Api",
    "ApiError",
    "Change",
    "Cluster",
    "KindRegistry",
    "ObjectStore",
    "Reaction",
    "Reactor",
    "Request",
    "ResourceKind",
    "Response",
    "Router",
    "Stored",
    "WatchEvent",
    "Watcher",
    "connect",
]
