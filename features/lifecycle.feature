Feature: Lifecycle control and dry runs
  An operator can pause an execution (running steps finish, nothing new starts), resume
  it, cancel it (running steps stop at once, the rest never start) and cancel it with a
  rollback. A dry run validates every step and calls only the actions' dry-run paths:
  the cluster is left as it was, and actions without a dry-run path are reported, not
  called.

  @BR-WORKFLOW-009
  Rule: Pause, resume and cancel

    Background:
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: release
        retry: {max_attempts: 1}
        steps:
          - id: build
            action: work
            params: {seconds: 10}
          - id: test
            action: work
            depends_on: [build]
            params: {seconds: 5}
          - id: lint
            action: work
            depends_on: [build]
            params: {seconds: 3}
          - id: publish
            action: work
            depends_on: [test, lint]
            params: {seconds: 2}
        """

    Scenario: A paused execution lets its running step finish and starts nothing new until resumed
      When I submit the workflow "release"
      And the step "build" has started
      And I pause the execution
      And 100 virtual seconds pass
      Then the execution is Paused
      And the store holds the execution as Paused
      And the step "build" is Succeeded right now
      And the step "test" is Pending right now
      And the step "lint" is Pending right now
      And the action of step "test" ran 0 times
      When I resume the execution
      Then the execution succeeds
      And the step "build" took 10 virtual seconds
      And the step "test" started 90 virtual seconds after "build" finished
      And the step "lint" started 90 virtual seconds after "build" finished
      And the action of step "test" ran at virtual seconds 100
      And the step "publish" started 0 virtual seconds after "test" finished
      And the execution took 107 virtual seconds
      And the execution emitted execution_submitted, execution_started, execution_paused, execution_resumed, execution_finished
      And the store recorded the execution as Pending, Running, Paused, Running, Succeeded

    Scenario: Each pause holds back the next steps until the execution is resumed
      When I submit the workflow "release"
      And 4 virtual seconds pass
      And I pause the execution
      And 30 virtual seconds pass
      And I resume the execution
      And 1 virtual seconds pass
      And I pause the execution
      And 60 virtual seconds pass
      Then the execution is Paused
      And the step "test" is Succeeded right now
      And the step "lint" is Succeeded right now
      And the step "publish" is Pending right now
      When I resume the execution
      Then the execution succeeds
      And the action of step "build" ran at virtual seconds 0
      And the action of step "test" ran at virtual seconds 34
      And the action of step "lint" ran at virtual seconds 34
      And the action of step "publish" ran at virtual seconds 95
      And the execution took 97 virtual seconds

    Scenario: Cancelling stops the running step at once and never starts the rest
      When I submit the workflow "release"
      And 3 virtual seconds pass
      And I cancel the execution
      Then the execution ends Cancelled
      And the steps end as follows:
        | step    | status    |
        | build   | Cancelled |
        | test    | Cancelled |
        | lint    | Cancelled |
        | publish | Cancelled |
      And the step "build" took 3 virtual seconds
      And the action of step "build" ran 1 times
      And the action of step "test" ran 0 times
      And the action of step "lint" ran 0 times
      And the execution took 3 virtual seconds
      And no compensation ran

    Scenario: A paused execution can be cancelled
      When I submit the workflow "release"
      And the step "build" has started
      And I pause the execution
      And 20 virtual seconds pass
      And I cancel the execution
      Then the execution ends Cancelled
      And the steps end as follows:
        | step    | status    |
        | build   | Succeeded |
        | test    | Cancelled |
        | lint    | Cancelled |
        | publish | Cancelled |
      And the action of step "test" ran 0 times
      And the execution took 20 virtual seconds

  @BR-WORKFLOW-009
  Rule: Cancel with rollback compensates the finished steps in reverse order

    Scenario: Cancelling with rollback undoes the completed steps, newest first
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: rollout
        retry: {max_attempts: 1}
        steps:
          - id: reserve
            action: work
            params: {seconds: 5}
            compensation: {action: work, params: {seconds: 2}}
          - id: deploy
            action: work
            depends_on: [reserve]
            params: {seconds: 5}
            compensation: {action: work, params: {seconds: 3}}
          - id: verify
            action: work
            depends_on: [deploy]
            params: {seconds: 60}
            compensation: {action: work, params: {seconds: 1}}
        """
      When I submit the workflow "rollout"
      And 20 virtual seconds pass
      And I cancel the execution and roll it back
      Then the execution ends RolledBack
      And the steps end as follows:
        | step    | status    |
        | reserve | Succeeded |
        | deploy  | Succeeded |
        | verify  | Cancelled |
      And the compensations ran in the order deploy, reserve
      And the action of step "deploy" ran at virtual seconds 5, 20
      And the action of step "reserve" ran at virtual seconds 0, 23
      And the action of step "verify" ran 1 times
      And the execution took 25 virtual seconds

  @BR-WORKFLOW-023
  Rule: A dry run changes nothing in the cluster

    Scenario Outline: A dry run of <action> leaves every object of the cluster as it was
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: dry-<action>
        retry: {max_attempts: 1}
        steps:
          - id: act
            action: <action>
            params: <params>
        """
      And I note the cluster's objects
      When I dry-run the workflow "dry-<action>"
      Then the execution succeeds
      And the step "act" output "dry_run" is true
      And the execution is recorded as a dry run
      And no object in the cluster changed

      Examples:
        | action           | params                                                                                              |
        | scale_deployment | {namespace: default, name: api-gateway, replicas: 8}                                                |
        | rollout_restart  | {namespace: default, name: api-gateway, wait: true}                                                 |
        | patch_resources  | {namespace: default, name: api-gateway, containers: {api-gateway: {limits: {cpu: "1"}}}}            |
        | label            | {apiVersion: apps/v1, kind: Deployment, namespace: default, name: api-gateway, labels: {team: sre}} |
        | cordon_node      | {name: prod-node-1}                                                                                 |
        | drain_node       | {name: prod-node-1}                                                                                 |

    Scenario: A dry-run scale reports what it would do and leaves the replicas as they were
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: grow-gateway
        retry: {max_attempts: 1}
        steps:
          - id: grow
            action: scale_deployment
            params: {namespace: default, name: api-gateway, replicas: 9}
          - id: fence
            action: cordon_node
            depends_on: [grow]
            params: {name: prod-node-2}
        """
      When I dry-run the workflow "grow-gateway"
      Then the execution succeeds
      And the step "grow" output "previous_replicas" is 5
      And the step "grow" output "replicas" is 9
      And the step "grow" output "dry_run" is true
      And the step "fence" output "unschedulable" is true
      When the cluster settles
      Then the deployment "api-gateway" in "default" has 5 ready replicas
      And the pods of "api-gateway" in "default" are 5 Running and Ready
      And the node "prod-node-2" is schedulable
      When I submit the workflow "grow-gateway"
      Then the execution succeeds
      And the deployment "api-gateway" in "default" has 9 ready replicas
      And the node "prod-node-2" is unschedulable

    Scenario: A dry run that would fail reports the failure, changes nothing and is not dead-lettered
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: shrink-missing
        retry: {max_attempts: 1}
        steps:
          - id: shrink
            action: scale_deployment
            params: {namespace: default, name: no-such-app, replicas: 1}
          - id: after
            action: work
            depends_on: [shrink]
        """
      And I note the cluster's objects
      When I dry-run the workflow "shrink-missing"
      Then the execution ends Failed
      And the step "shrink" failed with an error saying "not found"
      And the step "after" is Cancelled
      And the execution is recorded as a dry run
      And the dead-letter queue is empty
      And no object in the cluster changed

  @BR-WORKFLOW-023
  Rule: Actions without a dry-run path are reported, not called

    Scenario: A dry run calls only dry-run paths and reports the other calls
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: mixed
        retry: {max_attempts: 3, backoff: fixed, delay: 5}
        steps:
          - id: prepare
            action: work
            params: {seconds: 30, outputs: {ready: true}}
          - id: probe
            action: flaky
            depends_on: [prepare]
            params: {failures: 1, seconds: 4}
        """
      When I dry-run the workflow "mixed"
      Then the execution succeeds
      And the step "prepare" output "dry_run" is true
      And the step "probe" reported the call it would have made with {"failures": 1, "seconds": 4}
      And the step "probe" output "action" is "flaky"
      And the step "probe" made 1 attempt
      And the action of step "prepare" ran 0 times
      And the action of step "probe" ran 0 times
      And the execution took 0 virtual seconds
      When I submit the workflow "mixed"
      Then the execution succeeds
      And the action of step "prepare" ran 1 times
      And the action of step "probe" ran 2 times
