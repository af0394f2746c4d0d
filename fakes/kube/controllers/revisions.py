"""Pod templates and revisions: how the Deployment controller tells ReplicaSets apart.

kube names a Deployment's ReplicaSet by a hash of its pod template and finds "the
new ReplicaSet" by template equality ignoring that hash (``EqualIgnoreHash``).
Equality here is semantic -- a null value or an empty map or list is the field left
out -- so a template copied back from an old ReplicaSet (``rollout undo``, whose patch
carries ``metadata.creationTimestamp: null``) finds that ReplicaSet again instead of
making a twin. The revision annotations record which template was current when.
"""

from __future__ import annotations

import json
from typing import Any

JsonObj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
# Annotations a Deployment does not pass on to its ReplicaSets (kube's annotationsToSkip).
NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
# kube stops appending to the revision history past this many characters.
_MAX_REVISION_HISTORY_CHARS = 2000


def _semantic(value: Any) -> Any:
    """``value`` without nulls and empty maps or lists, which mean the field left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _semantic(v)
            if v is not None and v != {} and v != []:
                out[k] = v
        return out
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def canonical_template(template: JsonObj) -> JsonObj:
    """The pod template as kube compares it: semantically, without the hash label."""
    t: JsonObj = _semantic(template)
    labels = (t.get("metadata") or {}).get("labels")
    if labels and HASH_LABEL in labels:
        del labels[HASH_LABEL]
        if not labels:
            del t["metadata"]["labels"]
            if not t["metadata"]:
                del t["metadata"]
    return t


def template_hash(template: JsonObj, collision_count: int = 0) -> str:
    """FNV-32a of the canonical template, encoded like rand.SafeEncodeString."""
    data = json.dumps(canonical_template(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(ch) % len(_SAFE)] for ch in str(h))


def find_new_rs(template: JsonObj, all_rs: list[JsonObj]) -> JsonObj | None:
    """The oldest ReplicaSet whose template equals ``template`` ignoring the hash label."""
    wanted = canonical_template(template)
    matches = [
        rs
        for rs in all_rs
        if canonical_template((rs.get("spec") or {}).get("template") or {}) == wanted
    ]
    matches.sort(
        key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"])
    )
    return matches[0] if matches else None


def set_new_rs_annotations(d: JsonObj, rs: JsonObj, revision: int) -> bool:
    """Bring the new ReplicaSet's annotations up to date; whether any changed.

    As kube's SetNewReplicaSetAnnotations: the Deployment's own annotations are copied,
    and a ReplicaSet that had a revision and takes a newer one (a rollback to it)
    appends the old number to its revision history.
    """
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in (d["metadata"].get("annotations") or {}).items():
        if k not in NOT_COPIED and annotations.get(k) != v:
            annotations[k] = v
            changed = True
    old = annotations.get(REVISION)
    if revision_of(rs) >= revision:
        return changed
    annotations[REVISION] = str(revision)
    if old is not None:
        history = annotations.get(REVISION_HISTORY, "")
        kept = history.split(",") if history else []
        total = len(history) + len(old) + 1
        while kept and total > _MAX_REVISION_HISTORY_CHARS:
            total -= len(kept.pop(0)) + 1
        if total <= _MAX_REVISION_HISTORY_CHARS:
            annotations[REVISION_HISTORY] = ",".join([*kept, old])
    return True


def revision_of(rs: JsonObj) -> int:
    """The ``deployment.kubernetes.io/revision`` of ``rs`` (0 when absent or not a number)."""
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0
