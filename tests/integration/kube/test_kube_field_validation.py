"""Schema-driven decoding through the official client: what kube-apiserver's decoder
refuses (wrong JSON types) and what ``fieldValidation`` does with unknown fields
(Strict fails, Warn drops and warns, Ignore drops). Nothing unknown is ever stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from manifests import configmap, deployment, pod

from fakes.kube import Cluster

QUANTITY_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


class Raw:
    """Sends JSON bodies the typed methods would refuse (the v37 client validates dict
    bodies with pydantic) through the same official ``ApiClient``."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def __call__(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        host = self.api_client.configuration.host
        response = self.api_client.call_api(
            method, host + path, {"Content-Type": content_type}, body
        )
        response.read()
        return response.status, json.loads(response.data), dict(response.getheaders())


@pytest.fixture
def raw(api_client: Any) -> Raw:
    return Raw(api_client)


PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def _typo_pod(name: str) -> dict[str, Any]:
    body = pod(name)
    body["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    body["spec"]["foo"] = 1
    return body


def _error(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.value.body)
    return body


# -- fieldValidation on unknown fields ---------------------------------------------


def test_strict_refuses_unknown_fields_naming_each(core: client.CoreV1Api, raw: Raw) -> None:
    code, status, _ = raw("POST", f"{PODS}?fieldValidation=Strict", _typo_pod("p"))
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.containers[0].imagePullPolicyy", unknown field "spec.foo"'
    )
    assert core.list_namespaced_pod("default").items == []


def test_unknown_field_in_a_nested_list_item_is_named_by_index(raw: Raw) -> None:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"].append(
        {"name": "side", "image": "busybox", "imagePullPolicyy": "Always"}
    )
    path = "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict"
    assert raw("POST", path, body)[1]["message"].endswith(
        'strict decoding error: unknown field "spec.template.spec.containers[1].imagePullPolicyy"'
    )


def test_warn_is_the_default_drops_the_fields_and_warns(raw: Raw) -> None:
    status, _, headers = raw("POST", PODS, _typo_pod("p"))
    assert status == 201
    assert headers["warning"] == (
        '299 - "unknown field \\"spec.containers[0].imagePullPolicyy\\"", '
        '299 - "unknown field \\"spec.foo\\""'
    )
    stored = raw("GET", f"{PODS}/p")[1]
    assert "foo" not in stored["spec"]
    assert "imagePullPolicyy" not in stored["spec"]["containers"][0]


def test_ignore_drops_the_fields_silently(core: client.CoreV1Api, raw: Raw) -> None:
    status, _, headers = raw("POST", f"{PODS}?fieldValidation=Ignore", _typo_pod("p"))
    assert status == 201
    assert "warning" not in headers
    assert core.read_namespaced_pod("p", "default").spec.containers[0].image == "nginx:1.25"


def test_an_unknown_directive_is_invalid(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", configmap("c"), field_validation="strict")
    assert err.value.status == 422
    assert _error(err)["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": '
        'supported values: "", "Ignore", "Strict", "Warn"'
    )


def test_strict_update_is_refused_and_the_object_is_unchanged(
    core: client.CoreV1Api, raw: Raw
) -> None:
    core.create_namespaced_config_map("default", configmap("c", {"k": "v"}))
    stored = core.read_namespaced_config_map("c", "default").to_dict()
    body = configmap("c", {"k": "changed"})
    body["spec"] = {"x": 1}
    status, answer, _ = raw("PUT", f"{CONFIGMAPS}/c?fieldValidation=Strict", body)
    assert status == 400
    assert answer["message"].endswith('strict decoding error: unknown field "spec"')
    assert core.read_namespaced_config_map("c", "default").to_dict() == stored


def test_strict_patches_are_invalid_on_field_patch(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web"))
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment(
            "web", "default", {"spec": {"replicaz": 3}}, field_validation="Strict"
        )
    assert err.value.status == 422
    assert _error(err)["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[replicaz:3]]": '
        'strict decoding error: unknown field "spec.replicaz"'
    )
    assert apps.read_namespaced_deployment("web", "default").metadata.generation == 1


def test_warned_patch_applies_the_known_fields(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web"))
    _, _, headers = apps.patch_namespaced_deployment_with_http_info(
        "web", "default", {"spec": {"replicas": 3, "replicaz": 3}}
    )
    assert headers["warning"] == '299 - "unknown field \\"spec.replicaz\\""'
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 3


def test_strategic_directives_inside_maps_are_not_entries(core: client.CoreV1Api) -> None:
    # ``$patch: replace`` inside a Secret's data map is a directive, not a value that
    # must be base64; the decoder skips it as kube's does.
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "data": {"k": "eA=="}})
    patched = core.patch_namespaced_secret(
        "s",
        "default",
        {"data": {"$patch": "replace", "n": "eQ=="}},
        field_validation="Strict",
        _content_type="application/strategic-merge-patch+json",
    )
    assert patched.data == {"n": "eQ=="}


def test_a_malformed_patch_of_a_missing_object_is_404(core: client.CoreV1Api) -> None:
    # kube reads the object before decoding the patch.
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map(
            "missing", "default", {"data": {"a": 5}}, _content_type="application/merge-patch+json"
        )
    assert err.value.status == 404
    assert _error(err)["message"] == 'configmaps "missing" not found'


def test_json_patch_adding_an_unknown_field_is_refused(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("c"))
    ops = [{"op": "add", "path": "/spec", "value": {"x": 1}}]
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map("c", "default", ops, field_validation="Strict")
    assert err.value.status == 422
    assert _error(err)["message"].endswith('strict decoding error: unknown field "spec"')


def test_server_side_apply_refuses_unknown_fields_whatever_the_directive(
    cluster: Cluster,
) -> None:
    body = json.dumps({**configmap("c"), "dataa": {"k": "v"}}).encode()
    for directive in ("Strict", "Ignore"):
        response = cluster.router.dispatch(
            _request(
                "PATCH",
                "/api/v1/namespaces/default/configmaps/c"
                f"?fieldManager=me&fieldValidation={directive}",
                body,
                "application/apply-patch+yaml",
            )
        )
        assert response.status == 400
        assert json.loads(response.body)["message"] == (
            "failed to create typed patch object (default/c; /v1, Kind=ConfigMap): "
            ".dataa: field not declared in schema"
        )


def test_dry_run_gets_the_same_checks(raw: Raw) -> None:
    assert raw("POST", f"{PODS}?dryRun=All&fieldValidation=Strict", _typo_pod("p"))[0] == 400
    body = configmap("c")
    body["data"] = {"x": 5}
    assert raw("POST", f"{CONFIGMAPS}?dryRun=All", body)[0] == 400


# -- wrong JSON types -------------------------------------------------------------


def _pod_with(**container: Any) -> dict[str, Any]:
    body = pod("p")
    body["spec"]["containers"][0].update(container)
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            _pod_with(ports=[{"containerPort": "eighty"}]),
            "json: cannot unmarshal string into Go struct field "
            "ContainerPort.spec.containers.ports.containerPort of type int32",
        ),
        (
            _pod_with(env=[{"name": True, "value": "x"}]),
            "json: cannot unmarshal bool into Go struct field EnvVar.spec.containers.env.name "
            "of type string",
        ),
        (
            _pod_with(args="--verbose"),
            "json: cannot unmarshal string into Go struct field Container.spec.containers.args "
            "of type []string",
        ),
        (_pod_with(resources={"requests": {"cpu": "lots"}}), QUANTITY_MESSAGE),
    ],
    ids=["int", "string", "list", "quantity"],
)
def test_wrong_types_in_a_pod_are_bad_requests(
    core: client.CoreV1Api, raw: Raw, body: dict[str, Any], message: str
) -> None:
    status, answer, _ = raw("POST", PODS, body)
    assert (status, answer["reason"]) == (400, "BadRequest")
    assert answer["message"] == f'Pod in version "v1" cannot be handled as a Pod: {message}'
    assert core.list_namespaced_pod("default").items == []


def test_a_configmap_value_must_be_a_string(raw: Raw) -> None:
    body = configmap("c")
    body["data"] = {"x": 5}
    assert raw("POST", CONFIGMAPS, body)[1]["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
        "number into Go struct field ConfigMap.data of type string"
    )


def test_wrong_bool_and_service_port_types(raw: Raw) -> None:
    node = {"metadata": {"name": "n1"}, "spec": {"unschedulable": "yes"}}
    status, answer, _ = raw("POST", "/api/v1/nodes", node)
    assert status == 400
    assert answer["message"].endswith(
        "cannot unmarshal string into Go struct field NodeSpec.spec.unschedulable of type bool"
    )
    service = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": "x"}]}}
    answer = raw("POST", "/api/v1/namespaces/default/services", service)[1]
    assert answer["message"].endswith("Go struct field ServicePort.spec.ports.port of type int32")


def test_quantities_accept_numbers(raw: Raw) -> None:
    body = _pod_with(resources={"requests": {"cpu": 1, "memory": "64Mi"}})
    status, created, _ = raw("POST", PODS, body)
    assert status == 201
    assert created["spec"]["containers"][0]["resources"]["requests"]["memory"] == "64Mi"


def test_int_or_string_fields_accept_both(core: client.CoreV1Api) -> None:
    for name, target in (("by-number", 8080), ("by-name", "http")):
        service = {
            "metadata": {"name": name},
            "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": target}]},
        }
        created = core.create_namespaced_service("default", service)
        assert created.spec.ports[0].target_port == target


def test_wrong_type_in_an_update_leaves_the_object_unchanged(
    core: client.CoreV1Api, raw: Raw
) -> None:
    core.create_namespaced_config_map("default", configmap("c", {"k": "v"}))
    before = core.read_namespaced_config_map("c", "default").metadata.resource_version
    patched = raw("PATCH", f"{CONFIGMAPS}/c", {"data": {"k": 5}}, "application/merge-patch+json")
    assert patched[0] == 422
    assert patched[1]["message"].endswith(
        "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
    )
    replaced = raw("PUT", f"{CONFIGMAPS}/c", {**configmap("c"), "data": {"k": 5}})
    assert replaced[0] == 400
    after = core.read_namespaced_config_map("c", "default")
    assert (after.data, after.metadata.resource_version) == ({"k": "v"}, before)


def _request(method: str, url: str, body: bytes, content_type: str) -> Any:
    from fakes.kube.messages import Request

    return Request.from_url(method, url, {"Content-Type": content_type}, body)
