@BR-WORKFLOW-001
Feature: Basic execution
  A registered template runs to completion through the real engine, and every step's
  result and outputs are recorded.

  Scenario: A two-step workflow runs to completion with its outputs recorded
    Given the HighLoadProduction cluster
    And the workflow:
      """
      name: hello
      retry: {max_attempts: 1}
      steps:
        - id: greet
          action: work
          params: {seconds: 5, outputs: {message: hello}}
        - id: answer
          action: work
          depends_on: [greet]
          params: {seconds: 3, outputs: {reply: "${{ steps.greet.outputs.message }} back"}}
      """
    When I submit the workflow
    Then the execution succeeds
    And the step "greet" output "message" is "hello"
    And the step "answer" output "reply" is "hello back"
    And the step "answer" started after "greet" finished
    And the execution took 8 virtual seconds
