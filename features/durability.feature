Feature: Durable executions
  The engine writes every transition to its stores as it happens, answers history
  queries from them, and resumes from them after a crash without running a finished
  step again. A submission with an idempotency key runs once, also across a restart.
  An execution that fails for good waits in the dead-letter queue until it is replayed,
  once. Every rule runs on both stores: in memory and on a SQLite file.

  @BR-WORKFLOW-011
  Rule: Every transition is stored and the history is queryable

    Scenario Outline: Each transition is in the <store> store as soon as it happens
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: persist
        retry: {max_attempts: 3, backoff: fixed, delay: 5}
        steps:
          - id: fetch
            action: work
            params: {seconds: 10, outputs: {revision: 7}}
          - id: apply
            action: flaky
            depends_on: [fetch]
            params: {failures: 2, seconds: 1}
          - id: notify
            action: work
            depends_on: [apply]
            when: "steps.fetch.outputs.revision > 10"
        """
      When I submit the workflow "persist"
      And 4 virtual seconds pass
      Then the engine runs on the <store> store
      And the store holds the execution as Running
      And the store holds the step "fetch" as Running
      And the store holds the step "apply" as Pending
      When 8 virtual seconds pass
      Then the store holds the step "fetch" as Succeeded
      And the store holds the step "apply" as Running
      When I pause the execution
      Then the store holds the execution as Paused
      When I resume the execution
      Then the execution succeeds
      And the store recorded the execution as Pending, Running, Paused, Running, Succeeded
      And the store recorded the step "fetch" as Running, Succeeded
      And the store received these writes for the step "apply": Running, Running, Running, Succeeded
      And the store recorded the step "notify" as Skipped
      And the step "apply" made 3 attempts
      And the step "apply" waited 5, 5 seconds between its attempts
      And the step "fetch" output "revision" is 7
      And the stored execution matches what the engine reports

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario Outline: The <store> history lists executions by workflow and status
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: deploy
        retry: {max_attempts: 1}
        inputs:
          broken: {type: boolean, default: false}
        steps:
          - id: roll
            action: work
            params: {seconds: 5, fail: "${{ inputs.broken }}"}
        """
      And the workflow:
        """
        name: audit
        retry: {max_attempts: 1}
        steps:
          - id: scan
            action: work
            params: {seconds: 1}
        """
      When I submit the workflow "deploy"
      And I submit the workflow "deploy" with inputs:
        """
        broken: true
        """
      And I submit the workflow "deploy"
      And I submit the workflow "audit"
      And I submit the workflow "deploy" with inputs:
        """
        broken: true
        """
      Then the history of "deploy" holds these executions:
        | status    | count |
        | Succeeded | 2     |
        | Failed    | 2     |
        | Running   | 0     |
      And the history of "audit" holds these executions:
        | status    | count |
        | Succeeded | 1     |
        | Failed    | 0     |
      And the history lists 2 Failed executions of "deploy"

      Examples:
        | store  |
        | memory |
        | SQLite |

  @BR-WORKFLOW-012
  Rule: After a crash, executions resume without re-running completed steps

    Scenario Outline: On <store>, finished steps keep their results and an interrupted idempotent step runs again
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: migrate
        retry: {max_attempts: 1}
        steps:
          - id: snapshot
            action: work
            params: {seconds: 5, outputs: {token: snap-1}}
          - id: copy
            action: work
            depends_on: [snapshot]
            params: {seconds: 20}
          - id: switch
            action: work
            depends_on: [copy]
            params: {seconds: 5, outputs: {from: "${{ steps.snapshot.outputs.token }}"}}
        """
      When I submit the workflow "migrate"
      And 10 virtual seconds pass
      And the engine crashes and restarts
      Then the engine recovered the execution
      And the execution succeeds
      And the action of step "snapshot" ran 1 times
      And the action of step "copy" ran 2 times
      And the action of step "copy" ran at virtual seconds 5, 10
      And the action of step "switch" ran at virtual seconds 30
      And the step "switch" output "from" is "snap-1"
      And the step "copy" took 20 virtual seconds
      And the execution took 35 virtual seconds

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario Outline: On <store>, an interrupted step whose action is not idempotent fails as interrupted
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: charge
        retry: {max_attempts: 3, backoff: fixed, delay: 1}
        steps:
          - id: quote
            action: work
            params: {seconds: 5}
          - id: bill
            action: work_once
            depends_on: [quote]
            params: {seconds: 20}
          - id: receipt
            action: work
            depends_on: [bill]
        """
      When I submit the workflow "charge"
      And 10 virtual seconds pass
      And the engine crashes and restarts
      Then the engine recovered the execution
      And the execution ends Failed
      And the steps end as follows:
        | step    | status    | attempts |
        | quote   | Succeeded | 1        |
        | bill    | Failed    | 0        |
        | receipt | Cancelled | 0        |
      And the step "bill" ended with reason "interrupted"
      And the step "bill" failed with an error saying "not idempotent"
      And the action of step "quote" ran 1 times
      And the action of step "bill" ran 1 times
      And the action of step "receipt" ran 0 times
      And the execution is dead-lettered at step "bill"

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario Outline: On <store>, a paused execution stays paused after a restart, then resumes
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: maintain
        retry: {max_attempts: 1}
        steps:
          - id: drain
            action: work
            params: {seconds: 10}
          - id: patch
            action: work
            depends_on: [drain]
            params: {seconds: 5}
        """
      When I submit the workflow "maintain"
      And the step "drain" has started
      And I pause the execution
      And 20 virtual seconds pass
      And the engine crashes and restarts
      Then the engine recovered the execution
      And the execution is Paused
      When 40 virtual seconds pass
      Then the step "drain" is Succeeded right now
      And the step "patch" is Pending right now
      When I resume the execution
      Then the execution succeeds
      And the action of step "drain" ran 1 times
      And the action of step "patch" ran at virtual seconds 60

      Examples:
        | store  |
        | memory |
        | SQLite |

  @BR-WORKFLOW-013
  Rule: One idempotency key, one execution

    Scenario Outline: On <store>, a second submission with the same key returns the first execution
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: provision
        retry: {max_attempts: 1}
        steps:
          - id: create
            action: work_once
            params: {seconds: 10}
        """
      When I submit the workflow "provision" with idempotency key "req-42" as "first"
      And 3 virtual seconds pass
      And I submit the workflow "provision" with idempotency key "req-42" as "again"
      Then the executions "first" and "again" are the same execution
      And the execution succeeds
      And the engine ran 1 execution
      And the action of step "create" ran 1 times
      When I submit the workflow "provision" with idempotency key "req-42" as "late"
      Then the executions "first" and "late" are the same execution
      When I submit the workflow "provision" with idempotency key "req-43" as "other"
      Then the execution "other" ends Succeeded
      And the engine ran 2 executions
      And the action of step "create" ran 2 times

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario Outline: On <store>, the key still holds after the engine crashed and restarted
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: provision
        retry: {max_attempts: 1}
        steps:
          - id: create
            action: work
            params: {seconds: 2}
          - id: configure
            action: work
            depends_on: [create]
            params: {seconds: 10}
        """
      When I submit the workflow "provision" with idempotency key "req-42" as "first"
      And 5 virtual seconds pass
      And the engine crashes and restarts
      And I submit the workflow "provision" with idempotency key "req-42" as "again"
      Then the executions "first" and "again" are the same execution
      And the execution succeeds
      And the engine ran 1 execution
      And the action of step "create" ran 1 times
      When the engine crashes and restarts
      And I submit the workflow "provision" with idempotency key "req-42" as "late"
      Then the executions "first" and "late" are the same execution
      And the engine ran 1 execution
      And the action of step "create" ran 1 times

      Examples:
        | store  |
        | memory |
        | SQLite |

  @BR-WORKFLOW-014
  Rule: Executions that fail for good are dead-lettered and replayed once

    Scenario Outline: On <store>, a failed execution is dead-lettered and its replay succeeds, once
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: grow
        retry: {max_attempts: 2, backoff: fixed, delay: 5}
        steps:
          - id: check
            action: work
            params: {seconds: 1}
          - id: scale
            action: scale_deployment
            depends_on: [check]
            params: {namespace: default, name: user-service, replicas: 10}
          - id: report
            action: work
            depends_on: [scale]
        """
      And the API server fails the next 2 patch requests for deployments with 500
      When I submit the workflow "grow"
      Then the execution ends Failed
      And the execution is dead-lettered at step "scale"
      And the dead letter says "500" after 2 attempts
      And the step "report" is Cancelled
      And the deployment "user-service" in "default" has 8 ready replicas
      When I replay the dead-lettered execution
      Then the execution succeeds
      And the replay is linked to the original execution
      And the deployment "user-service" in "default" has 10 ready replicas
      And the action of step "check" ran 2 times
      And the action of step "report" ran 1 times
      And the dead-letter queue is empty
      And replaying the original execution again is refused
      And the engine ran 2 executions

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario Outline: On <store>, a dead letter survives a restart and the new engine replays it
      Given the engine keeps its state in <store>
      And the HighLoadProduction cluster
      And the workflow:
        """
        name: grow
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: default, name: redis-cache, replicas: 4}
        """
      And the API server fails the next 1 patch requests for deployments with 503
      When I submit the workflow "grow"
      Then the execution is dead-lettered at step "scale"
      And the dead letter says "503" after 1 attempt
      When the engine crashes and restarts
      Then the execution is dead-lettered at step "scale"
      When I replay the dead-lettered execution
      Then the execution succeeds
      And the replay is linked to the original execution
      And the deployment "redis-cache" in "default" has 4 ready replicas
      And replaying the original execution again is refused

      Examples:
        | store  |
        | memory |
        | SQLite |

    Scenario: Executions that did not fail for good are not dead-lettered
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: tidy
        retry: {max_attempts: 3, backoff: fixed, delay: 2}
        failure_policy: continue
        steps:
          - id: sweep
            action: flaky
            params: {failures: 2}
          - id: optional
            action: work
            params: {fail: true}
            allow_failure: true
          - id: slow
            action: work
            params: {seconds: 30}
        """
      And the workflow:
        """
        name: partial
        retry: {max_attempts: 1}
        failure_policy: continue
        steps:
          - id: good
            action: work
          - id: bad
            action: work
            params: {fail: true}
        """
      When I submit the workflow "tidy" as "succeeded"
      And I submit the workflow "partial" as "partial"
      And I submit the workflow "tidy" as "cancelled"
      And I cancel the execution
      Then the execution "succeeded" ends Succeeded
      And the execution "partial" ends PartiallySucceeded
      And the execution "cancelled" ends Cancelled
      And the dead-letter queue is empty
