"""Continue tokens: where the next page of a paged list starts, and at which revision.

A token is what kube-apiserver's etcd3 storage encodes: base64 (URL-safe, unpadded)
of ``{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<ns>/<name>\\u0000"}``. The
key is the last item served; the next page starts after it. Clients treat the token
as opaque, but it decodes the same way as a real server's.
"""

from __future__ import annotations

import base64
import json

from fakes.kube import errors


def encode_continue(rv: int, after: tuple[str, str]) -> str:
    """The token for a list at revision ``rv`` whose last served key was ``after``."""
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{after[0]}/{after[1]}\u0000"})
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    """``(rv, (namespace, name))`` of a token; 400 BadRequest when it is not one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        ns, _, name = data["start"].rstrip("\u0000").partition("/")
        return int(data["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request(f"invalid continue token: {exc}") from exc
