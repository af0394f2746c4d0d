@BR-WORKFLOW-031
Feature: Definition validation
  A template is checked before anything runs. Each problem names the step, the field
  and what is wrong (and, where it can, what was probably meant); every problem of a
  template is reported at once, and a rejected template is not registered, so nothing
  of it can run.

  Background:
    Given the HighLoadProduction cluster

  Scenario: A dependency cycle is rejected with the path around it
    When I try to register the workflow:
      """
      name: release
      steps:
        - id: build
          action: work
          depends_on: [publish]
        - id: test
          action: work
          depends_on: [build]
        - id: publish
          action: work
          depends_on: [test]
        - id: notify
          action: work
      """
    Then the workflow is rejected with these problems:
      | step  | field      | message                                             |
      | build | depends_on | dependency cycle: build -> publish -> test -> build |
    And no workflow named "release" is registered
    And the engine ran 0 executions

  Scenario: A step that depends on itself is rejected
    When I try to register the workflow:
      """
      name: release
      steps:
        - id: build
          action: work
          depends_on: [build]
      """
    Then the workflow is rejected with these problems:
      | step  | field      | message                        |
      | build | depends_on | a step cannot depend on itself |
    And no workflow named "release" is registered

  Scenario: Dependencies on steps that do not exist are rejected, with a suggestion
    When I try to register the workflow:
      """
      name: release
      steps:
        - id: build
          action: work
        - id: test
          action: work
          depends_on: [biuld, lint]
      """
    Then the workflow is rejected with these problems:
      | step | field      | message                                      |
      | test | depends_on | unknown step 'biuld' (did you mean 'build'?) |
      | test | depends_on | unknown step 'lint'                          |
    And no workflow named "release" is registered

  Scenario: Two steps with one id are rejected
    When I try to register the workflow:
      """
      name: release
      steps:
        - id: build
          action: work
        - id: build
          action: work
          params: {seconds: 1}
      """
    Then the workflow is rejected with these problems:
      | step  | field | message           |
      | build | id    | duplicate step id |
    And no workflow named "release" is registered

  Scenario: Unknown actions are rejected, in steps and in compensations
    When I try to register the workflow:
      """
      name: grow
      steps:
        - id: grow
          action: scale_deploymnt
          params: {name: api-gateway, replicas: 8}
        - id: note
          action: work
          compensation: {action: wrok}
      """
    Then the workflow is rejected with these problems:
      | step | field               | message                                                             |
      | grow | action              | unknown action 'scale_deploymnt' (did you mean 'scale_deployment'?) |
      | note | compensation.action | unknown action 'wrok' (did you mean 'work'?)                        |
    And no workflow named "grow" is registered

  Scenario: Parameters an action does not accept are rejected
    When I try to register the workflow:
      """
      name: grow
      steps:
        - id: grow
          action: scale_deployment
          params: {name: api-gateway, replicas: many}
      """
    Then the workflow is rejected with these problems:
      | step | field           | message         |
      | grow | params.replicas | a valid integer |
    And no workflow named "grow" is registered

  Scenario: Expressions that do not compile, or read a step that may not have run, are rejected
    When I try to register the workflow:
      """
      name: gated
      steps:
        - id: probe
          action: work
        - id: act
          action: work
          depends_on: [probe]
          when: "steps.probe.outputs.ready >"
        - id: tell
          action: work
          depends_on: [probe]
          params: {message: "${{ steps.probe.outputs. }}"}
        - id: peek
          action: work
          when: "steps.probe.outputs.ready"
      """
    Then the workflow is rejected with these problems:
      | step | field      | message                                                                                     |
      | act  | when       | expression 'steps.probe.outputs.ready >' does not compile                                   |
      | tell | params     | expression 'steps.probe.outputs.' does not compile                                          |
      | peek | depends_on | which is not among this step's dependencies (direct or indirect); add 'probe' to depends_on |
    And no workflow named "gated" is registered

  Scenario Outline: A step's retry policy with <retry> is rejected
    When I try to register the workflow:
      """
      name: patient
      steps:
        - id: wait
          action: work
          retry: <retry>
      """
    Then the workflow is rejected with these problems:
      | step | field   | message   |
      | wait | <field> | <message> |
    And no workflow named "patient" is registered

    Examples:
      | retry                       | field              | message                                   |
      | {max_attempts: 0}           | retry.max_attempts | greater than or equal to 1                |
      | {max_attempts: 1001}        | retry.max_attempts | less than or equal to 1000                |
      | {max_attempts: many}        | retry.max_attempts | a valid integer                           |
      | {backoff: random}           | retry.backoff      | 'fixed', 'linear' or 'exponential'        |
      | {delay: -1}                 | retry.delay        | greater than or equal to 0                |
      | {jitter: 2}                 | retry.jitter       | less than or equal to 1                   |
      | {multiplier: 0.5}           | retry.multiplier   | greater than or equal to 1                |
      | {retry_on: [sometimes]}     | retry.retry_on.0   | 'retryable', 'timeout' or 'any'           |
      | {delay: 100, max_delay: 10} | retry.delay        | delay 100.0 is larger than max_delay 10.0 |
      | {max_attempts: 3, tries: 2} | retry.tries        | unknown field                             |

  Scenario: A workflow-wide retry policy and timeouts are checked too
    When I try to register the workflow:
      """
      name: patient
      retry: {max_attempts: 0}
      timeout: -5
      steps:
        - id: wait
          action: work
          timeout: 0
      """
    Then the workflow is rejected with these problems:
      | step | field              | message                    |
      |      | retry.max_attempts | greater than or equal to 1 |
      |      | timeout            | greater than 0             |
      | wait | timeout            | greater than 0             |
    And no workflow named "patient" is registered

  Scenario: Every problem of a template is reported at once
    When I try to register the workflow:
      """
      name: remediate
      steps:
        - id: probe
          action: work
        - id: probe
          action: work
        - id: restart
          action: rollout_restrat
          depends_on: [prbe]
        - id: verify
          action: work
          depends_on: [restart]
          when: "steps.restart.status =="
      """
    Then the workflow is rejected with these problems:
      | step    | field      | message                                                            |
      | probe   | id         | duplicate step id                                                  |
      | restart | depends_on | unknown step 'prbe' (did you mean 'probe'?)                        |
      | restart | action     | unknown action 'rollout_restrat' (did you mean 'rollout_restart'?) |
      | verify  | when       | does not compile                                                   |
    And no workflow named "remediate" is registered
    And the engine ran 0 executions

  Scenario: A rejected new version leaves the registered one in place
    Given the workflow:
      """
      name: release
      version: 1
      retry: {max_attempts: 1}
      steps:
        - id: build
          action: work
          params: {seconds: 2}
      """
    When I try to register the workflow:
      """
      name: release
      version: 2
      steps:
        - id: build
          action: work
          depends_on: [ship]
        - id: ship
          action: work
          depends_on: [build]
      """
    Then the workflow is rejected with these problems:
      | step  | field      | message                                  |
      | build | depends_on | dependency cycle: build -> ship -> build |
    And the latest registered version of "release" is 1
    When I run the workflow "release"
    Then the execution succeeds
    And the action of step "build" ran 1 times
    And the action of step "ship" ran 0 times
