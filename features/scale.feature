Feature: Orchestration at production scale
  The engine runs hundreds of workflows at once and workflows of a hundred steps,
  and admits steps that declare the resources they need only when the cluster and the
  namespace quota have room for them, so nothing it starts over-commits the cluster.

  @BR-WORKFLOW-032
  Rule: Hundreds of concurrent workflows all succeed, each with its own id and data

    Scenario Outline: <count> workflows submitted at once run concurrently without cross-talk
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: echo
        inputs:
          index: {type: integer, required: true}
          token: {type: string, required: true}
        retry: {max_attempts: 1}
        steps:
          - id: read
            action: work
            params: {seconds: 2, outputs: {index: "${{ inputs.index }}", token: "${{ inputs.token }}"}}
          - id: left
            action: work
            depends_on: [read]
            params: {seconds: 3, outputs: {token: "${{ steps.read.outputs.token }}"}}
          - id: right
            action: work
            depends_on: [read]
            params: {seconds: 3, outputs: {index: "${{ steps.read.outputs.index }}"}}
          - id: echo
            action: work
            depends_on: [left, right]
            params:
              seconds: 1
              outputs: {index: "${{ steps.right.outputs.index }}", token: "${{ steps.left.outputs.token }}"}
        """
      When I submit <count> executions of the workflow "echo" concurrently
      Then all <count> executions succeed
      And the execution ids are unique
      And each execution's step "read" returned its own input "token"
      And each execution's step "echo" returned its own input "token"
      And each execution's step "echo" returned its own input "index"
      And the history lists <count> Succeeded executions of "echo"
      And at most 200 steps were running at once across all executions, and 200 were at the peak

      Examples:
        | count |
        | 200   |
        | 250   |

  @BR-WORKFLOW-033
  Rule: A hundred-step workflow runs its steps in dependency order with the right skips

    Scenario: A 100-step chain with a condition on every 5th step skips exactly those 20
      Given the HighLoadProduction cluster
      And a workflow "long" of 100 chained steps where every 5th step is skipped
      When I submit the workflow "long"
      Then the execution succeeds
      And every 5th step of the chain is Skipped and the others Succeeded
      And every step started after all of its dependencies finished
      And at most 1 steps were running at once across all executions, and 1 were at the peak
      And the execution took 80 virtual seconds
      And the metric "workflow_engine_steps_total" with workflow=long,status=Skipped is 20
      And the metric "workflow_engine_steps_total" with workflow=long,status=Succeeded is 80
      And the stored execution matches what the engine reports

    Scenario: With its conditions true, the 100-step chain runs every step in order
      Given the HighLoadProduction cluster
      And a workflow "long" of 100 chained steps where every 5th step is skipped
      When I submit the workflow "long" with inputs:
        """
        run_conditionals: true
        """
      And the execution finishes
      Then the execution succeeds
      And every step started after all of its dependencies finished
      And the execution took 100 virtual seconds
      And the metric "workflow_engine_steps_total" with workflow=long,status=Succeeded is 100

  @BR-WORKFLOW-034
  Rule: Steps that declare resources start only when the cluster and the quota have room

    Scenario: A scale-up the namespace quota has no room for fails at once, saying what is short
      Given the ResourceConstrained cluster
      And the workflow:
        """
        name: grow-api
        retry: {max_attempts: 3, backoff: fixed, delay: 1}
        steps:
          - id: grow
            action: scale_deployment
            params: {namespace: default, name: api, replicas: 4, timeout: 300}
            resources: {namespace: default, replicas: 1, cpu: 100m, memory: 128Mi}
            on_insufficient: fail
        """
      When I submit the workflow "grow-api"
      Then the execution ends Failed
      And the step "grow" failed with an error saying "cpu=100m, memory=128Mi, pods=1 in namespace default: not enough room in the quota of namespace default: cpu 100m > 0 free, pods 1 > 0 free"
      And the step "grow" made 0 attempts
      And the execution took 0 virtual seconds
      And the deployment "api" in "default" has 3 ready replicas
      And the quota of "default" shows 5 pods used
      And no pod of "api" in "default" was ever refused by the quota

    Scenario: A scale-up waits, throttled, until the quota has room, and then runs
      Given the ResourceConstrained cluster
      And the workflow:
        """
        name: grow-api
        retry: {max_attempts: 3, backoff: fixed, delay: 1}
        steps:
          - id: grow
            action: scale_deployment
            params: {namespace: default, name: api, replicas: 4, timeout: 300}
            resources: {namespace: default, replicas: 1, cpu: 100m, memory: 128Mi}
            on_insufficient: queue
        """
      When I submit the workflow "grow-api"
      And 60 virtual seconds pass
      Then the step "grow" is still Pending
      And the deployment "api" in "default" has 3 ready replicas
      When an operator scales the deployment "worker" in "default" to 1
      Then the execution succeeds
      And the step "grow" emitted step_throttled, step_started, step_finished
      And the metric "workflow_engine_steps_throttled_total" with workflow=grow-api is 1
      And the step "grow" made 1 attempt
      And the step "grow" output "ready_replicas" is 4
      And the deployment "api" in "default" has 4 ready replicas
      And the quota of "default" shows 5 pods used
      And the quota of "default" is not exceeded
      And no pod of "api" in "default" was ever refused by the quota

    Scenario: Concurrent scale-ups are admitted as the nodes have room, never over-committing them
      Given the ResourceConstrained cluster
      And the deployments in "batch":
        | name  | replicas | cpu  | memory |
        | job-a | 0        | 100m | 64Mi   |
        | job-b | 0        | 100m | 64Mi   |
        | job-c | 0        | 100m | 64Mi   |
        | job-d | 0        | 100m | 64Mi   |
      And the workflow:
        """
        name: burst
        retry: {max_attempts: 1}
        steps:
          - id: grow-a
            action: scale_deployment
            params: {namespace: batch, name: job-a, replicas: 1}
            resources: {namespace: batch, replicas: 1, cpu: 100m, memory: 64Mi}
          - id: grow-b
            action: scale_deployment
            params: {namespace: batch, name: job-b, replicas: 1}
            resources: {namespace: batch, replicas: 1, cpu: 100m, memory: 64Mi}
          - id: grow-c
            action: scale_deployment
            params: {namespace: batch, name: job-c, replicas: 1}
            resources: {namespace: batch, replicas: 1, cpu: 100m, memory: 64Mi}
          - id: grow-d
            action: scale_deployment
            params: {namespace: batch, name: job-d, replicas: 1}
            resources: {namespace: batch, replicas: 1, cpu: 100m, memory: 64Mi}
          - id: make-room
            action: scale_deployment
            depends_on: [grow-a]
            params: {namespace: default, name: worker, replicas: 0}
        """
      When I submit the workflow "burst"
      Then the execution succeeds
      And the steps "grow-a" and "grow-c" ran at the same time
      And the step "grow-d" emitted step_throttled, step_started, step_finished
      And the step "grow-d" started after "make-room" finished
      And the metric "workflow_engine_steps_throttled_total" with workflow=burst is 1
      And the pods of "job-d" in "batch" are 1 Running and Ready
      And no pod of "job-d" in "batch" ever waited for room on a node
      And no node has more pod requests than it can allocate

    Scenario: A quota that limits only pods admits by pods, and never holds back CPU or memory
      Given the ResourceConstrained cluster
      And the namespace "team" with the quota:
        | resource | hard |
        | pods     | 3    |
      And the deployments in "team":
        | name  | replicas | cpu | memory |
        | job-x | 0        | 10m | 32Mi   |
        | job-y | 0        | 10m | 32Mi   |
      And the workflow:
        """
        name: grow-team
        retry: {max_attempts: 1}
        steps:
          - id: grow-x
            action: scale_deployment
            params: {namespace: team, name: job-x, replicas: 2}
            resources: {namespace: team, replicas: 2, cpu: 10m, memory: 32Mi}
            on_insufficient: fail
          - id: grow-y
            action: scale_deployment
            depends_on: [grow-x]
            params: {namespace: team, name: job-y, replicas: 2}
            resources: {namespace: team, replicas: 2, cpu: 10m, memory: 32Mi}
            on_insufficient: fail
        """
      When I submit the workflow "grow-team"
      Then the execution ends Failed
      And the step "grow-x" is Succeeded
      And the step "grow-y" failed with an error saying "not enough room in the quota of namespace team: pods 2 > 1 free"
      And the deployment "job-x" in "team" has 2 ready replicas
      And the quota of "team" shows 2 pods used
      And no pod of "job-y" in "team" was ever refused by the quota
