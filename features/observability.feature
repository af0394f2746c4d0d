@BR-WORKFLOW-025
Feature: Observability
  Every execution streams its events in the order things happened, with the step, the
  status, the attempt and the virtual time of each, and the engine's Prometheus metrics
  account for every step: counted by status, retries counted, executions counted by
  outcome, and every started step's duration in the histogram.

  Background:
    Given the HighLoadProduction cluster
    And the workflow:
      """
      name: observe
      retry: {max_attempts: 3, backoff: fixed, delay: 5}
      failure_policy: continue
      steps:
        - id: fetch
          action: work
          params: {seconds: 4, outputs: {healthy: false}}
        - id: restart
          action: flaky
          depends_on: [fetch]
          params: {failures: 2, seconds: 2}
        - id: celebrate
          action: work
          depends_on: [fetch]
          when: "steps.fetch.outputs.healthy"
        - id: page
          action: work
          depends_on: [fetch]
          params: {seconds: 1, fail: true}
      """

  Scenario: An execution emits each event in order, with its step, status, attempt and time
    When I submit the workflow "observe"
    Then the execution ends PartiallySucceeded
    And the execution's events were, in order:
      | kind                | step      | status             | attempt | at | delay |
      | execution_submitted |           | Pending            | 0       | 0  |       |
      | execution_started   |           | Running            | 0       | 0  |       |
      | step_started        | fetch     | Running            | 0       | 0  |       |
      | step_finished       | fetch     | Succeeded          | 1       | 4  |       |
      | step_started        | restart   | Running            | 0       | 4  |       |
      | step_finished       | celebrate | Skipped            | 0       | 4  |       |
      | step_started        | page      | Running            | 0       | 4  |       |
      | step_finished       | page      | Failed             | 1       | 5  |       |
      | step_retrying       | restart   | Running            | 1       | 6  | 5     |
      | step_retrying       | restart   | Running            | 2       | 13 | 5     |
      | step_finished       | restart   | Succeeded          | 3       | 20 |       |
      | execution_finished  |           | PartiallySucceeded | 0       | 20 |       |
    And the execution emitted execution_submitted, execution_started, execution_finished

  Scenario: A retried step emits one retrying event per failed attempt, then its end
    When I submit the workflow "observe"
    Then the step "restart" emitted step_started, step_retrying, step_retrying, step_finished
    And the step "fetch" emitted step_started, step_finished
    And the step "celebrate" emitted step_finished
    And the step "restart" made 3 attempts
    And the step "restart" waited 5, 5 seconds between its attempts

  Scenario: The metrics count every step by status, every retry and every execution
    When I submit the workflow "observe"
    And I submit the workflow "observe"
    Then the metric "workflow_engine_steps_total" with workflow=observe,status=Succeeded is 4
    And the metric "workflow_engine_steps_total" with workflow=observe,status=Skipped is 2
    And the metric "workflow_engine_steps_total" with workflow=observe,status=Failed is 2
    And the metric "workflow_engine_step_retries_total" with workflow=observe is 4
    And the metric "workflow_engine_executions_total" with workflow=observe,status=PartiallySucceeded is 2
    And the steps counter accounts for every step of every execution

  Scenario: The duration histogram holds every started step with its duration, backoffs included
    When I submit the workflow "observe"
    Then the metric "workflow_engine_step_duration_seconds_count" with workflow=observe,status=Succeeded is 2
    And the metric "workflow_engine_step_duration_seconds_sum" with workflow=observe,status=Succeeded is 20
    And the metric "workflow_engine_step_duration_seconds_count" with workflow=observe,status=Failed is 1
    And the metric "workflow_engine_step_duration_seconds_sum" with workflow=observe,status=Failed is 1
    And the metric "workflow_engine_step_duration_seconds_bucket" with workflow=observe,status=Succeeded,le=5.0 is 1
    And the metric "workflow_engine_step_duration_seconds_bucket" with workflow=observe,status=Succeeded,le=30.0 is 2
    And the metric "workflow_engine_step_duration_seconds_count" with workflow=observe,status=Skipped has no sample

  Scenario: Cancelled and dead-lettered executions are counted too
    Given the workflow:
      """
      name: fragile
      retry: {max_attempts: 1}
      steps:
        - id: first
          action: work
          params: {seconds: 10}
        - id: second
          action: work
          depends_on: [first]
          params: {fail: true}
      """
    When I submit the workflow "fragile" as "broken"
    And I submit the workflow "fragile" as "stopped"
    And I cancel the execution
    Then the execution "broken" ends Failed
    And the execution "stopped" ends Cancelled
    And the metric "workflow_engine_executions_total" with workflow=fragile,status=Failed is 1
    And the metric "workflow_engine_executions_total" with workflow=fragile,status=Cancelled is 1
    And the metric "workflow_engine_dead_letters_total" with workflow=fragile is 1
    And the metric "workflow_engine_steps_total" with workflow=fragile,status=Cancelled is 2
    And the metric "workflow_engine_steps_total" with workflow=fragile,status=Succeeded is 1
    And the metric "workflow_engine_steps_total" with workflow=fragile,status=Failed is 1
    And the steps counter accounts for every step of every execution
