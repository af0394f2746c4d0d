"""kubectl leaves schema checks to the server (``fieldValidation=Strict``): a typo in a
manifest fails ``kubectl apply`` with kube's strict decoding error, and nothing is
stored; a valid manifest still applies."""

from __future__ import annotations

from kubectl_support import Kubectl, deployment


def _typo(name: str) -> str:
    return deployment(name).replace(
        "        image: nginx:1.25\n",
        "        image: nginx:1.25\n        imagePullPolicyy: Always\n",
    )


def test_apply_of_a_manifest_with_a_typo_fails_with_the_strict_error(kubectl: Kubectl) -> None:
    refused = kubectl("apply", "-f", "-", input=_typo("typo"), check=False)
    assert refused.returncode == 1
    assert (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
    ) in refused.stderr
    missing = kubectl("get", "deploy", "typo", check=False)
    assert "NotFound" in missing.stderr


def test_apply_of_a_valid_manifest_still_works(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", input=deployment("fine")).stdout == (
        "deployment.apps/fine created\n"
    )


def test_without_strict_validation_kubectl_prints_the_warning(kubectl: Kubectl) -> None:
    created = kubectl("apply", "--validate=warn", "-f", "-", input=_typo("warned"))
    assert created.stdout == "deployment.apps/warned created\n"
    assert (
        'Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
        in created.stderr
    )
    spec = kubectl(
        "get", "deploy", "warned", "-o", "jsonpath={.spec.template.spec.containers[0]}"
    ).stdout
    assert "imagePullPolicyy" not in spec
