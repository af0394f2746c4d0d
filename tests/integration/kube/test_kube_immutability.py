"""Immutable fields through the official client: what a real cluster refuses to change.

A remediation that "fixes" a pod by editing its spec, or retargets a Deployment by
changing its selector, fails against a real cluster; the simulated one must refuse it
the same way (422 Invalid, kube's wording) on every write path, or such a workflow
passes here and breaks in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from tests.integration.kube.manifests import deployment, pod

POD_FORBIDDEN = (
    'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)\n"
)


def refusal(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ApiException) as err:
        call()
    assert err.value.status == 422
    status: dict[str, Any] = json.loads(err.value.body)
    assert status["reason"] == "Invalid"
    return status


@pytest.fixture
def created_pod(core: client.CoreV1Api) -> Any:
    return core.create_namespaced_pod("default", pod("p", {"app": "web"}))


@pytest.mark.usefixtures("created_pod")
def test_a_pod_image_and_labels_may_change(core: client.CoreV1Api) -> None:
    patch = {
        "metadata": {"labels": {"app": "api"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    }
    patched = core.patch_namespaced_pod("p", "default", patch)
    assert patched.spec.containers[0].image == "nginx:1.27"
    assert patched.metadata.labels == {"app": "api"}


@pytest.mark.usefixtures("created_pod")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"spec": {"nodeSelector": {"disk": "ssd"}}}, "application/strategic-merge-patch+json"),
        ({"spec": {"restartPolicy": "Never"}}, "application/merge-patch+json"),
        (
            [{"op": "replace", "path": "/spec/dnsPolicy", "value": "Default"}],
            "application/json-patch+json",
        ),
    ],
)
def test_any_other_pod_spec_change_is_forbidden_on_every_patch_type(
    core: client.CoreV1Api, body: Any, content_type: str
) -> None:
    status = refusal(
        lambda: core.patch_namespaced_pod("p", "default", body, _content_type=content_type)
    )
    assert status["message"].startswith(POD_FORBIDDEN)
    [cause] = status["details"]["causes"]
    assert (cause["field"], cause["reason"]) == ("spec", "FieldValueForbidden")


def test_a_pod_spec_change_is_forbidden_on_update_and_apply(
    core: client.CoreV1Api, created_pod: Any
) -> None:
    created_pod.spec.hostname = "elsewhere"
    status = refusal(lambda: core.replace_namespaced_pod("p", "default", created_pod))
    assert status["message"].startswith(POD_FORBIDDEN)
    assert '+ \thostname: "elsewhere"' in status["message"]
    applied = pod("p", {"app": "web"}, priorityClassName="high")
    status = refusal(
        lambda: core.patch_namespaced_pod(
            "p",
            "default",
            applied,
            field_manager="ssa",
            _content_type="application/apply-patch+yaml",
        )
    )
    assert status["message"].startswith(POD_FORBIDDEN)


@pytest.mark.usefixtures("created_pod")
def test_pods_may_not_gain_or_lose_containers(core: client.CoreV1Api) -> None:
    patch = {"spec": {"containers": [{"name": "sidecar", "image": "envoy"}]}}
    status = refusal(lambda: core.patch_namespaced_pod("p", "default", patch))
    assert status["message"] == (
        'Pod "p" is invalid: spec.containers: Forbidden: pod updates may not add or remove '
        "containers"
    )


@pytest.mark.usefixtures("created_pod")
def test_tolerations_may_only_be_added(core: client.CoreV1Api) -> None:
    added = {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    tolerations = core.read_namespaced_pod("p", "default").spec.tolerations
    current = [client.ApiClient().sanitize_for_serialization(t) for t in tolerations]
    core.patch_namespaced_pod("p", "default", {"spec": {"tolerations": [*current, added]}})
    status = refusal(
        lambda: core.patch_namespaced_pod("p", "default", {"spec": {"tolerations": [added]}})
    )
    assert status["message"] == (
        'Pod "p" is invalid: spec.tolerations: Forbidden: existing toleration can not be '
        "modified except its tolerationSeconds"
    )


@pytest.mark.usefixtures("created_pod")
def test_active_deadline_may_be_set_and_lowered_but_not_raised(core: client.CoreV1Api) -> None:
    def deadline(seconds: int) -> Any:
        return core.patch_namespaced_pod(
            "p", "default", {"spec": {"activeDeadlineSeconds": seconds}}
        )

    deadline(600)
    assert deadline(300).spec.active_deadline_seconds == 300
    status = refusal(lambda: deadline(900))
    assert status["message"] == (
        'Pod "p" is invalid: spec.activeDeadlineSeconds: Invalid value: 900: '
        "must be less than or equal to previous value"
    )


@pytest.mark.usefixtures("created_pod")
def test_pod_status_and_binding_are_not_spec_updates(core: client.CoreV1Api) -> None:
    core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running"}})
    core.create_namespaced_pod_binding(
        "p",
        "default",
        client.V1Binding(
            metadata=client.V1ObjectMeta(name="p"), target=client.V1ObjectReference(name="n1")
        ),
        _preload_content=False,
    )
    assert core.read_namespaced_pod("p", "default").spec.node_name == "n1"


def test_a_deployment_selector_is_immutable(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web"))
    patch = {
        "spec": {
            "selector": {"matchLabels": {"app": "other"}},
            "template": {"metadata": {"labels": {"app": "other"}}},
        }
    }
    status = refusal(lambda: apps.patch_namespaced_deployment("web", "default", patch))
    assert status["message"] == (
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    )
    assert status["details"]["causes"][0]["field"] == "spec.selector"
    # Everything else of the spec still changes.
    apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 5}})


def statefulset(name: str) -> dict[str, Any]:
    body = deployment(name)
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = name
    return body


def test_a_statefulset_spec_is_immutable_but_for_its_listed_fields(
    apps: client.AppsV1Api,
) -> None:
    apps.create_namespaced_stateful_set("default", statefulset("db"))
    apps.patch_namespaced_stateful_set("db", "default", {"spec": {"replicas": 3}})
    status = refusal(
        lambda: apps.patch_namespaced_stateful_set(
            "db", "default", {"spec": {"serviceName": "other"}}
        )
    )
    assert status["message"] == (
        'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for '
        "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    )


def job(name: str, suspend: bool) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "suspend": suspend,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "run", "image": "busybox"}],
                }
            },
        },
    }


def test_a_job_template_is_immutable_unless_suspended_scheduling(api_client: Any) -> None:
    batch = client.BatchV1Api(api_client)
    batch.create_namespaced_job("default", job("run", suspend=False))
    image = {"spec": {"template": {"spec": {"containers": [{"name": "run", "image": "alpine"}]}}}}
    status = refusal(lambda: batch.patch_namespaced_job("run", "default", image))
    assert status["message"].startswith('Job.batch "run" is invalid: spec.template: Invalid value')
    assert status["message"].endswith(": field is immutable")
    batch.create_namespaced_job("default", job("held", suspend=True))
    placement = {"spec": {"template": {"spec": {"nodeSelector": {"zone": "a"}}}}}
    moved = batch.patch_namespaced_job("held", "default", placement)
    assert moved.spec.template.spec.node_selector == {"zone": "a"}
    refusal(lambda: batch.patch_namespaced_job("held", "default", image))
