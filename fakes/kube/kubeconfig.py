"""Kubeconfig files that point kubectl and the official client at the simulated cluster.

The server is plain HTTP on 127.0.0.1 with no authentication, so the file needs no
certificates; a dummy bearer token is included because some tools refuse a user
entry without credentials. The context's default namespace is ``default``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONTEXT = "windtunnel"
TOKEN = "windtunnel"  # not a secret: the simulated server ignores it


def kubeconfig(server_url: str, name: str = CONTEXT, namespace: str = "default") -> dict[str, Any]:
    """The kubeconfig document for ``server_url`` as a dict."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server_url}}],
        "users": [{"name": name, "user": {"token": TOKEN}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        ],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: str | Path, server_url: str, name: str = CONTEXT) -> Path:
    """Write a kubeconfig for ``server_url`` to ``path`` (parents created, mode 0600)."""
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(kubeconfig(server_url, name), sort_keys=False))
    out.chmod(0o600)
    return out
