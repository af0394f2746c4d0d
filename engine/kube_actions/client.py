"""Real-cluster mode: an ``kubernetes.aio`` ApiClient from a kubeconfig.

The actions only need an ApiClient; where it points is the caller's choice. In tests
it is the simulated cluster's in-process client; against a real cluster (or the
simulated one served over HTTP) it is built here from a kubeconfig file, with the
official loader -- so certificates, tokens, exec plugins and contexts behave exactly
as they do for kubectl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import EngineError

CLUSTER_PREFIX = "kubeconfig:"


class KubeconfigError(EngineError):
    """A kubeconfig could not be read or names no usable context."""


async def api_client_from_kubeconfig(path: str | Path, context: str | None = None) -> Any:
    """A ``kubernetes.aio.client.ApiClient`` for ``path`` (and ``context``, else current).

    Close it with ``await client.close()`` (or ``async with``).
    """
    from kubernetes.aio import config

    file = Path(path).expanduser()
    if not file.is_file():
        raise KubeconfigError(f"kubeconfig '{file}' does not exist")
    try:
        return await config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(file), context=context, persist_config=False
        )
    except config.ConfigException as exc:
        raise KubeconfigError(f"kubeconfig '{file}' cannot be used: {exc}") from exc


def kubeconfig_path(cluster: str) -> Path:
    """The file of a ``--cluster kubeconfig:PATH`` value."""
    if not cluster.startswith(CLUSTER_PREFIX) or len(cluster) == len(CLUSTER_PREFIX):
        raise KubeconfigError(
            f"--cluster {cluster!r} is not understood; write kubeconfig:PATH "
            "(for example kubeconfig:~/.kube/config)"
        )
    return Path(cluster[len(CLUSTER_PREFIX) :]).expanduser()
