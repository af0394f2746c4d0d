"""kubectl's write commands against the HTTP mode: apply, create, replace, delete,
diff, label, annotate, patch."""

from __future__ import annotations

import json

from kubectl_support import Kubectl, configmap, deployment, pod


def _data(kubectl: Kubectl, name: str) -> dict[str, str]:
    out = kubectl("get", "configmap", name, "-o", "json").stdout
    data: dict[str, str] = json.loads(out)["data"]
    return data


def test_client_side_apply_creates_then_configures(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", input=configmap("csa")).stdout == "configmap/csa created\n"
    again = kubectl("apply", "-f", "-", input=configmap("csa"))
    assert again.stdout == "configmap/csa unchanged\n"
    changed = kubectl("apply", "-f", "-", input=configmap("csa", "two"))
    assert changed.stdout == "configmap/csa configured\n"
    assert _data(kubectl, "csa") == {"key": "two"}
    annotations = json.loads(kubectl("get", "cm", "csa", "-o", "json").stdout)["metadata"]
    assert "kubectl.kubernetes.io/last-applied-configuration" in annotations["annotations"]


def test_client_side_apply_updates_a_deployment_with_a_strategic_patch(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("csa-deploy", replicas=1))
    kubectl("apply", "-f", "-", input=deployment("csa-deploy", replicas=1, image="nginx:1.27"))
    image = kubectl(
        "get", "deploy", "csa-deploy", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    ).stdout
    assert image == "nginx:1.27"


def test_server_side_apply_records_the_field_manager(kubectl: Kubectl) -> None:
    out = kubectl("apply", "--server-side", "-f", "-", input=configmap("ssa"))
    assert out.stdout == "configmap/ssa serverside-applied\n"
    kubectl("apply", "--server-side", "-f", "-", input=configmap("ssa", "three"))
    assert _data(kubectl, "ssa") == {"key": "three"}
    managers = json.loads(kubectl("get", "cm", "ssa", "-o", "json", "--show-managed-fields").stdout)
    assert "kubectl" in {m["manager"] for m in managers["metadata"]["managedFields"]}


def test_server_side_apply_conflicts_until_forced(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=deployment("owned", replicas=1))
    kubectl("patch", "deployment", "owned", "-p", '{"spec":{"replicas":2}}')
    refused = kubectl(
        "apply", "--server-side", "-f", "-", input=deployment("owned", replicas=3), check=False
    )
    assert refused.returncode == 1
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas'
        in refused.stderr
    )
    replicas = ("get", "deploy", "owned", "-o", "jsonpath={.spec.replicas}")
    assert kubectl(*replicas).stdout == "2"
    forced = kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        input=deployment("owned", replicas=3),
    )
    assert forced.stdout == "deployment.apps/owned serverside-applied\n"
    assert kubectl(*replicas).stdout == "3"


def test_create_replace_and_delete_from_files(kubectl: Kubectl, tmp_path: object) -> None:
    assert kubectl("create", "-f", "-", input=configmap("crd")).stdout == "configmap/crd created\n"
    duplicate = kubectl("create", "-f", "-", input=configmap("crd"), check=False)
    assert duplicate.returncode == 1
    assert "AlreadyExists" in duplicate.stderr
    assert kubectl("replace", "-f", "-", input=configmap("crd", "four")).stdout == (
        "configmap/crd replaced\n"
    )
    assert _data(kubectl, "crd") == {"key": "four"}
    deleted = kubectl("delete", "-f", "-", input=configmap("crd"))
    assert deleted.stdout == 'configmap "crd" deleted\n'
    assert kubectl("get", "cm", "crd", check=False).returncode == 1


def test_diff_shows_the_change_and_exits_1(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=configmap("diffed"))
    same = kubectl("diff", "-f", "-", input=configmap("diffed"), check=False)
    assert same.returncode == 0, same.stderr
    changed = kubectl("diff", "-f", "-", input=configmap("diffed", "two"), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  key: one" in changed.stdout
    assert "+  key: two" in changed.stdout
    assert _data(kubectl, "diffed") == {"key": "one"}


def test_label_and_annotate(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=pod("labelled"))
    assert kubectl("label", "pod", "labelled", "team=sre").stdout == "pod/labelled labeled\n"
    assert kubectl("get", "pods", "-l", "team=sre", "-o", "name").stdout == "pod/labelled\n"
    refused = kubectl("label", "pod", "labelled", "team=dev", check=False)
    assert refused.returncode == 1
    kubectl("label", "pod", "labelled", "team=dev", "--overwrite")
    kubectl("label", "pod", "labelled", "team-")
    assert kubectl("get", "pods", "-l", "team", "-o", "name").stdout == ""
    kubectl("annotate", "pod", "labelled", "owner=me")
    owner = kubectl("get", "pod", "labelled", "-o", "jsonpath={.metadata.annotations.owner}")
    assert owner.stdout == "me"


def test_patch_strategic_merge_and_json(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment("patched", replicas=1))
    kubectl(
        "patch",
        "deployment",
        "patched",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}',
    )
    spec = json.loads(kubectl("get", "deploy", "patched", "-o", "json").stdout)["spec"]
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.26"
    assert container["resources"]["requests"]["cpu"] == "10m"
    kubectl(
        "patch", "deployment", "patched", "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}'
    )
    kubectl(
        "patch",
        "deployment",
        "patched",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":3}]',
    )
    meta = json.loads(kubectl("get", "deploy", "patched", "-o", "json").stdout)
    assert meta["metadata"]["labels"]["m"] == "1"
    assert meta["spec"]["replicas"] == 3


def test_protobuf_generator_commands_are_told_to_use_files(kubectl: Kubectl) -> None:
    for args in (
        ("deployment", "gen", "--image=nginx"),
        ("configmap", "gen", "--from-literal=a=b"),
    ):
        result = kubectl("create", *args, check=False)
        assert result.returncode == 1
        assert "kubectl apply -f" in result.stderr


def test_run_sends_json_and_creates_the_pod(kubectl: Kubectl) -> None:
    assert kubectl("run", "ran", "--image=nginx:1.25").stdout == "pod/ran created\n"
    kubectl("wait", "--for=condition=Ready", "pod/ran", "--timeout=30s")


def test_diff_of_an_object_created_without_labels_or_annotations_is_empty(
    kubectl: Kubectl,
) -> None:
    kubectl("create", "-f", "-", input=configmap("created-plain"))
    same = kubectl("diff", "-f", "-", input=configmap("created-plain"), check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout == ""


def test_a_secret_applied_with_string_data_shows_its_data(kubectl: Kubectl) -> None:
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  user: admin\n"
    )
    kubectl("apply", "-f", "-", input=manifest)
    listed = kubectl("get", "secret", "creds").stdout.split("\n")
    assert listed[1].split()[:3] == ["creds", "Opaque", "1"]
    data = kubectl("get", "secret", "creds", "-o", "jsonpath={.data.user}").stdout
    assert data == "YWRtaW4="
    assert kubectl("get", "secret", "creds", "-o", "jsonpath={.stringData}").stdout == ""
    rv = ("get", "secret", "creds", "-o", "jsonpath={.metadata.resourceVersion}")
    before = kubectl(*rv).stdout
    # stringData is never live, so kubectl's patch always carries it ("configured", as
    # against a real cluster); the write changes nothing.
    assert kubectl("apply", "-f", "-", input=manifest).stdout == "secret/creds configured\n"
    assert kubectl(*rv).stdout == before


def _two_containers(name: str, first: str, second: str, strategy: str = "") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
{strategy}  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - {{name: {first}, image: "nginx:1.25"}}
      - {{name: {second}, image: "envoy:1"}}
"""


def _containers(kubectl: Kubectl, name: str) -> list[str]:
    out = kubectl("get", "deploy", name, "-o", "jsonpath={.spec.template.spec.containers[*].name}")
    return out.stdout.split()


def test_client_side_apply_reorders_containers_as_the_manifest_does(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=_two_containers("ordered", "app", "proxy"))
    assert _containers(kubectl, "ordered") == ["app", "proxy"]
    # kubectl sends the new order as $setElementOrder/containers.
    kubectl("apply", "-f", "-", input=_two_containers("ordered", "proxy", "app"))
    assert _containers(kubectl, "ordered") == ["proxy", "app"]


def test_client_side_apply_switching_to_recreate_drops_rolling_update(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=_two_containers("switched", "app", "proxy"))
    recreate = "  strategy: {type: Recreate}\n"
    # The server defaulted rollingUpdate; kubectl's $retainKeys: [type] removes it.
    kubectl("apply", "-f", "-", input=_two_containers("switched", "app", "proxy", recreate))
    strategy = json.loads(kubectl("get", "deploy", "switched", "-o", "json").stdout)["spec"][
        "strategy"
    ]
    assert strategy == {"type": "Recreate"}
