@BR-WORKFLOW-038
Feature: Load SLOs: throughput and latency are measured and gated under load
  A profile's load section says how to load the engine (a shape of users over time
  and a mix of workflow templates) and which service-level objectives the run must
  meet. The scenario judges the latest load run of the profile made on the current
  code (same fingerprint: engine and load-test sources, testbed, resolved profile);
  when there is none it makes a short one first, with in-process users, in a
  subprocess. Each SLO step shows the measured value against its target, and fails
  when the SLO is breached. `windtunnel nightly` makes the full-length run first, so
  the nightly report judges that one.

  Scenario: The HighLoadProduction load meets its SLOs and loses no execution
    Given the latest load run of the HighLoadProduction profile, or a new 6 second one
    Then the load run's p95 completion latency meets its SLO
    And the load run's failure ratio meets its SLO
    And the load run's throughput meets its SLO
    And the load run lost no execution
