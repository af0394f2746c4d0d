"""Image pulls: which images the simulated registries refuse, and the kubelet's back-off.

A kubelet pulls a container's image before it can create the container. Here every
image is pullable unless an :class:`ImageRule` says otherwise -- a glob on the image
reference (``*:broken``, ``registry.example/private/*``) or a regular expression --
set from the scenario profile (``cluster.images``) or at run time::

    sim.images.unpullable("nginx:broken")      # from now on, pulls of it fail
    sim.images.pullable("nginx:broken")        # the next retry pulls it

A pull that fails leaves the container waiting with reason ``ErrImagePull`` (the
runtime's error as message) until the kubelet's next sync, which reports
``ImagePullBackOff`` (``Back-off pulling image "..."``) until the back-off for that
pod and image expires; then it pulls again. The back-off is kube's: 10 s after the
first failure, doubling per failure up to 300 s (``flowcontrol.Backoff`` keyed by pod
UID and image). A rule matches the reference as written in the pod spec and its fully
qualified form (``nginx:broken`` is also ``docker.io/library/nginx:broken``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

REGISTRY = "docker.io"


def qualified(image: str) -> str:
    """The fully qualified reference, as containerd reports it (``docker.io/library/x:tag``)."""
    name = image
    first, _, rest = name.partition("/")
    if not rest:
        name = f"{REGISTRY}/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"{REGISTRY}/{name}"
    last = name.rsplit("/", 1)[-1]
    if "@" not in last and ":" not in last:
        name += ":latest"
    return name


def not_found(image: str) -> str:
    """containerd's error for a reference the registry does not have, as the kubelet shows it."""
    ref = qualified(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )


@dataclass(frozen=True)
class ImageRule:
    """Images matching ``pattern`` (a glob, or a full-match regex if ``regex``) cannot be pulled.

    ``message`` replaces the runtime's error text (default: a containerd "not found").
    """

    pattern: str
    regex: bool = False
    message: str | None = None
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        source = self.pattern if self.regex else fnmatch.translate(self.pattern)
        try:
            compiled = re.compile(source)
        except re.error as exc:
            raise ValueError(
                f"image pattern {self.pattern!r} is not a valid regex: {exc}"
            ) from None
        object.__setattr__(self, "_compiled", compiled)

    def matches(self, image: str) -> bool:
        return any(self._compiled.fullmatch(ref) for ref in (image, qualified(image)))

    def error(self, image: str) -> str:
        return self.message if self.message is not None else not_found(image)


class Images:
    """The registries as the kubelets see them: a list of :class:`ImageRule` (see module doc).

    Reads and writes are plain list operations, so a test thread may change the rules
    while the cluster runs on its own loop (the HTTP mode); a change takes effect at
    the next pull.
    """

    def __init__(self, rules: list[ImageRule]) -> None:
        self.rules = rules

    def unpullable(
        self, pattern: str, *, regex: bool = False, message: str | None = None
    ) -> ImageRule:
        """From now on, pulls of images matching ``pattern`` fail."""
        rule = ImageRule(pattern, regex, message)
        self.rules.append(rule)
        return rule

    def pullable(self, image: str) -> None:
        """``image`` can be pulled again: every rule that refuses it is removed."""
        self.rules[:] = [r for r in self.rules if r.pattern != image and not r.matches(image)]

    def clear(self) -> None:
        self.rules.clear()

    def refusal(self, image: str) -> str | None:
        """The pull error for ``image``, or None when it can be pulled."""
        for rule in list(self.rules):
            if rule.matches(image):
                return rule.error(image)
        return None


@dataclass
class PullBackoff:
    """kube's image pull back-off (``flowcontrol.Backoff``): per key, the current delay."""

    base: float = 10.0
    cap: float = 300.0
    _entries: dict[str, tuple[float, float]] = field(default_factory=dict)

    def failed(self, key: str, now: float) -> float:
        """Record a failed pull at ``now``; the back-off it starts (10 s, 20 s, ... 300 s)."""
        entry = self._entries.get(key)
        # An entry idle for twice the cap has expired and starts again from the base.
        if entry is None or now - entry[1] > 2 * self.cap:
            delay = self.base
        else:
            delay = min(entry[0] * 2, self.cap)
        self._entries[key] = (delay, now)
        return delay

    def retry_at(self, key: str) -> float | None:
        """When the back-off of ``key`` ends (None: no failure recorded)."""
        entry = self._entries.get(key)
        return None if entry is None else entry[1] + entry[0]

    def failed_at(self, key: str) -> float | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def forget(self, prefix: str) -> None:
        """Drop every entry of one pod (keys start with its UID)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
