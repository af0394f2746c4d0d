"""The pod fault steps in features, through the real plugin, on a profile with probes.

Unpullable images, failing readiness and liveness probes, a rollout that stalls and
passes its progress deadline, and a rollback workflow that restores the service: each
scenario reads the outcome back through the official client.
"""

from __future__ import annotations

from bdd_project import Project

PROFILE = """\
name: Probed
seed: 4
cluster:
  mode: controllers
  node_pools:
    pool: {count: 2, cpu: "4", memory: 8Gi, pods: 50}
  namespaces:
    default:
      deployments:
        web:
          replicas: 4
          image: nginx:1.25
          port: 8080
          readiness_probe: {period_seconds: 5}
          progress_deadline_seconds: 120
        worker:
          replicas: 1
          liveness_probe: {type: tcp, period_seconds: 5, failure_threshold: 2}
"""

FEATURE = """\
@BR-WORKFLOW-001
Feature: Workloads that break the way real ones do

  Scenario: Pods whose readiness probe fails stay Running but not Ready
    Given the readiness probe of the pods of "web" in "default" fails
    When 60 virtual seconds pass
    Then 4 pods of "web" in "default" are Running but not Ready
    When the readiness probe of the pods of "web" in "default" passes again
    And 10 virtual seconds pass
    Then the pods of "web" in "default" are 4 Running and Ready

  Scenario: A failing liveness probe restarts the container again and again
    Given the liveness probe of the pods of "worker" in "default" fails
    When 120 virtual seconds pass
    Then every pod of "worker" in "default" restarted at least 2 times

  Scenario: A rollout to an image that cannot be pulled passes its progress deadline
    Given the image "nginx:broken" cannot be pulled
    When an operator rolls out the image "nginx:broken" to the deployment "web" in "default"
    And 60 virtual seconds pass
    Then 2 pods of "web" in "default" cannot pull their image
    And the deployment "web" in "default" has the condition Progressing "True" with the reason "ReplicaSetUpdated"
    And the deployment "web" in "default" has the condition Available "True" with the reason "MinimumReplicasAvailable"
    When 70 virtual seconds pass
    Then the deployment "web" in "default" has the condition Progressing "False" with the reason "ProgressDeadlineExceeded"

  Scenario: A rollback workflow restores a stalled rollout
    Given images matching "*:broken" cannot be pulled
    And the workflow:
      \"\"\"
      name: undo
      steps:
        - id: rollback
          action: rollback_deployment
          params: {namespace: default, name: web, timeout: 300}
      \"\"\"
    When an operator rolls out the image "nginx:broken" to the deployment "web" in "default"
    And 30 virtual seconds pass
    And I submit the workflow
    Then the execution succeeds
    And the deployment "web" in "default" has 4 ready replicas
    And the deployment "web" in "default" runs the image "nginx:1.25"
"""


def test_the_pod_fault_steps_break_and_read_back_workloads(bdd_project: Project) -> None:
    profile = bdd_project.write("profiles/Probed.yaml", PROFILE)
    bdd_project.feature("pod_faults", FEATURE)
    result = bdd_project.run("-v", f"--scenario={profile}")
    result.assert_outcomes(passed=4)
