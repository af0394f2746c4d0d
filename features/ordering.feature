Feature: Ordering of steps
  A step waits for its dependencies, and only for them: it starts the moment the last
  of them finishes in a state its trigger rule accepts, never before. Steps that do not
  depend on each other run at the same time, so a fan-out costs its slowest branch and a
  fan-in starts when every branch has finished.

  Timelines are in virtual seconds from the execution's start.

  @BR-WORKFLOW-002
  Rule: A step starts only after its dependencies finish in an accepted state

    Scenario: Each step of a chain starts the moment the one before it finishes
      Given the HighLoadProduction cluster
      And the workflow "release" with steps:
        | id     | depends_on | seconds | retry             |
        | build  |            | 5       | {max_attempts: 1} |
        | test   | build      | 3       | {max_attempts: 1} |
        | deploy | test       | 2       | {max_attempts: 1} |
      When I submit the workflow "release"
      Then the execution succeeds
      And the steps ran on this timeline:
        | step   | starts | ends |
        | build  | 0      | 5    |
        | test   | 5      | 8    |
        | deploy | 8      | 10   |

    Scenario: A step with several dependencies waits for the slowest of them
      Given the HighLoadProduction cluster
      And the workflow "join" with steps:
        | id     | depends_on         | seconds | retry             |
        | fast   |                    | 2       | {max_attempts: 1} |
        | slow   |                    | 9       | {max_attempts: 1} |
        | medium |                    | 5       | {max_attempts: 1} |
        | merge  | fast, slow, medium | 1       | {max_attempts: 1} |
      When I submit the workflow "join"
      Then the execution succeeds
      And the steps ran on this timeline:
        | step   | starts | ends |
        | fast   | 0      | 2    |
        | slow   | 0      | 9    |
        | medium | 0      | 5    |
        | merge  | 9      | 10   |
      And the action of step "merge" ran 1 times

    Scenario: A retried dependency holds its dependent until its last attempt succeeds
      Given the HighLoadProduction cluster
      And the workflow "patient" with steps:
        | id     | action | depends_on | params                    | retry                                       |
        | probe  | flaky  |            | {failures: 2, seconds: 2} | {max_attempts: 3, backoff: fixed, delay: 5} |
        | deploy | work   | probe      | {seconds: 3}              | {max_attempts: 1}                           |
      When I submit the workflow "patient"
      Then the execution succeeds
      And the step "probe" made 3 attempts
      And the step "probe" waited 5, 5 seconds between its attempts
      And the steps ran on this timeline:
        | step   | starts | ends |
        | probe  | 0      | 16   |
        | deploy | 16     | 19   |
      And the action of step "deploy" ran 1 times

    Scenario Outline: A dependency that fails for good never lets its dependent start (<policy>)
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: broken-<policy>
        failure_policy: <policy>
        retry: {max_attempts: 2, backoff: fixed, delay: 3}
        steps:
          - {id: migrate, action: flaky, params: {failures: 5, seconds: 2}}
          - {id: side, action: work, params: {seconds: 20}}
          - {id: deploy, action: work, depends_on: [migrate], params: {seconds: 4}}
        """
      When I submit the workflow "broken-<policy>"
      Then the execution ends <outcome>
      And the step "migrate" made 2 attempts
      And the steps end as follows:
        | step    | status    |
        | migrate | Failed    |
        | side    | Succeeded |
        | deploy  | <deploy>  |
      And the action of step "deploy" ran 0 times

      Examples:
        | policy    | outcome            | deploy    |
        | continue  | PartiallySucceeded | Skipped   |
        | fail_fast | Failed             | Cancelled |

    Scenario: A step whose trigger rule accepts a failure starts when the failed step ends
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: cleanup-after
        failure_policy: continue
        retry: {max_attempts: 1}
        steps:
          - {id: deploy, action: work, params: {seconds: 4, fail: true}}
          - {id: cleanup, action: work, depends_on: [deploy], trigger_rule: all_done, params: {seconds: 2}}
          - {id: notify, action: work, depends_on: [deploy], params: {seconds: 1}}
        """
      When I submit the workflow "cleanup-after"
      Then the execution ends PartiallySucceeded
      And the steps ran on this timeline:
        | step    | starts | ends | status    |
        | deploy  | 0      | 4    | Failed    |
        | cleanup | 4      | 6    | Succeeded |
        | notify  | 4      | 4    | Skipped   |
      And the action of step "notify" ran 0 times

  @BR-WORKFLOW-003
  Rule: Steps run in topological order, independent branches in parallel

    Scenario: Independent branches of a DAG run at the same time and joins wait for theirs
      Given the HighLoadProduction cluster
      And the workflow "pipeline" with steps:
        | id      | depends_on    | seconds | retry             |
        | fetch   |               | 2       | {max_attempts: 1} |
        | lint    | fetch         | 3       | {max_attempts: 1} |
        | unit    | fetch         | 6       | {max_attempts: 1} |
        | build   | fetch         | 4       | {max_attempts: 1} |
        | package | unit, build   | 1       | {max_attempts: 1} |
        | publish | lint, package | 1       | {max_attempts: 1} |
      When I submit the workflow "pipeline"
      Then the execution succeeds
      And the steps ran on this timeline:
        | step    | starts | ends |
        | fetch   | 0      | 2    |
        | lint    | 2      | 5    |
        | unit    | 2      | 8    |
        | build   | 2      | 6    |
        | package | 8      | 9    |
        | publish | 9      | 10   |
      And the steps "lint" and "unit" ran at the same time
      And the steps "unit" and "build" ran at the same time
      And every step started only after all its dependencies finished
      And the execution took 10 virtual seconds

    Scenario Outline: A fan-out of <width> steps on <profile> runs them all at once and the join waits for every one
      Given the <profile> cluster
      And a workflow "fan" that fans out to <width> steps and joins them
      When I submit the workflow "fan"
      Then the execution succeeds
      And every step started only after all its dependencies finished
      And at most <width> steps were running at once across all executions, and <width> were at the peak
      And the step "join" output "total" is <total>
      And the step "join" started after "<last>" finished
      And the execution took <took> virtual seconds

      Examples:
        | profile                | width | last | total | took |
        | HighLoadProduction     | 2     | b02  | 3     | 4    |
        | HighLoadProduction     | 50    | b50  | 1275  | 52   |
        | BasicDevelopment       | 10    | b10  | 55    | 12   |
        | MultiTenantDevelopment | 20    | b20  | 210   | 22   |

    Scenario: Steps written out of order run in a topological order, one at a time
      Given the HighLoadProduction cluster
      And the engine runs at most 1 steps at once
      And the workflow "backwards" with steps:
        | id        | depends_on           | seconds | retry             |
        | report    | deploy-eu, deploy-us | 1       | {max_attempts: 1} |
        | deploy-us | build                | 3       | {max_attempts: 1} |
        | deploy-eu | build                | 3       | {max_attempts: 1} |
        | build     | fetch                | 2       | {max_attempts: 1} |
        | fetch     |                      | 1       | {max_attempts: 1} |
      When I submit the workflow "backwards"
      Then the execution succeeds
      And every step started only after all its dependencies finished
      And the steps started in the order fetch, build, deploy-us, report
      And the steps started in the order build, deploy-eu, report
      And at most 1 steps were running at once across all executions, and 1 were at the peak
      And the execution took 10 virtual seconds
