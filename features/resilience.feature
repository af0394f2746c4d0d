Feature: Resilience to control-plane faults, node failures and noisy neighbours
  Remediation workflows keep working when the Kubernetes API errors, throttles or is
  slow, when a node fails under them, and when several tenants share one cluster:
  they retry what failed (waiting as long as the server asks), finish what they
  started, leave the cluster as they meant to, and act only in their own namespace,
  within its quota.

  @BR-WORKFLOW-035
  Rule: Kubernetes-action workflows ride out API errors, throttling and latency

    Scenario Outline: A scale-up retries through <what> and the deployment ends scaled
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: scale-gateway
        retry: {max_attempts: 4, backoff: fixed, delay: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: default, name: api-gateway, replicas: 7, timeout: 300}
            timeout: 300
        """
      And the API server <fault>
      When I submit the workflow "scale-gateway"
      Then the execution succeeds
      And the step "scale" made 3 attempts
      And the step "scale" waited <waits> seconds between its attempts
      And the deployment "api-gateway" in "default" has 7 ready replicas

      Examples:
        | what                        | fault                                                                                  | waits |
        | throttling with Retry-After | throttles the next 2 patch requests for deployments asking to retry after 5 seconds  | 5, 5  |
        | server errors               | fails the next 2 patch requests for deployments with 500                               | 1, 1  |
        | an unavailable API server   | fails the next 2 get requests for deployments with 503                                 | 1, 1  |

    Scenario: A scale-up rides out a slow API server within its step timeout
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: scale-gateway
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: default, name: api-gateway, replicas: 7, timeout: 120}
            timeout: 30
        """
      And the API server answers patch requests for deployments 20 seconds late
      When I submit the workflow "scale-gateway"
      Then the execution succeeds
      And the step "scale" made 1 attempt
      And the step "scale" took at least 20 virtual seconds
      And the deployment "api-gateway" in "default" has 7 ready replicas

    Scenario: A remediation that meets the flaky API server's restart retries until it is back
      Given the FlakyControlPlane cluster
      And the workflow:
        """
        name: remediate
        retry: {max_attempts: 12, backoff: fixed, delay: 1}
        steps:
          - id: wait-for-window
            action: sleep
            params: {seconds: 301}
            timeout: 400
          - id: scale-up
            action: scale_deployment
            depends_on: [wait-for-window]
            params: {namespace: default, name: api-gateway, replicas: 8, timeout: 300}
          - id: restart
            action: rollout_restart
            depends_on: [scale-up]
            params: {namespace: default, name: user-service, wait: true, timeout: 300}
        """
      When I submit the workflow "remediate"
      Then the execution succeeds
      And the step "scale-up" failed during the "apiserver-restart" fault and succeeded after it ended
      And every retry waited at least as long as the API server asked
      When the control plane recovers
      Then the deployment "api-gateway" in "default" has 8 ready replicas
      And the pods of "user-service" in "default" are 8 Running and Ready

    Scenario: A hundred workflows write through the flaky control plane and every object is right
      Given the FlakyControlPlane cluster
      And the workflow:
        """
        name: record-run
        inputs:
          index: {type: integer, required: true}
          token: {type: string, required: true}
        retry: {max_attempts: 8, backoff: exponential, delay: 0.5, max_delay: 10}
        steps:
          - id: write
            action: apply_manifest
            params:
              namespace: workflows
              manifest:
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: "run-${{ inputs.index }}"}
                data: {token: "${{ inputs.token }}"}
          - id: mark
            action: label
            depends_on: [write]
            params:
              apiVersion: v1
              kind: ConfigMap
              namespace: workflows
              name: "run-${{ inputs.index }}"
              labels: {windtunnel.io/token: "${{ inputs.token }}"}
        """
      When I submit 100 executions of the workflow "record-run" concurrently
      Then all 100 executions succeed
      And at least 5 steps were retried after API errors, each until it succeeded
      And every retry waited at least as long as the API server asked
      When the control plane recovers
      Then each execution's config map "run-{index}" in "workflows" holds its token

  @BR-WORKFLOW-036
  Rule: A workflow running when a node fails completes, and the node's pods move

    Scenario: A remediation across the node failure drains it, and its pods are replaced elsewhere
      Given the DisasterRecovery cluster
      And the pods of "api-gateway" in "default" on the node "last" are noted
      And the workflow:
        """
        name: ride-out-node-loss
        retry: {max_attempts: 3, backoff: fixed, delay: 5}
        steps:
          - id: scale-up
            action: scale_deployment
            params: {namespace: default, name: api-gateway, replicas: 6, timeout: 60}
          - id: let-it-break
            action: sleep
            depends_on: [scale-up]
            params: {seconds: 150}
            timeout: 200
          - id: drain
            action: drain_node
            depends_on: [let-it-break]
            params: {name: prod-node-3, ignore_daemonsets: true, timeout: 600}
            timeout: 700
          - id: gateway-ready
            action: wait_for_rollout
            depends_on: [drain]
            params: {namespace: default, name: api-gateway, timeout: 600}
            timeout: 700
        """
      When I submit the workflow "ride-out-node-loss"
      Then the execution succeeds
      And the execution was running when the node "last" went NotReady
      And the node "last" has the condition Ready "Unknown"
      And the node "last" is unschedulable
      And the noted pods of "api-gateway" in "default" were replaced on other nodes
      And the step "gateway-ready" output "ready_replicas" is 6

    Scenario: A rollout restart under way when the node fails waits out the eviction and completes
      Given the DisasterRecovery cluster
      And the pods of "user-service" in "default" on the node "last" are noted
      And the workflow:
        """
        name: restart-across-node-loss
        retry: {max_attempts: 1}
        steps:
          - id: until-just-before
            action: sleep
            params: {seconds: 117}
            timeout: 200
          - id: restart
            action: rollout_restart
            depends_on: [until-just-before]
            params: {namespace: default, name: user-service, wait: true, timeout: 600}
            timeout: 700
        """
      When I submit the workflow "restart-across-node-loss"
      Then the execution succeeds
      And the execution was running when the node "last" went NotReady
      And the step "restart" took at least 60 virtual seconds
      And the node "last" has the condition Ready "Unknown"
      And the noted pods of "user-service" in "default" were replaced on other nodes
      And the pods of "user-service" in "default" are 8 Running and Ready

  @BR-WORKFLOW-037
  Rule: Each tenant's workflows act only in its namespace, within its quota

    Scenario: Three tenants remediate at once; the ones over quota are refused, the other proceeds
      Given the MultiTenantDevelopment cluster
      And the deployments of every namespace are noted
      And the workflow:
        """
        name: grow-tenant
        inputs:
          namespace: {type: string, required: true}
          deployment: {type: string, required: true}
          replicas: {type: integer, required: true}
          add: {type: integer, required: true}
          cpu: {type: string, required: true}
          memory: {type: string, required: true}
        retry: {max_attempts: 1}
        steps:
          - id: grow
            action: scale_deployment
            params: {namespace: "${{ inputs.namespace }}", name: "${{ inputs.deployment }}", replicas: "${{ inputs.replicas }}"}
            resources: {namespace: "${{ inputs.namespace }}", replicas: "${{ inputs.add }}", cpu: "${{ inputs.cpu }}", memory: "${{ inputs.memory }}"}
            on_insufficient: fail
          - id: mark
            action: label
            depends_on: [grow]
            params:
              apiVersion: apps/v1
              kind: Deployment
              namespace: "${{ inputs.namespace }}"
              name: "${{ inputs.deployment }}"
              labels: {windtunnel.io/remediated: "true"}
        """
      When I submit the workflow "grow-tenant" once per row, concurrently:
        | as    | namespace    | deployment   | replicas | add | cpu  | memory |
        | alpha | tenant-alpha | web-frontend | 5        | 2   | 50m  | 64Mi   |
        | beta  | tenant-beta  | web-frontend | 4        | 1   | 50m  | 64Mi   |
        | gamma | tenant-gamma | batch-worker | 5        | 2   | 100m | 128Mi  |
      Then the execution "alpha" ends Succeeded
      And the execution "beta" ends Failed
      And the execution "gamma" ends Failed
      And the step "grow" of the execution "beta" failed with an error saying "not enough room in the quota of namespace tenant-beta: pods 1 > 0 free"
      And the step "grow" of the execution "gamma" failed with an error saying "not enough room in the quota of namespace tenant-gamma: cpu 200m > 150m free"
      And the only deployments whose spec changed are:
        | namespace    | name         | replicas |
        | tenant-alpha | web-frontend | 5        |
      And the deployment "web-frontend" in "tenant-alpha" has 5 ready replicas
      And the quota of "tenant-alpha" shows 12 pods used
      And the quota of "tenant-beta" shows 10 pods used
      And the quota of "tenant-gamma" shows 4 pods used
      And the quota of "tenant-alpha" is not exceeded
      And the quota of "tenant-beta" is not exceeded
      And the quota of "tenant-gamma" is not exceeded

    Scenario: A tenant over its quota waits, throttled, while another tenant's workflow proceeds
      Given the MultiTenantDevelopment cluster
      And the deployments of every namespace are noted
      And the workflow:
        """
        name: grow-tenant-queued
        inputs:
          namespace: {type: string, required: true}
          deployment: {type: string, required: true}
          replicas: {type: integer, required: true}
          add: {type: integer, required: true}
          cpu: {type: string, required: true}
          memory: {type: string, required: true}
        retry: {max_attempts: 1}
        steps:
          - id: grow
            action: scale_deployment
            params: {namespace: "${{ inputs.namespace }}", name: "${{ inputs.deployment }}", replicas: "${{ inputs.replicas }}"}
            resources: {namespace: "${{ inputs.namespace }}", replicas: "${{ inputs.add }}", cpu: "${{ inputs.cpu }}", memory: "${{ inputs.memory }}"}
            on_insufficient: queue
        """
      When I submit the workflow "grow-tenant-queued" once per row, concurrently:
        | as    | namespace    | deployment   | replicas | add | cpu  | memory |
        | gamma | tenant-gamma | batch-worker | 5        | 2   | 100m | 128Mi  |
        | alpha | tenant-alpha | api-backend  | 6        | 2   | 100m | 128Mi  |
      Then the execution "alpha" ends Succeeded
      And the step "grow" of the execution "gamma" is still Pending
      And the only deployments whose spec changed are:
        | namespace    | name        | replicas |
        | tenant-alpha | api-backend | 6        |
      When an operator scales the deployment "job-scheduler" in "tenant-gamma" to 0
      Then the execution "gamma" ends Succeeded
      And the step "grow" of the execution "gamma" emitted step_throttled, step_started, step_finished
      And the step "grow" of the execution "alpha" emitted step_started, step_finished
      And the metric "workflow_engine_steps_throttled_total" with workflow=grow-tenant-queued is 1
      And the deployment "batch-worker" in "tenant-gamma" has 5 ready replicas
      And the deployment "api-backend" in "tenant-alpha" has 6 ready replicas
      And the quota of "tenant-gamma" shows 5 pods used
      And the quota of "tenant-gamma" is not exceeded
      And no pod of "batch-worker" in "tenant-gamma" was ever refused by the quota
