Feature: Kubernetes remediation actions
  The engine's Kubernetes actions (engine/kube_actions) run through the real engine
  against the profiles' simulated clusters, and each change is read back through the
  official client: replica counts, which pods are still the ones that ran before and
  which are new, where they run, what they request, what image they run, and -- by
  watching the cluster in virtual time -- how many pods were Ready at every moment.

  @BR-WORKFLOW-017
  Rule: Scaling a deployment finishes only when the requested replicas are ready

    Scenario Outline: Scaling <deployment> in <namespace> on <profile> up to <up> and down to <down>
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: scale-up
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: <namespace>, name: <deployment>, replicas: <up>, timeout: 120}
        """
      And the workflow:
        """
        name: scale-down
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: <namespace>, name: <deployment>, replicas: <down>, timeout: 120}
        """
      When I run the workflow "scale-up"
      Then the execution succeeds
      And the step "scale" output "previous_replicas" is <before>
      And the step "scale" output "ready_replicas" is <up>
      And the deployment "<deployment>" in "<namespace>" has <up> ready replicas
      And the deployment "<deployment>" in "<namespace>" kept <before> of the remembered pods and runs <added> new ones, all Running and Ready
      When I run the workflow "scale-down"
      Then the execution succeeds
      And the step "scale" output "previous_replicas" is <up>
      And the step "scale" output "ready_replicas" is <down>
      And the deployment "<deployment>" in "<namespace>" has <down> ready replicas
      And the pods of "<deployment>" in "<namespace>" are <down> Running and Ready

      Examples:
        | profile                | namespace    | deployment   | before | up | added | down |
        | HighLoadProduction     | default      | redis-cache  | 3      | 6  | 3     | 2    |
        | BasicDevelopment       | default      | web-frontend | 3      | 5  | 2     | 1    |
        | MonitoringStack        | monitoring   | alertmanager | 2      | 4  | 2     | 1    |
        | MultiTenantDevelopment | tenant-gamma | batch-worker | 3      | 4  | 1     | 1    |

  @BR-WORKFLOW-018
  Rule: A restart is followed until the workload is Ready again

    Scenario Outline: A rollout restart of <deployment> on <profile> replaces every pod
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: restart
        retry: {max_attempts: 1}
        steps:
          - id: restart
            action: rollout_restart
            params: {namespace: <namespace>, name: <deployment>, wait: true, timeout: 300}
        """
      When I run the workflow "restart"
      Then the execution succeeds
      And the step "restart" output "ready_replicas" is <replicas>
      And the step "restart" output "updated_replicas" is <replicas>
      And the deployment "<deployment>" in "<namespace>" kept 0 of the remembered pods and runs <replicas> new ones, all Running and Ready

      Examples:
        | profile            | namespace  | deployment  | replicas |
        | HighLoadProduction | default    | api-gateway | 5        |
        | BasicDevelopment   | default    | api-backend | 4        |
        | MonitoringStack    | monitoring | prometheus  | 2        |

    Scenario Outline: Deleting a pod of <deployment> on <profile> waits until its replacement is Ready
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: delete-one
        retry: {max_attempts: 1}
        inputs:
          pod: {type: string, required: true}
        steps:
          - id: delete
            action: delete_pod
            params: {namespace: <namespace>, name: "${{ inputs.pod }}", timeout: 120}
        """
      When I run the workflow "delete-one" with the input "pod" naming a remembered pod of the deployment "<deployment>" in "<namespace>"
      Then the execution succeeds
      And the pod deleted by the step "delete" is gone and the pod in its output "replacement" is new, Running and Ready
      And the deployment "<deployment>" in "<namespace>" kept <kept> of the remembered pods and runs 1 new ones, all Running and Ready

      Examples:
        | profile            | namespace | deployment               | kept |
        | HighLoadProduction | default   | order-processing-service | 5    |
        | BasicDevelopment   | default   | database                 | 0    |

  @BR-WORKFLOW-019
  Rule: Cordon and drain move pods off a node while honouring PodDisruptionBudgets

    Scenario: A cordoned node keeps its pods but gets none of the new ones
      Given the HighLoadProduction cluster
      And I remember the pods of the deployment "api-gateway" in "default"
      And the workflow:
        """
        name: cordon-and-grow
        retry: {max_attempts: 1}
        steps:
          - id: cordon
            action: cordon_node
            params: {name: prod-node-1}
          - id: grow
            action: scale_deployment
            depends_on: [cordon]
            params: {namespace: default, name: api-gateway, replicas: 11, timeout: 120}
        """
      When I run the workflow "cordon-and-grow"
      Then the execution succeeds
      And the node "prod-node-1" is unschedulable
      And the deployment "api-gateway" in "default" kept 5 of the remembered pods and runs 6 new ones, all Running and Ready
      And none of the new pods of the deployment "api-gateway" in "default" runs on the node "prod-node-1"

    Scenario Outline: Draining <node> never takes <app> below its PodDisruptionBudget
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: drain
        retry: {max_attempts: 1}
        steps:
          - id: drain
            action: drain_node
            params: {name: <node>, timeout: 300}
        """
      When I watch the Ready pods of "<app>" in "default"
      And I run the workflow "drain"
      Then the execution succeeds
      And the node "<node>" is unschedulable
      And no pod in "default" runs on the node "<node>"
      And every deployment in "default" has all its replicas Running and Ready
      And while watched, the Ready pods of "<app>" in "default" went down to <low> but never below what its PodDisruptionBudget requires
      And the step "drain" had evictions refused by a PodDisruptionBudget

      Examples:
        | node        | app                      | low |
        | prod-node-1 | user-service             | 6   |
        | prod-node-3 | user-service             | 6   |
        | prod-node-1 | order-processing-service | 4   |

    Scenario: A drain that a PodDisruptionBudget blocks fails at its timeout and evicts nothing it protects
      Given the HighLoadProduction cluster
      And the PodDisruptionBudget "redis-cache" in "default" allows no disruption
      And I remember the pods of the deployment "redis-cache" in "default"
      And the workflow:
        """
        name: drain
        retry: {max_attempts: 1}
        steps:
          - id: drain
            action: drain_node
            timeout: 120
            params: {name: prod-node-1, timeout: 60}
        """
      When I run the workflow "drain"
      Then the step "drain" is Failed
      And the step "drain" failed with an error saying "eviction of pod default/redis-cache-"
      And the step "drain" failed with an error saying "still refused after 60s"
      And the step "drain" took 60 virtual seconds
      And the node "prod-node-1" is unschedulable
      And the pods of "redis-cache" in "default" that ran on the node "prod-node-1" still run there, Ready
      And the deployment "redis-cache" in "default" kept 3 of the remembered pods and runs 0 new ones, all Running and Ready

  @BR-WORKFLOW-020
  Rule: A deployment is rolled back to its previous revision

    Scenario Outline: <deployment> on <profile> rolls out <new> and is rolled back to <old>
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: release
        retry: {max_attempts: 1}
        steps:
          - id: release
            action: apply_manifest
            params:
              namespace: <namespace>
              manifest:
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: <deployment>}
                spec:
                  template:
                    spec:
                      containers: [{name: <deployment>, image: "<new>"}]
          - id: verify
            action: wait_for_rollout
            depends_on: [release]
            params: {namespace: <namespace>, name: <deployment>, timeout: 300}
        """
      And the workflow:
        """
        name: undo
        retry: {max_attempts: 1}
        steps:
          - id: rollback
            action: rollback_deployment
            params: {namespace: <namespace>, name: <deployment>, timeout: 300}
        """
      When I run the workflow "release"
      Then the execution succeeds
      And the step "verify" output "revision" is 2
      And the deployment "<deployment>" in "<namespace>" runs the image "<new>"
      And the deployment "<deployment>" in "<namespace>" kept 0 of the remembered pods and runs <replicas> new ones, all Running and Ready
      When I run the workflow "undo"
      Then the execution succeeds
      And the step "rollback" output "from_revision" is 2
      And the step "rollback" output "to_revision" is 1
      And the step "rollback" output "ready_replicas" is <replicas>
      And the deployment "<deployment>" in "<namespace>" runs the image "<old>"
      And the deployment "<deployment>" in "<namespace>" is at revision 3
      And the deployment "<deployment>" in "<namespace>" kept 0 of the remembered pods and runs <replicas> new ones, all Running and Ready
      And the pods of the deployment "<deployment>" in "<namespace>" come from the ReplicaSet of the remembered pods

      Examples:
        | profile            | namespace  | deployment  | replicas | old                               | new                               |
        | HighLoadProduction | default    | api-gateway | 5        | registry.example/api-gateway:2.4.1 | registry.example/api-gateway:2.5.0 |
        | MonitoringStack    | monitoring | grafana     | 1        | grafana/grafana:11.1.0             | grafana/grafana:11.2.0             |

    Scenario: A failed smoke test after a release rolls the deployment back in the same workflow
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: guarded-release
        retry: {max_attempts: 1}
        steps:
          - id: release
            action: apply_manifest
            params:
              namespace: default
              manifest:
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: order-processing-service}
                spec:
                  template:
                    spec:
                      containers:
                        - {name: order-processing-service, image: "registry.example/order-processing:3.3.0"}
          - id: verify
            action: wait_for_rollout
            depends_on: [release]
            params: {namespace: default, name: order-processing-service, timeout: 300}
          - id: smoke
            action: work
            depends_on: [verify]
            allow_failure: true
            params: {seconds: 5, fail: true, message: "checkout smoke test: 500 on /orders"}
          - id: rollback
            action: rollback_deployment
            depends_on: [smoke]
            trigger_rule: all_failed
            params: {namespace: default, name: order-processing-service, timeout: 300}
        """
      When I run the workflow "guarded-release"
      Then the step "smoke" is Failed
      And the step "rollback" is Succeeded
      And the step "rollback" started after "smoke" finished
      And the step "verify" output "revision" is 2
      And the step "rollback" output "to_revision" is 1
      And the deployment "order-processing-service" in "default" runs the image "registry.example/order-processing:3.2.0"
      And the deployment "order-processing-service" in "default" is at revision 3
      And the deployment "order-processing-service" in "default" has 6 ready replicas

    Scenario: A rollback to a named revision skips the revision in between
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: two-releases-and-back
        retry: {max_attempts: 1}
        steps:
          - id: release-2
            action: apply_manifest
            params:
              namespace: default
              manifest:
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: message-queue}
                spec: {template: {spec: {containers: [{name: message-queue, image: "rabbitmq:3.13.1"}]}}}
          - id: verify-2
            action: wait_for_rollout
            depends_on: [release-2]
            params: {namespace: default, name: message-queue}
          - id: release-3
            action: apply_manifest
            depends_on: [verify-2]
            params:
              namespace: default
              manifest:
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: message-queue}
                spec: {template: {spec: {containers: [{name: message-queue, image: "rabbitmq:4.0"}]}}}
          - id: verify-3
            action: wait_for_rollout
            depends_on: [release-3]
            params: {namespace: default, name: message-queue}
          - id: back-to-1
            action: rollback_deployment
            depends_on: [verify-3]
            params: {namespace: default, name: message-queue, to_revision: 1}
        """
      When I run the workflow "two-releases-and-back"
      Then the execution succeeds
      And the step "verify-3" output "revision" is 3
      And the step "back-to-1" output "from_revision" is 3
      And the step "back-to-1" output "to_revision" is 1
      And the deployment "message-queue" in "default" runs the image "rabbitmq:3.13"
      And the deployment "message-queue" in "default" is at revision 4
      And the deployment "message-queue" in "default" has 3 ready replicas

  @BR-WORKFLOW-021
  Rule: Container resources change within the namespace quota, and a quota violation is a clear error

    Scenario Outline: Raising the CPU request of <deployment> on <profile> within its quota replaces its pods
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: resize
        retry: {max_attempts: 1}
        steps:
          - id: resize
            action: patch_resources
            params:
              namespace: <namespace>
              name: <deployment>
              timeout: 300
              containers:
                <deployment>: {requests: {cpu: <cpu>}}
        """
      When I run the workflow "resize"
      Then the execution succeeds
      And the step "resize" output "ready_replicas" is <replicas>
      And the deployment "<deployment>" in "<namespace>" and each of its pods request "<cpu>" CPU and "<memory>" memory
      And the deployment "<deployment>" in "<namespace>" kept 0 of the remembered pods and runs <replicas> new ones, all Running and Ready
      When the cluster settles
      Then the quota of "<namespace>" shows <used> requests.cpu used
      And the quota of "<namespace>" is not exceeded

      Examples:
        | profile                | namespace    | deployment  | replicas | cpu  | memory | used  |
        | HighLoadProduction     | default      | redis-cache | 3        | 250m | 256Mi  | 3100m |
        | MultiTenantDevelopment | tenant-alpha | api-backend | 4        | 150m | 128Mi  | 1     |

    Scenario Outline: A CPU request of <cpu> for <deployment> on <profile> exceeds the quota: a clear error, nothing lost
      Given the <profile> cluster
      And I remember the pods of the deployment "<deployment>" in "<namespace>"
      And the workflow:
        """
        name: resize
        retry: {max_attempts: 3, backoff: fixed, delay: 5}
        steps:
          - id: resize
            action: patch_resources
            params:
              namespace: <namespace>
              name: <deployment>
              timeout: 300
              containers:
                <deployment>: {requests: {cpu: "<cpu>"}}
        """
      When I run the workflow "resize"
      Then the step "resize" is Failed
      And the step "resize" made 1 attempt
      And the step "resize" failed with an error saying "ResourceQuota 'quota' would be exceeded"
      And the step "resize" failed with an error saying "requested: requests.cpu=<cpu>"
      And the step "resize" took 0 virtual seconds
      When 120 virtual seconds pass
      Then the deployment "<deployment>" in "<namespace>" kept 3 of the remembered pods and runs 0 new ones, all Running and Ready
      And the quota of "<namespace>" shows <used> requests.cpu used
      And the quota of "<namespace>" is not exceeded

      Examples:
        | profile                | namespace    | deployment   | cpu  | used  |
        | HighLoadProduction     | default      | redis-cache  | 2    | 2800m |
        | MultiTenantDevelopment | tenant-gamma | batch-worker | 300m | 350m  |
