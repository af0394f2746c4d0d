Feature: Scheduling: concurrency limits, priorities and template versions
  The engine hands out slots: never more running steps than its own limit across all
  executions, nor than a template's max_concurrency within one execution, and a step
  keeps its slot through its backoff waits. Free slots go to the highest-priority
  execution with work ready; equal priorities are served in submission order. Templates
  are versioned: an execution runs, and records, the version it started on.

  @BR-WORKFLOW-005
  Rule: Engine-wide and per-template concurrency limits are never exceeded, and are used

    Scenario Outline: An engine-wide limit of <limit> holds across 12 executions
      Given the HighLoadProduction cluster
      And the engine runs at most <limit> steps at once
      And the workflow "job" with steps:
        | id   | seconds | retry             |
        | work | 10      | {max_attempts: 1} |
      When I submit 12 executions of the workflow "job" concurrently
      Then all 12 executions succeed
      And at most <limit> steps were running at once across all executions, and <limit> were at the peak
      And the executions took <took> virtual seconds in all

      Examples:
        | limit | took |
        | 1     | 120  |
        | 3     | 40   |
        | 5     | 30   |
        | 12    | 10   |

    Scenario Outline: The <profile> profile's own engine limit of <limit> holds
      Given the <profile> cluster
      And the workflow "job" with steps:
        | id   | seconds | retry             |
        | work | 10      | {max_attempts: 1} |
      When I submit 24 executions of the workflow "job" concurrently
      Then all 24 executions succeed
      And at most <limit> steps were running at once across all executions, and <limit> were at the peak
      And the executions took <took> virtual seconds in all

      Examples:
        | profile             | limit | took |
        | ResourceConstrained | 5     | 50   |
        | BasicDevelopment    | 10    | 30   |
        | MonitoringStack     | 20    | 20   |

    Scenario: The engine-wide limit also holds the branches of one execution
      Given the HighLoadProduction cluster
      And the engine runs at most 3 steps at once
      And a workflow "fan" that fans out to 6 steps and joins them
      When I submit the workflow "fan"
      Then the execution succeeds
      And at most 3 steps were running at once across all executions, and 3 were at the peak
      And the step "join" output "total" is 21
      And the execution took 11 virtual seconds

    Scenario Outline: A template's max_concurrency of <limit> holds within each execution, not across them
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: wide
        max_concurrency: <limit>
        retry: {max_attempts: 1}
        steps:
          - {id: s1, action: work, params: {seconds: 5}}
          - {id: s2, action: work, params: {seconds: 5}}
          - {id: s3, action: work, params: {seconds: 5}}
          - {id: s4, action: work, params: {seconds: 5}}
          - {id: s5, action: work, params: {seconds: 5}}
          - {id: s6, action: work, params: {seconds: 5}}
        """
      When I submit 3 executions of the workflow "wide" concurrently
      Then all 3 executions succeed
      And each execution ran at most <limit> steps at once, and <limit> at its peak
      And at most <total> steps were running at once across all executions, and <total> were at the peak
      And the executions took <took> virtual seconds in all

      Examples:
        | limit | total | took |
        | 1     | 3     | 30   |
        | 2     | 6     | 15   |
        | 3     | 9     | 10   |

    Scenario: The engine limit caps executions whose own limits would allow more
      Given the HighLoadProduction cluster
      And the engine runs at most 4 steps at once
      And the workflow:
        """
        name: wide
        max_concurrency: 3
        retry: {max_attempts: 1}
        steps:
          - {id: s1, action: work, params: {seconds: 5}}
          - {id: s2, action: work, params: {seconds: 5}}
          - {id: s3, action: work, params: {seconds: 5}}
          - {id: s4, action: work, params: {seconds: 5}}
          - {id: s5, action: work, params: {seconds: 5}}
          - {id: s6, action: work, params: {seconds: 5}}
        """
      When I submit 2 executions of the workflow "wide" concurrently
      Then all 2 executions succeed
      And each execution ran at most 3 steps at once, and 3 at its peak
      And at most 4 steps were running at once across all executions, and 4 were at the peak
      And the executions took 20 virtual seconds in all

    Scenario: A step keeps its slot while it waits to retry
      Given the HighLoadProduction cluster
      And the engine runs at most 1 steps at once
      And the workflow:
        """
        name: shaky
        steps:
          - {id: call, action: flaky, params: {failures: 1, seconds: 2}, retry: {max_attempts: 2, backoff: fixed, delay: 10}}
        """
      And the workflow "job" with steps:
        | id   | seconds | retry             |
        | work | 10      | {max_attempts: 1} |
      When I submit the workflow "shaky" as "shaky"
      And I submit the workflow "job" as "waiting"
      And all executions finish
      Then the execution "shaky" step "call" took 14 virtual seconds
      And at most 1 steps were running at once across all executions, and 1 were at the peak
      And the engine started the steps in the order shaky/call, waiting/work
      And the executions took 24 virtual seconds in all

  @BR-WORKFLOW-039
  Rule: Free slots go to the highest priority first; equal priorities keep submission order

    Background:
      Given the HighLoadProduction cluster
      And the engine runs at most 1 steps at once
      And the workflow:
        """
        name: job
        retry: {max_attempts: 1}
        steps:
          - {id: work, action: work, params: {seconds: 5}}
        """

    Scenario: A later, higher-priority execution gets the next free slot
      When I submit the workflow "job" with priority 0 as "blocker"
      And I submit the workflow "job" with priority 1 as "low"
      And I submit the workflow "job" with priority 10 as "high"
      And I submit the workflow "job" with priority 5 as "mid"
      And all executions finish
      Then the engine started the steps in the order blocker/work, high/work, mid/work, low/work
      And the executions took 20 virtual seconds in all

    Scenario: Executions of equal priority are served in the order they were submitted
      When I submit the workflow "job" with priority 0 as "blocker"
      And I submit the workflow "job" with priority 5 as "first"
      And I submit the workflow "job" with priority 5 as "second"
      And I submit the workflow "job" with priority 9 as "urgent"
      And I submit the workflow "job" with priority 5 as "third"
      And I submit the workflow "job" with priority 5 as "fourth"
      And all executions finish
      Then the engine started the steps in the order blocker/work, urgent/work, first/work, second/work, third/work, fourth/work

    Scenario: Each next step of a high-priority execution goes before a waiting low-priority one
      Given the workflow "chain" with steps:
        | id     | depends_on | seconds | retry             |
        | first  |            | 5       | {max_attempts: 1} |
        | second | first      | 5       | {max_attempts: 1} |
      When I submit the workflow "chain" with priority 1 as "routine"
      And I submit the workflow "chain" with priority 10 as "urgent"
      And all executions finish
      Then the engine started the steps in the order routine/first, urgent/first, urgent/second, routine/second

    Scenario: A template's own priority applies when the submission gives none
      Given the workflow:
        """
        name: hotfix
        priority: 8
        retry: {max_attempts: 1}
        steps:
          - {id: work, action: work, params: {seconds: 5}}
        """
      When I submit the workflow "job" with priority 0 as "blocker"
      And I submit the workflow "job" with priority 5 as "five"
      And I submit the workflow "hotfix" as "hotfix"
      And all executions finish
      Then the engine started the steps in the order blocker/work, hotfix/work, five/work

  @BR-WORKFLOW-040
  Rule: An execution runs and records the template version it started on

    Background:
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: restart
        version: 1
        retry: {max_attempts: 1}
        steps:
          - {id: drain, action: work, params: {seconds: 10, outputs: {by: v1}}}
          - {id: restart, action: work, depends_on: [drain], params: {seconds: 5, outputs: {by: v1}}}
        """

    Scenario: Registering version 2 leaves a running version 1 execution on version 1
      When I submit the latest "restart" as "old"
      And 4 virtual seconds pass
      And I register the workflow:
        """
        name: restart
        version: 2
        retry: {max_attempts: 1}
        steps:
          - {id: drain, action: work, params: {seconds: 2, outputs: {by: v2}}}
          - {id: restart, action: work, depends_on: [drain], params: {seconds: 1, outputs: {by: v2}}}
        """
      And I submit the latest "restart" as "new"
      Then the execution "old" ends Succeeded
      And the execution "old" ran version 1 of "restart"
      And the execution "old" step "restart" output "by" is "v1"
      And the execution "old" step "restart" took 5 virtual seconds
      And the execution "new" ends Succeeded
      And the execution "new" ran version 2 of "restart"
      And the execution "new" step "drain" output "by" is "v2"
      And the execution "new" step "restart" took 1 virtual seconds

    Scenario: Each execution records the version it was submitted on, latest or pinned
      When I register the workflow:
        """
        name: restart
        version: 2
        retry: {max_attempts: 1}
        steps:
          - {id: drain, action: work, params: {seconds: 2, outputs: {by: v2}}}
          - {id: restart, action: work, depends_on: [drain], params: {seconds: 1, outputs: {by: v2}}}
          - {id: verify, action: work, depends_on: [restart], params: {seconds: 1, outputs: {by: v2}}}
        """
      And I submit the latest "restart" as "latest"
      And I submit version 1 of "restart" as "pinned"
      Then the execution "latest" ran version 2 of "restart"
      And the execution "latest" step "verify" output "by" is "v2"
      And the execution "pinned" ran version 1 of "restart"
      And the execution "pinned" step "restart" output "by" is "v1"

    Scenario: A version cannot be registered again with other content
      When I try to register the workflow:
        """
        name: restart
        version: 1
        retry: {max_attempts: 1}
        steps:
          - {id: drain, action: work, params: {seconds: 1, outputs: {by: impostor}}}
          - {id: restart, action: work, depends_on: [drain], params: {seconds: 1, outputs: {by: impostor}}}
        """
      And I submit the latest "restart" as "after"
      Then the workflow is rejected with a problem saying "already registered with different content"
      And the execution "after" ran version 1 of "restart"
      And the execution "after" step "restart" output "by" is "v1"
