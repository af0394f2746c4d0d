Feature: Failure handling
  A step that fails, runs too long or breaks a post-condition meets the template's
  policies: the engine retries it with backoff, stops or goes on, rolls back, trips
  circuit breakers. Each scenario checks what really happened, in virtual time: the
  attempts made and the waits between them, which steps started and which calls
  reached their action, when each compensation ran and in which order.

  Background:
    Given the HighLoadProduction cluster

  @BR-WORKFLOW-007
  Rule: fail_fast starts nothing new after a failure; continue lets independent branches go on

    Scenario: Under fail_fast the running step finishes, nothing new starts, the rest is Cancelled
      # Two slots: "queued" waits for one, and gets it when "boom" fails at 5 s. Under
      # fail_fast it must not start; "slow" was running and must finish.
      Given the workflow:
        """
        name: fail-fast
        failure_policy: fail_fast
        max_concurrency: 2
        retry: {max_attempts: 1}
        steps:
          - id: boom
            action: work
            params: {seconds: 5, fail: true, message: disk full}
          - id: slow
            action: work
            params: {seconds: 10}
          - id: queued
            action: work
            params: {seconds: 1}
          - id: after_slow
            action: work
            depends_on: [slow]
            params: {seconds: 1}
          - id: after_boom
            action: work
            depends_on: [boom]
            trigger_rule: all_done
            params: {seconds: 1}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the steps end as follows:
        | step       | status    | attempts |
        | boom       | Failed    | 1        |
        | slow       | Succeeded | 1        |
        | queued     | Cancelled | 0        |
        | after_slow | Cancelled | 0        |
        | after_boom | Cancelled | 0        |
      And the step "slow" ended 10 virtual seconds into the execution
      And the action of step "queued" ran 0 times
      And the action of step "after_slow" ran 0 times
      And the action of step "after_boom" ran 0 times
      And the execution took 10 virtual seconds
      And the execution failed with an error saying "step 'boom' Failed: PermanentError: disk full"

    Scenario: Under continue independent branches go on and the execution partially succeeds
      Given the workflow:
        """
        name: keep-going
        failure_policy: continue
        max_concurrency: 2
        retry: {max_attempts: 1}
        steps:
          - id: boom
            action: work
            params: {seconds: 5, fail: true}
          - id: slow
            action: work
            params: {seconds: 10}
          - id: queued
            action: work
            params: {seconds: 1}
          - id: after_slow
            action: work
            depends_on: [slow]
            params: {seconds: 1}
          - id: after_boom
            action: work
            depends_on: [boom]
            params: {seconds: 1}
        """
      When I submit the workflow
      Then the execution ends PartiallySucceeded
      And the steps end as follows:
        | step       | status    | attempts |
        | boom       | Failed    | 1        |
        | slow       | Succeeded | 1        |
        | queued     | Succeeded | 1        |
        | after_slow | Succeeded | 1        |
        | after_boom | Skipped   | 0        |
      And the step "queued" started 5 virtual seconds into the execution
      And the step "after_slow" started after "slow" finished
      And the action of step "after_boom" ran 0 times
      And the execution took 11 virtual seconds

    Scenario: Under continue an execution in which nothing succeeded ends Failed
      # One slot: "second" starts only after "first" failed, which continue allows.
      Given the workflow:
        """
        name: all-fail
        failure_policy: continue
        max_concurrency: 1
        retry: {max_attempts: 1}
        steps:
          - id: first
            action: work
            params: {seconds: 1, fail: true}
          - id: second
            action: work
            params: {seconds: 2, fail: true}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the step "first" is Failed
      And the step "second" is Failed
      And the step "second" started 1 virtual seconds into the execution
      And the action of step "second" ran 1 times

    Scenario Outline: A step with allow_failure <allowed> <effect>
      # One slot: "next" waits until "optional" has failed, then fail_fast decides.
      Given the workflow:
        """
        name: optional-<allowed>
        failure_policy: fail_fast
        max_concurrency: 1
        retry: {max_attempts: 1}
        steps:
          - id: optional
            action: work
            allow_failure: <allowed>
            params: {seconds: 2, fail: true}
          - id: next
            action: work
            params: {seconds: 3}
          - id: cleanup
            action: work
            depends_on: [optional]
            trigger_rule: all_done
            params: {seconds: 1}
        """
      When I submit the workflow
      Then the execution ends <execution>
      And the steps end as follows:
        | step     | status    |
        | optional | Failed    |
        | next     | <next>    |
        | cleanup  | <cleanup> |
      And the action of step "next" ran <next_calls> times

      Examples:
        | allowed | effect                                           | execution | next      | cleanup   | next_calls |
        | true    | neither stops fail_fast nor fails the execution  | Succeeded | Succeeded | Succeeded | 1          |
        | false   | stops fail_fast and fails the execution          | Failed    | Cancelled | Cancelled | 0          |

  @BR-WORKFLOW-008
  Rule: Attempts and the waits between them follow the retry policy; only chosen errors are retried

    Scenario Outline: <backoff> backoff from <delay> s capped at <max_delay> s waits <waits> s
      Given the workflow:
        """
        name: backoff-<backoff>
        steps:
          - id: call
            action: flaky
            params: {failures: 4}
            retry: {max_attempts: 5, backoff: <backoff>, delay: <delay>, multiplier: 3, max_delay: <max_delay>}
        """
      When I submit the workflow
      Then the execution succeeds
      And the step "call" made 5 attempts
      And the action of step "call" ran 5 times
      And the step "call" waited <waits> seconds between its attempts
      And the step "call" took <total> virtual seconds

      Examples:
        | backoff     | delay | max_delay | waits       | total |
        | fixed       | 4     | 300       | 4, 4, 4, 4  | 16    |
        | linear      | 2     | 300       | 2, 4, 6, 8  | 20    |
        | linear      | 2     | 5         | 2, 4, 5, 5  | 16    |
        | exponential | 1     | 300       | 1, 3, 9, 27 | 40    |
        | exponential | 1     | 10        | 1, 3, 9, 10 | 23    |

    Scenario: A step that keeps failing gives up after max_attempts
      Given the workflow:
        """
        name: gives-up
        steps:
          - id: call
            action: flaky
            params: {failures: 10}
            retry: {max_attempts: 3, backoff: fixed, delay: 5}
          - id: after
            action: work
            depends_on: [call]
        """
      When I submit the workflow
      Then the execution ends Failed
      And the step "call" is Failed
      And the step "call" made 3 attempts
      And the action of step "call" ran 3 times
      And the step "call" waited 5, 5 seconds between its attempts
      And the step "call" failed with an error saying "flaky failure (attempt 3)"
      And the step "after" is Cancelled

    Scenario: Jitter spreads each wait within its band around the backoff delay
      Given the workflow:
        """
        name: jittery
        steps:
          - id: call
            action: flaky
            params: {failures: 3}
            retry: {max_attempts: 4, backoff: exponential, delay: 2, multiplier: 2, jitter: 0.25}
        """
      When I submit the workflow
      Then the execution succeeds
      And the step "call" made 4 attempts
      And the step "call" waited 2, 4, 8 seconds, each within 25% jitter, between its attempts

    Scenario Outline: retry_on <retry_on> <decision> a <kind> failure
      # "paced": attempt n waits seconds[n-1] and fails if n is in fail_on; the step's
      # timeout is 3 s, so a 10 s attempt times out.
      Given the test action "paced", whose attempts take the listed seconds
      And the workflow:
        """
        name: retry-on
        steps:
          - id: call
            action: paced
            params: <params>
            timeout: 3
            retry: {max_attempts: 2, backoff: fixed, delay: 1, retry_on: <retry_on>}
        """
      When I submit the workflow
      Then the step "call" is <status>
      And the step "call" made <attempts> attempts
      And the action of step "call" ran <attempts> times

      Examples:
        | retry_on             | decision    | kind          | params                                         | attempts | status    |
        | [retryable, timeout] | retries     | retryable     | {seconds: [1], fail_on: [1]}                   | 2        | Succeeded |
        | [retryable, timeout] | retries     | timeout       | {seconds: [10, 1]}                             | 2        | Succeeded |
        | [retryable, timeout] | gives up on | non-retryable | {seconds: [1], fail_on: [1], retryable: false} | 1        | Failed    |
        | [retryable]          | gives up on | timeout       | {seconds: [10, 1]}                             | 1        | TimedOut  |
        | [timeout]            | retries     | timeout       | {seconds: [10, 1]}                             | 2        | Succeeded |
        | [timeout]            | gives up on | retryable     | {seconds: [1], fail_on: [1]}                   | 1        | Failed    |
        | [any]                | retries     | non-retryable | {seconds: [1], fail_on: [1], retryable: false} | 2        | Succeeded |

    Scenario: A non-retryable error is not retried, whatever attempts are left
      Given the workflow:
        """
        name: not-retryable
        steps:
          - id: call
            action: flaky
            params: {failures: 1, retryable: false}
            retry: {max_attempts: 5, backoff: fixed, delay: 1}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the step "call" made 1 attempt
      And the action of step "call" ran 1 times
      And the step "call" failed with an error saying "PermanentError: flaky failure (attempt 1)"

  @BR-WORKFLOW-010
  Rule: A failed execution with rollback_on_failure undoes its succeeded steps in reverse dependency order

    Scenario: The diamond is compensated c, b, then a, one at a time, and ends RolledBack
      # a -> b, a -> c, (b, c) -> d; d fails at 6 s. Every compensation takes 2 s.
      Given the workflow:
        """
        name: diamond
        rollback_on_failure: true
        retry: {max_attempts: 1}
        steps:
          - id: a
            action: work
            params: {seconds: 1}
            compensation: {action: work, params: {seconds: 2}}
          - id: b
            action: work
            depends_on: [a]
            params: {seconds: 2}
            compensation: {action: work, params: {seconds: 2}}
          - id: c
            action: work
            depends_on: [a]
            params: {seconds: 4}
            compensation: {action: work, params: {seconds: 2}}
          - id: d
            action: work
            depends_on: [b, c]
            params: {seconds: 1, fail: true, message: cannot finish}
            compensation: {action: work, params: {seconds: 2}}
          - id: e
            action: work
            depends_on: [d]
            compensation: {action: work, params: {seconds: 2}}
        """
      When I submit the workflow
      Then the execution ends RolledBack
      And the compensations ran in the order c, b, a
      And the compensation of step "c" started 6 virtual seconds into the execution
      And the compensation of step "b" started 8 virtual seconds into the execution
      And the compensation of step "a" started 10 virtual seconds into the execution
      And the execution took 12 virtual seconds
      And the action of step "a" ran 2 times
      And the action of step "d" ran 1 times
      And the action of step "e" ran 0 times
      And the store recorded the execution as Pending, Running, RollingBack, RolledBack

    Scenario: A compensation that fails stops the rollback and the execution ends Failed naming it
      Given the workflow:
        """
        name: diamond-undo-fails
        rollback_on_failure: true
        retry: {max_attempts: 1}
        steps:
          - id: a
            action: work
            params: {seconds: 1}
            compensation: {action: work, params: {seconds: 2}}
          - id: b
            action: work
            depends_on: [a]
            params: {seconds: 2}
            compensation: {action: work, params: {seconds: 2, fail: true, message: cannot undo b}}
          - id: c
            action: work
            depends_on: [a]
            params: {seconds: 4}
            compensation: {action: work, params: {seconds: 2}}
          - id: d
            action: work
            depends_on: [b, c]
            params: {seconds: 1, fail: true}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the execution failed with an error saying "compensation of step 'b' failed"
      And the compensations ran in the order c, b
      And the compensation of step "c" is Succeeded
      And the compensation of step "b" is Failed
      And the action of step "a" ran 1 times
      And the execution took 10 virtual seconds

    Scenario: Without rollback_on_failure nothing is compensated
      Given the workflow:
        """
        name: no-rollback
        retry: {max_attempts: 1}
        steps:
          - id: a
            action: work
            params: {seconds: 1}
            compensation: {action: work, params: {seconds: 2}}
          - id: d
            action: work
            depends_on: [a]
            params: {seconds: 1, fail: true}
        """
      When I submit the workflow
      Then the execution ends Failed
      And no compensation ran
      And the action of step "a" ran 1 times

  @BR-WORKFLOW-015
  Rule: A failing target opens its breaker; calls fail fast until the cool-down, then a probe decides

    Background:
      Given circuit breakers that open after 3 failures and cool down for 30 seconds

    Scenario: A step's retries wait out the cool-down, and the probe closes the breaker
      # Attempts 1-3 fail at 0, 1, 2 s: the breaker opens at 2 s. Attempt 4 (3 s) is
      # refused without a call and waits for the probe slot at 32 s; attempt 5 probes.
      Given the workflow:
        """
        name: breaker-retries
        steps:
          - id: call
            action: flaky
            params: {failures: 4}
            retry: {max_attempts: 6, backoff: fixed, delay: 1}
        """
      When I submit the workflow
      And 10 virtual seconds pass
      Then the breaker of "flaky" reads open
      And the action of step "call" ran 3 times
      When the execution finishes
      Then the execution succeeds
      And the step "call" made 5 attempts
      And the action of step "call" was called on attempts 1, 2, 3, 5
      And the step "call" waited 1, 1, 1, 29 seconds between its attempts
      And the breaker of "flaky" reads closed
      And the breaker of "flaky" went open, half_open, closed

    Scenario: A failed probe opens the breaker again
      Given the workflow:
        """
        name: breaker-probe-fails
        steps:
          - id: call
            action: flaky
            params: {failures: 10}
            retry: {max_attempts: 5, backoff: fixed, delay: 1}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the action of step "call" was called on attempts 1, 2, 3, 5
      And the step "call" waited 1, 1, 1, 29 seconds between its attempts
      And the step "call" failed with an error saying "flaky failure (attempt 5)"
      And the breaker of "flaky" reads open
      And the breaker of "flaky" went open, half_open, open

    Scenario: While open, other executions fail fast without calling the target
      Given the workflow:
        """
        name: failing
        steps:
          - id: call
            action: flaky
            params: {failures: 99}
            retry: {max_attempts: 3, backoff: fixed, delay: 1}
        """
      And the workflow:
        """
        name: healthy
        steps:
          - id: check
            action: flaky
            params: {failures: 0}
            retry: {max_attempts: 1}
        """
      When I submit the workflow "failing" as "tripping"
      And the execution finishes
      Then the breaker of "flaky" reads open
      When 10 virtual seconds pass
      And I submit the workflow "healthy" as "while open"
      Then the execution ends Failed
      And the step "check" failed with an error saying "circuit breaker 'flaky' is open"
      And the action of step "check" ran 0 times
      When 25 virtual seconds pass
      Then the breaker of "flaky" reads half_open
      When I submit the workflow "healthy" as "after the cool-down"
      Then the execution succeeds
      And the action of step "check" ran 1 times
      And the breaker of "flaky" reads closed
      And the breaker of "flaky" went open, half_open, closed

  @BR-WORKFLOW-016
  Rule: An attempt past the step timeout is cancelled; a workflow past its deadline stops

    Background:
      Given the test action "paced", whose attempts take the listed seconds

    Scenario: Attempts past the step timeout are cut off and retried until one finishes in time
      Given the workflow:
        """
        name: step-timeout
        steps:
          - id: probe
            action: paced
            params: {seconds: [10, 10, 2]}
            timeout: 3
            retry: {max_attempts: 3, backoff: fixed, delay: 5}
        """
      When I submit the workflow
      Then the execution succeeds
      And the step "probe" made 3 attempts
      And the attempts of step "probe" lasted 3, 3, 2 virtual seconds
      And the action calls of step "probe" lasted 3, 3, 2 virtual seconds
      And the step "probe" waited 5, 5 seconds between its attempts
      And the step "probe" took 18 virtual seconds

    Scenario Outline: A step whose last attempt <last> ends <status>
      Given the workflow:
        """
        name: last-attempt
        steps:
          - id: probe
            action: paced
            params: {seconds: <seconds>, fail_on: <fail_on>}
            timeout: 3
            retry: {max_attempts: 2, backoff: fixed, delay: 1}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the step "probe" is <status>
      And the attempts of step "probe" lasted <lasted> virtual seconds
      And the action calls of step "probe" lasted <lasted> virtual seconds
      And the step "probe" failed with an error saying "<error>"

      Examples:
        | last                                     | seconds  | fail_on | lasted | status   | error                                     |
        | timed out, as the first did              | [10, 10] | []      | 3, 3   | TimedOut | attempt 2 exceeded the step timeout of 3 |
        | timed out after a failure                | [1, 10]  | [1]     | 1, 3   | TimedOut | attempt 2 exceeded the step timeout of 3 |
        | failed after a timeout                   | [10, 1]  | [2]     | 3, 1   | Failed   | paced failure (attempt 2)                 |

    Scenario: The workflow timeout stops everything: running steps TimedOut, unstarted Cancelled
      # Deadline 20 s. At 20 s: "long" and "third" run, "retrying" waits out a backoff,
      # "never" waits for "third".
      Given the workflow:
        """
        name: deadline
        timeout: 20
        retry: {max_attempts: 1}
        steps:
          - id: long
            action: paced
            params: {seconds: [30]}
            timeout: 60
          - id: first
            action: paced
            params: {seconds: [5]}
          - id: second
            action: paced
            depends_on: [first]
            params: {seconds: [10]}
          - id: third
            action: paced
            depends_on: [second]
            params: {seconds: [10]}
          - id: never
            action: paced
            depends_on: [third]
            params: {seconds: [1]}
          - id: retrying
            action: paced
            params: {seconds: [1], fail_on: [1]}
            retry: {max_attempts: 2, backoff: fixed, delay: 100}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the execution failed with an error saying "the workflow timeout of 20"
      And the execution took 20 virtual seconds
      And the steps end as follows:
        | step     | status    | attempts |
        | long     | TimedOut  | 1        |
        | first    | Succeeded | 1        |
        | second   | Succeeded | 1        |
        | third    | TimedOut  | 1        |
        | never    | Cancelled | 0        |
        | retrying | TimedOut  | 1        |
      And the step "third" started 15 virtual seconds into the execution
      And the step "third" ended 20 virtual seconds into the execution
      And the action calls of step "long" lasted 20 virtual seconds
      And the action calls of step "third" lasted 5 virtual seconds
      And the action of step "never" ran 0 times

  @BR-WORKFLOW-022
  Rule: A critical post-condition that fails fails its step and undoes it at once; others warn

    Scenario Outline: A broken critical post-condition compensates its step at once (rollback_on_failure <rollback>)
      # "scale" ends at 5 s with 2 ready of 3; "warm" still runs until 11 s.
      Given the workflow:
        """
        name: post-critical
        rollback_on_failure: <rollback>
        retry: {max_attempts: 1}
        steps:
          - id: prepare
            action: work
            params: {seconds: 1}
            compensation: {action: work, params: {seconds: 1}}
          - id: scale
            action: work
            depends_on: [prepare]
            params: {seconds: 4, outputs: {ready: 2}}
            post_conditions:
              - {expression: "outputs.ready >= 3", message: fewer than 3 replicas ready}
            compensation: {action: work, params: {seconds: 1}}
          - id: warm
            action: work
            depends_on: [prepare]
            params: {seconds: 10}
            compensation: {action: work, params: {seconds: 1}}
          - id: verify
            action: work
            depends_on: [scale]
        """
      When I submit the workflow
      Then the execution ends <status>
      And the step "scale" is Failed
      And the step "scale" failed with an error saying "post-condition failed: fewer than 3 replicas ready"
      And the compensation of step "scale" started 5 virtual seconds into the execution
      And the compensations ran in the order <order>
      And the step "verify" is Cancelled
      And the action of step "verify" ran 0 times

      Examples:
        | rollback | status     | order                |
        | true     | RolledBack | scale, warm, prepare |
        | false    | Failed     | scale                |

    Scenario: A broken critical post-condition on a scale undoes the scale in the cluster
      # The deployment really scales to 5; the post-condition asks for 6 ready, so the
      # action's own undo scales it back to the 3 it found.
      Given the workflow:
        """
        name: scale-verified
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: scale_deployment
            params: {namespace: default, name: redis-cache, replicas: 5}
            timeout: 300
            post_conditions:
              - {expression: "outputs.ready_replicas >= 6", message: not enough replicas ready}
        """
      When I submit the workflow
      Then the execution ends Failed
      And the step "scale" is Failed
      And the step "scale" output "ready_replicas" is 5
      And the compensation of step "scale" is Succeeded
      And the deployment "redis-cache" in "default" has 3 ready replicas

    Scenario: A non-critical post-condition that fails is a warning and the step succeeds
      Given the workflow:
        """
        name: post-warning
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: work
            params: {seconds: 4, outputs: {ready: 2}}
            post_conditions:
              - {expression: "outputs.ready >= 3", critical: false, message: fewer than 3 replicas ready}
            compensation: {action: work, params: {seconds: 1}}
          - id: next
            action: work
            depends_on: [scale]
            params: {seconds: 1}
        """
      When I submit the workflow
      Then the execution succeeds
      And the step "scale" is Succeeded
      And the step "scale" has the warning "post-condition failed: fewer than 3 replicas ready"
      And the step "next" is Succeeded
      And no compensation ran

    Scenario: A post-condition that holds leaves the step as it was
      Given the workflow:
        """
        name: post-holds
        retry: {max_attempts: 1}
        steps:
          - id: scale
            action: work
            params: {seconds: 4, outputs: {ready: 3}}
            post_conditions:
              - {expression: "outputs.ready >= 3", message: fewer than 3 replicas ready}
              - {expression: "outputs.ready <= 5", critical: false, message: too many replicas}
            compensation: {action: work, params: {seconds: 1}}
        """
      When I submit the workflow
      Then the execution succeeds
      And the step "scale" has no warnings
      And no compensation ran
