"""The kubelet's image pulls: a container starts only once its image is there.

When the kubelet starts a pod's containers (``_start``), each image is pulled; an
image the simulated registries refuse (``fakes.kube.controllers.images``) leaves its
container waiting, and the pod Pending, while the others run -- as kube's SyncPod
starts each container on its own. Then, for a waiting container, in loop time:

* ``ErrImagePull`` (message: the runtime's error) from the failed pull until the next
  sync, ``pull_error_seconds`` later, which reports ``ImagePullBackOff``
  (``Back-off pulling image "nginx:broken"``);
* when the pod's back-off for that image ends (10 s, 20 s, ... 300 s after each
  failure) the kubelet pulls again: the container runs if the image is pullable now,
  else it is ``ErrImagePull`` again with a doubled back-off.

Events are the kubelet's: ``Pulling``, ``Failed`` (``Failed to pull image ...`` and
``Error: ErrImagePull``), ``BackOff`` and ``Failed`` (``Error: ImagePullBackOff``),
and ``Pulled``/``Created``/``Started`` once it runs. These stages are ``steady``: a
pod that cannot pull its image is a state, not pending work, so ``settle`` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes.kube.controllers.conditions import containers_not_ready
from fakes.kube.controllers.containers import (
    ERR_IMAGE_PULL,
    IMAGE_PULL_BACK_OFF,
    PULLING,
    is_running,
    running,
    statuses,
    waiting,
    waiting_reason,
)
from fakes.kube.controllers.events import NORMAL, WARNING
from fakes.kube.controllers.images import PullBackoff

if TYPE_CHECKING:
    from fakes.kube.controllers.kubelet import Kubelet

JsonObj = dict[str, Any]
Events = list[tuple[str, str, str]]
"""(reason, message, type) to record once the status is written."""

_EPSILON = 1e-6


class ImagePuller:
    """Pulls for one kubelet; remembers each pod's back-off per image."""

    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        cfg = kubelet.config
        self.backoff = PullBackoff(cfg.image_backoff_base, cfg.image_backoff_cap)

    def forget(self, uid: str) -> None:
        self.backoff.forget(f"{uid}_")

    @staticmethod
    def _key(pod: JsonObj, image: str) -> str:
        return f"{pod['metadata'].get('uid', '')}_{image}"

    # -- the first start ---------------------------------------------------------

    def create(
        self, pod: JsonObj, index: int, container: JsonObj, now: str, events: Events
    ) -> JsonObj:
        """The status of ``container`` as its pod starts: running, or waiting on its image."""
        image = container.get("image", "")
        refusal = self.kubelet.images.refusal(image)
        if refusal is None:
            self.kubelet.mark_started(pod, container.get("name", ""), self.kubelet.access.now())
            name = container.get("name")
            events.append(
                ("Pulled", f'Container image "{image}" already present on machine', NORMAL)
            )
            events.append(("Created", f"Created container {name}", NORMAL))
            events.append(("Started", f"Started container {name}", NORMAL))
            return running(pod, index, container, now)
        cs = waiting(container, ERR_IMAGE_PULL, refusal)
        self._failed(pod, image, refusal, events)
        return cs

    def _failed(self, pod: JsonObj, image: str, refusal: str, events: Events) -> None:
        self.backoff.failed(self._key(pod, image), self.kubelet.access.now())
        events.append(("Pulling", f'Pulling image "{image}"', NORMAL))
        events.append(("Failed", f'Failed to pull image "{image}": {refusal}', WARNING))
        events.append(("Failed", f"Error: {ERR_IMAGE_PULL}", WARNING))

    # -- the stage ---------------------------------------------------------------

    def pulling(self, pod: JsonObj) -> bool:
        """Some container waits on its image."""
        return any(waiting_reason(cs) in PULLING for cs in statuses(pod))

    def _due(self, pod: JsonObj, cs: JsonObj, now: float) -> float:
        key = self._key(pod, cs.get("image", ""))
        failed, retry = self.backoff.failed_at(key), self.backoff.retry_at(key)
        if failed is None or retry is None:
            return now  # a kubelet that does not remember the failure pulls at once
        if waiting_reason(cs) == ERR_IMAGE_PULL:
            return min(failed + self.kubelet.config.pull_error_seconds, retry)
        return retry

    def delay(self, pod: JsonObj) -> float:
        """Seconds until the next container's ErrImagePull ends or its back-off expires."""
        now = self.kubelet.access.now()
        due = [self._due(pod, cs, now) for cs in statuses(pod) if waiting_reason(cs) in PULLING]
        return max(0.0, min(due, default=now) - now)

    def retry(self, pod: JsonObj) -> None:
        """Report ImagePullBackOff, or pull again, for every container that is due."""
        kubelet = self.kubelet
        now = kubelet.access.now()
        stamp = kubelet.access.timestamp()
        containers = pod.get("spec", {}).get("containers") or ()
        current = statuses(pod)
        events: Events = []
        for i, cs in enumerate(current):
            reason = waiting_reason(cs)
            if reason not in PULLING or self._due(pod, cs, now) > now + _EPSILON:
                continue
            if i >= len(containers):
                continue
            container = containers[i]
            image = container.get("image", "")
            if reason == ERR_IMAGE_PULL:
                message = f'Back-off pulling image "{image}"'
                cs["state"] = {"waiting": {"reason": IMAGE_PULL_BACK_OFF, "message": message}}
                events.append(("BackOff", message, NORMAL))
                events.append(("Failed", f"Error: {IMAGE_PULL_BACK_OFF}", WARNING))
                continue
            refusal = kubelet.images.refusal(image)
            if refusal is not None:
                cs["state"] = {"waiting": {"reason": ERR_IMAGE_PULL, "message": refusal}}
                self._failed(pod, image, refusal, events)
                continue
            name = container.get("name", "")
            current[i] = running(pod, i, container, stamp) | {
                "restartCount": cs.get("restartCount", 0)
            }
            kubelet.mark_started(pod, name, now)
            self.backoff.forget(self._key(pod, image))
            events.append(("Pulling", f'Pulling image "{image}"', NORMAL))
            events.append(
                (
                    "Pulled",
                    f'Successfully pulled image "{image}" in 0s (0s including waiting)',
                    NORMAL,
                )
            )
            events.append(("Created", f"Created container {name}", NORMAL))
            events.append(("Started", f"Started container {name}", NORMAL))
        if all(map(is_running, current)):
            pod["status"]["phase"] = "Running"
        containers_not_ready(pod, stamp)
        kubelet.write_status(pod)
        for reason, message, type in events:
            kubelet.event(pod, reason, message, type)
