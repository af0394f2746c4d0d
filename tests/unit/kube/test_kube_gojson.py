"""Malformed bodies are answered in Go's words, as kube-apiserver answers them.

A user comparing the harness's 400 with a real cluster's should read the same text,
not Python's decoder message.
"""

from __future__ import annotations

import json

import pytest

from fakes.kube import Cluster
from fakes.kube.gojson import go_message
from fakes.kube.messages import Request


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"a": 1,}', "invalid character '}' looking for beginning of object key string"),
        ('{"a" 1}', "invalid character '1' after object key"),
        ('{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
        ('{"a": [1 2]}', "invalid character '2' after array element"),
        ('{"a": }', "invalid character '}' looking for beginning of value"),
        ('{"a": 1}}', "invalid character '}' after top-level value"),
        ('{"a": "x', "unexpected end of JSON input"),
        ('{"a": "}", "b" 2}', "invalid character '2' after object key"),
        ("{'a': 1}", "invalid character '\\'' looking for beginning of object key string"),
    ],
)
def test_decoder_faults_read_as_go_words_them(doc: str, message: str) -> None:
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(doc)
    assert go_message(err.value) == message


def test_a_malformed_body_is_a_400_in_kube_words() -> None:
    cluster = Cluster(seed=1)
    response = cluster.router.dispatch(
        Request.from_url(
            "POST", "/api/v1/namespaces/default/configmaps", body=b'{"metadata": {"name": "c",}}'
        )
    )
    assert response.status == 400
    status = json.loads(response.body)
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        "couldn't get version/kind; json parse error: "
        "invalid character '}' looking for beginning of object key string"
    )
