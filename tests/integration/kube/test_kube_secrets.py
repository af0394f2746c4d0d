"""Secrets through the official client: ``stringData`` is write-only, ``type`` defaults.

Workflows write credentials as ``stringData`` and read them back from ``data``; a
simulated cluster that kept ``stringData`` as sent would let a workflow pass here
that reads nothing on a real one. Keys and size are validated as kube validates them,
the same way for a ConfigMap's data.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from fakes.kube import Cluster
from fakes.kube.messages import Request

APPLY = "application/apply-patch+yaml"
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key_name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def stored(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.api.get("secrets", name, "default")


# -- stringData ---------------------------------------------------------------------------


def test_string_data_is_stored_base64_encoded_in_data(
    core: client.CoreV1Api, cluster: Cluster
) -> None:
    made = core.create_namespaced_secret(
        "default", secret("creds", stringData={"user": "admin", "pass": "s3cr\u00e9t"})
    )
    assert made.data == {"user": b64("admin"), "pass": b64("s3cr\u00e9t")}
    assert made.string_data is None
    read = core.read_namespaced_secret("creds", "default")
    assert read.data == made.data
    assert "stringData" not in stored(cluster, "creds")


def test_string_data_wins_over_data_on_the_same_key(core: client.CoreV1Api) -> None:
    made = core.create_namespaced_secret(
        "default",
        secret("both", data={"k": b64("old"), "kept": b64("x")}, stringData={"k": "new"}),
    )
    assert made.data == {"k": b64("new"), "kept": b64("x")}


def test_type_defaults_to_opaque_and_an_explicit_type_is_kept(core: client.CoreV1Api) -> None:
    assert core.create_namespaced_secret("default", secret("plain")).type == "Opaque"
    tls = core.create_namespaced_secret(
        "default",
        secret(
            "tls",
            type="kubernetes.io/tls",
            stringData={"tls.crt": "cert", "tls.key": "key"},
        ),
    )
    assert tls.type == "kubernetes.io/tls"


def test_string_data_written_by_patch_replace_and_apply_lands_in_data(
    core: client.CoreV1Api, cluster: Cluster
) -> None:
    core.create_namespaced_secret("default", secret("s", data={"a": b64("1")}))
    patched = core.patch_namespaced_secret("s", "default", {"stringData": {"b": "2"}})
    assert patched.data == {"a": b64("1"), "b": b64("2")}
    replaced = core.replace_namespaced_secret("s", "default", secret("s", stringData={"c": "3"}))
    assert replaced.data == {"c": b64("3")}
    applied = core.patch_namespaced_secret(
        "s",
        "default",
        secret("s", stringData={"c": "4"}),
        field_manager="ssa",
        _content_type=APPLY,
    )
    assert applied.data == {"c": b64("4")}
    assert applied.string_data is None
    assert "stringData" not in stored(cluster, "s")


def test_rewriting_the_same_string_data_does_not_bump_the_resource_version(
    core: client.CoreV1Api,
) -> None:
    made = core.create_namespaced_secret("default", secret("same", stringData={"k": "v"}))
    again = core.replace_namespaced_secret("same", "default", secret("same", stringData={"k": "v"}))
    assert again.metadata.resource_version == made.metadata.resource_version


# -- validation ---------------------------------------------------------------------------


def test_a_key_that_is_not_a_config_key_is_422_invalid(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", secret("bad", stringData={"a key": "v"}))
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        f'Secret "bad" is invalid: data[a key]: Invalid value: "a key": {CONFIG_KEY_MSG}'
    )
    assert body["details"]["causes"][0]["field"] == "data[a key]"
    with pytest.raises(ApiException) as dots:
        core.create_namespaced_secret("default", secret("dots", data={"..x": b64("v")}))
    assert json.loads(dots.value.body)["message"] == (
        'Secret "dots" is invalid: data[..x]: Invalid value: "..x": must not start with \'..\''
    )


def test_more_than_one_mebibyte_of_data_is_422_too_long(core: client.CoreV1Api) -> None:
    big = "x" * (1024 * 1024)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", secret("big", stringData={"a": big, "b": "y"}))
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["message"] == (
        'Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes'
    )
    assert body["details"]["causes"][0]["reason"] == "FieldValueTooLong"
    assert core.create_namespaced_secret("default", secret("fits", stringData={"a": big})).data


def test_configmap_keys_follow_the_same_rules_and_may_not_repeat_across_maps(
    core: client.CoreV1Api,
) -> None:
    body = {
        "metadata": {"name": "cfg"},
        "data": {"ok": "1", "a/b": "2"},
        "binaryData": {"ok": b64("1")},
    }
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", body)
    assert err.value.status == 422
    causes = json.loads(err.value.body)["details"]["causes"]
    assert [(c["field"], c["message"]) for c in causes] == [
        ("data[ok]", 'Invalid value: "ok": duplicate of key present in binaryData'),
        ("data[a/b]", 'Invalid value: "a/b": ' + CONFIG_KEY_MSG),
        ("binaryData[ok]", 'Invalid value: "ok": duplicate of key present in data'),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"data": {"k": "!!!not base64"}},
        {"stringData": {"k": 5}},
        {"stringData": ["k"]},
        {"data": "k", "stringData": {"k": "v"}},
    ],
)
def test_malformed_data_never_crashes_the_write(cluster: Cluster, fields: dict[str, Any]) -> None:
    # The official client refuses to send these; the decoder refuses them as kube's
    # does: 400 for a body, 422 on the patch field for a patch. Never a server error.
    url = "/api/v1/namespaces/default/secrets"
    created = cluster.router.dispatch(
        Request.from_url("POST", url, {}, json.dumps(secret("odd", **fields)))
    )
    assert created.status == 400, created.body
    cluster.router.dispatch(Request.from_url("POST", url, {}, json.dumps(secret("fine"))))
    patched = cluster.router.dispatch(
        Request.from_url(
            "PATCH",
            f"{url}/fine",
            {"Content-Type": "application/merge-patch+json"},
            json.dumps(fields),
        )
    )
    assert patched.status == 422, patched.body
