"""The engine's Kubernetes remediation actions, written against ``kubernetes.aio``.

``register_kube_actions(registry, api_client)`` adds them to an action registry with
their parameter models (checked when a template is validated), dry-run paths
(``dryRun=All``; nothing is mutated and no wait happens) and compensations:

=========================  =============================================  ===================
action                     verifies, as read back or watched              undo
=========================  =============================================  ===================
scale_deployment           ``spec.replicas``; rollout complete at it      scale to previous
rollout_restart            restart stamp on the template; (``wait``,      --
                           default) that revision rolled out
wait_for_rollout           rollout complete, all Ready                    --
delete_pod                 replacement Running+Ready                      --
cordon_node/uncordon_node  the node's ``spec.unschedulable``              each other
drain_node                 cordoned; replacements Ready on other nodes    uncordon
patch_resources            the new resources; rollout complete; quota     previous resources
                           refusal fails
rollback_deployment        the old revision's template; rollout complete  roll forward again
apply_manifest             every object holds what was applied; its       --
                           controller observed the applied generation
label / annotate           the object carries the values                  previous values
=========================  =============================================  ===================

No action trusts the API's answer to a write: what it reads back must show the
change within the action's ``timeout``, or it fails with
:class:`EffectNotConfirmedError` naming the object and what was read back instead
(:mod:`.verify`).

API errors become retryable or permanent engine errors (:mod:`.errors`); every output
also carries the target (``namespace``/``name``) so compensations can find it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel

from engine.actions import ActionContext, ActionFn, ActionRegistry, UndoFn
from engine.kube_actions import deployments, manifests, nodes, params, pods
from engine.kube_actions.client import KubeconfigError, api_client_from_kubeconfig
from engine.kube_actions.errors import (
    EffectNotConfirmedError,
    KubeApiError,
    KubeConflictError,
    KubeTransientError,
    QuotaExceededError,
    WaitTimeoutError,
)
from engine.kube_actions.rest import Kube

KubeFn = Callable[[Kube, ActionContext, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def _bind(kube: Kube, fn: KubeFn) -> ActionFn:
    async def action(ctx: ActionContext, params: Mapping[str, Any]) -> Mapping[str, Any]:
        outputs = await fn(kube, ctx, params)
        target = {k: params[k] for k in ("namespace", "name") if k in params}
        return {**target, **outputs}

    action.__name__ = fn.__name__
    action.__doc__ = fn.__doc__
    return action


def register_kube_actions(registry: ActionRegistry, api_client: Any) -> ActionRegistry:
    """Register every Kubernetes action on ``registry``, talking through ``api_client``."""
    kube = Kube(api_client)
    discovery = manifests.Discovery(kube)

    def with_discovery(fn: Any) -> KubeFn:
        async def call(k: Kube, ctx: ActionContext, p: Mapping[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = await fn(k, discovery, ctx, p)
            return result

        call.__name__ = fn.__name__
        call.__doc__ = fn.__doc__
        return call

    table: list[tuple[str, KubeFn, type[BaseModel], bool, UndoFn | None]] = [
        (
            "scale_deployment",
            deployments.scale_deployment,
            params.ScaleParams,
            True,
            deployments.undo_scale,
        ),
        ("rollout_restart", deployments.rollout_restart, params.RestartParams, False, None),
        ("wait_for_rollout", deployments.wait_for_rollout_action, params.RolloutParams, True, None),
        (
            "patch_resources",
            deployments.patch_resources,
            params.PatchResourcesParams,
            True,
            deployments.undo_patch_resources,
        ),
        (
            "rollback_deployment",
            deployments.rollback_deployment,
            params.RollbackParams,
            False,
            deployments.undo_rollback,
        ),
        ("delete_pod", pods.delete_pod, params.DeletePodParams, False, None),
        ("cordon_node", nodes.cordon_node, params.NodeParams, True, nodes.undo_cordon),
        ("uncordon_node", nodes.uncordon_node, params.NodeParams, True, nodes.undo_uncordon),
        ("drain_node", nodes.drain_node, params.DrainParams, True, nodes.undo_drain),
        (
            "apply_manifest",
            with_discovery(manifests.apply_manifest),
            params.ApplyParams,
            True,
            None,
        ),
        ("label", with_discovery(manifests.label), params.LabelParams, True, manifests.undo_label),
        (
            "annotate",
            with_discovery(manifests.annotate),
            params.AnnotateParams,
            True,
            manifests.undo_annotate,
        ),
    ]
    for name, fn, model, idempotent, undo in table:
        bound = _bind(kube, fn)
        doc = (fn.__doc__ or "").strip().splitlines()
        registry.register(
            name,
            bound,
            params_model=model,
            idempotent=idempotent,
            description=doc[0] if doc else "",
            dry_run=bound,
            undo=undo,
        )
    return registry


__all__ = [
    "EffectNotConfirmedError",
    "KubeApiError",
    "KubeConflictError",
    "KubeTransientError",
    "KubeconfigError",
    "QuotaExceededError",
    "WaitTimeoutError",
    "api_client_from_kubeconfig",
    "register_kube_actions",
]
