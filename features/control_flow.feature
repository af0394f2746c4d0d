Feature: Control flow: conditions, trigger rules, data and subflows
  A step may run only when a condition holds; a false condition skips it, and what its
  dependents do then is their trigger rule's business. Data flows forward: the inputs,
  the template's variables and every earlier step's outputs, status and attempts can be
  read by later steps, keeping their types. A subflow step runs another template as a
  child execution, waits for it, exposes its outputs and shares its fate.

  Timelines are in virtual seconds from the execution's start.

  @BR-WORKFLOW-004
  Rule: A false condition skips its step; dependents follow the trigger rules

    Scenario Outline: A condition on a probe's output decides whether the repair runs (healthy: <healthy>)
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: repair
        retry: {max_attempts: 1}
        inputs:
          healthy: {type: boolean, required: true}
        steps:
          - {id: probe, action: work, params: {seconds: 2, outputs: {healthy: "${{ inputs.healthy }}"}}}
          - {id: repair, action: work, depends_on: [probe], when: "!steps.probe.outputs.healthy", params: {seconds: 5}}
          - {id: verify, action: work, depends_on: [repair], params: {seconds: 1}}
          - {id: report, action: work, depends_on: [repair], trigger_rule: none_failed, params: {seconds: 1}}
        """
      When I submit the workflow "repair" with inputs:
        """
        healthy: <healthy>
        """
      Then the execution succeeds
      And the steps ran on this timeline:
        | step   | starts       | ends         | status    |
        | probe  | 0            | 2            | Succeeded |
        | repair | 2            | <repair_end> | <repair>  |
        | verify | <repair_end> | <verify_end> | <verify>  |
        | report | <repair_end> | <report_end> | Succeeded |
      And the action of step "repair" ran <runs> times
      And the action of step "verify" ran <runs> times
      And the action of step "report" ran 1 times

      Examples:
        | healthy | repair    | repair_end | verify    | verify_end | report_end | runs |
        | false   | Succeeded | 7          | Succeeded | 8          | 8          | 1    |
        | true    | Skipped   | 2          | Skipped   | 2          | 3          | 0    |

    Scenario: A skip propagates down the default rule until a none_failed join stops it
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: optional-branch
        retry: {max_attempts: 1}
        inputs:
          broken: {type: boolean, default: false}
        steps:
          - {id: check, action: work, params: {seconds: 1}}
          - {id: repair, action: work, depends_on: [check], when: "inputs.broken", params: {seconds: 5}}
          - {id: restart, action: work, depends_on: [repair], params: {seconds: 3}}
          - {id: verify, action: work, depends_on: [restart], params: {seconds: 2}}
          - {id: rejoin, action: work, depends_on: [verify], trigger_rule: none_failed, params: {seconds: 2}}
          - {id: tally, action: work, depends_on: [repair, restart], trigger_rule: none_failed_min_one_success, params: {seconds: 1}}
          - {id: close, action: work, depends_on: [rejoin], params: {seconds: 1}}
        """
      When I submit the workflow "optional-branch"
      Then the execution succeeds
      And the step "repair" was skipped because "condition is false: inputs.broken"
      And the step "restart" was skipped because "trigger rule all_succeeded not met"
      And the step "verify" was skipped because "trigger rule all_succeeded not met"
      And the step "tally" was skipped because "trigger rule none_failed_min_one_success not met"
      And the steps ran on this timeline:
        | step    | starts | ends | status    |
        | check   | 0      | 1    | Succeeded |
        | repair  | 1      | 1    | Skipped   |
        | restart | 1      | 1    | Skipped   |
        | verify  | 1      | 1    | Skipped   |
        | tally   | 1      | 1    | Skipped   |
        | rejoin  | 1      | 3    | Succeeded |
        | close   | 3      | 4    | Succeeded |
      And the action of step "restart" ran 0 times
      And the action of step "verify" ran 0 times

    Scenario Outline: The <rule> rule, with dependencies that <left> and <right>, <verdict> its step
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: rules
        failure_policy: continue
        retry: {max_attempts: 1}
        inputs:
          left: {type: string, required: true}
          right: {type: string, required: true}
        steps:
          - id: left
            action: work
            when: "inputs.left != 'skipped'"
            params: {seconds: 2, fail: "${{ inputs.left == 'fail' }}"}
          - id: right
            action: work
            when: "inputs.right != 'skipped'"
            params: {seconds: 4, fail: "${{ inputs.right == 'fail' }}"}
          - id: join
            action: work
            depends_on: [left, right]
            trigger_rule: <rule>
            params: {seconds: 1}
        """
      When I submit the workflow "rules" with inputs:
        """
        {left: <left>, right: <right>}
        """
      And the execution finishes
      Then the steps ran on this timeline:
        | step  | starts | ends  | status |
        | left  | -      | -     | -      |
        | right | -      | -     | -      |
        | join  | <at>   | <end> | <join> |
      And the action of step "join" ran <runs> times

      Examples:
        | rule                        | left    | right   | verdict | join      | at | end | runs |
        | all_succeeded               | succeed | succeed | runs    | Succeeded | 4  | 5   | 1    |
        | all_succeeded               | succeed | fail    | skips   | Skipped   | 4  | 4   | 0    |
        | all_succeeded               | succeed | skipped | skips   | Skipped   | 2  | 2   | 0    |
        | all_done                    | fail    | skipped | runs    | Succeeded | 2  | 3   | 1    |
        | all_failed                  | fail    | fail    | runs    | Succeeded | 4  | 5   | 1    |
        | all_failed                  | succeed | fail    | skips   | Skipped   | 4  | 4   | 0    |
        | one_succeeded               | fail    | succeed | runs    | Succeeded | 4  | 5   | 1    |
        | one_succeeded               | fail    | skipped | skips   | Skipped   | 2  | 2   | 0    |
        | one_failed                  | succeed | fail    | runs    | Succeeded | 4  | 5   | 1    |
        | one_failed                  | succeed | skipped | skips   | Skipped   | 2  | 2   | 0    |
        | none_failed                 | succeed | skipped | runs    | Succeeded | 2  | 3   | 1    |
        | none_failed                 | skipped | skipped | runs    | Succeeded | 0  | 1   | 1    |
        | none_failed                 | succeed | fail    | skips   | Skipped   | 4  | 4   | 0    |
        | none_failed_min_one_success | succeed | skipped | runs    | Succeeded | 2  | 3   | 1    |
        | none_failed_min_one_success | skipped | skipped | skips   | Skipped   | 0  | 0   | 0    |
        | none_failed_min_one_success | fail    | succeed | skips   | Skipped   | 4  | 4   | 0    |

  @BR-WORKFLOW-006
  Rule: Outputs, inputs and variables flow into later steps, keeping their types

    Scenario: A step's outputs become typed parameters of the steps after it
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: typed
        retry: {max_attempts: 1}
        steps:
          - id: count
            action: work
            params:
              seconds: 1
              outputs: {replicas: 3, ready: true, zones: [a, b], limits: {cpu: 500m}}
          - id: use
            action: work
            depends_on: [count]
            params:
              outputs:
                replicas: "${{ steps.count.outputs.replicas }}"
                doubled: "${{ steps.count.outputs.replicas * 2 }}"
                ready: "${{ steps.count.outputs.ready }}"
                zones: "${{ steps.count.outputs.zones }}"
                first_zone: "${{ steps.count.outputs.zones[0] }}"
                limits: "${{ steps.count.outputs.limits }}"
                sentence: "${{ steps.count.outputs.replicas }} replicas, ready: ${{ steps.count.outputs.ready }}"
        """
      When I submit the workflow "typed"
      Then the execution succeeds
      And the step "use" output "replicas" is 3
      And the step "use" output "doubled" is 6
      And the step "use" output "ready" is true
      And the step "use" output "zones" is [a, b]
      And the step "use" output "first_zone" is "a"
      And the step "use" output "limits" is {cpu: 500m}
      And the step "use" output "sentence" is "3 replicas, ready: true"

    Scenario Outline: Inputs reach the steps, and declared defaults fill in what is not given (<case>)
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: greet
        retry: {max_attempts: 1}
        inputs:
          who: {type: string, required: true}
          times: {type: integer, default: 2}
          loud: {type: boolean, default: false}
        steps:
          - id: greet
            action: work
            params:
              outputs:
                line: "hello ${{ inputs.who }} x${{ inputs.times }}"
                times: "${{ inputs.times }}"
                loud: "${{ inputs.loud }}"
        """
      When I submit the workflow "greet" with inputs:
        """
        <inputs>
        """
      Then the execution succeeds
      And the step "greet" output "line" is "<line>"
      And the step "greet" output "times" is <times>
      And the step "greet" output "loud" is <loud>

      Examples:
        | case          | inputs                             | line           | times | loud  |
        | all given     | {who: world, times: 3, loud: true} | hello world x3 | 3     | true  |
        | defaults used | {who: ops}                         | hello ops x2   | 2     | false |

    Scenario: Variables computed from the inputs are visible to every step
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: with-vars
        retry: {max_attempts: 1}
        inputs:
          service: {type: string, required: true}
          replicas: {type: integer, default: 3}
        vars:
          target: "${{ inputs.service }}-canary"
          surge: "${{ inputs.replicas + 1 }}"
          namespace: workflows
        steps:
          - {id: plan, action: work, params: {outputs: {target: "${{ vars.target }}", surge: "${{ vars.surge }}"}}}
          - {id: apply, action: work, depends_on: [plan], params: {outputs: {where: "${{ vars.namespace }}/${{ vars.target }}", more: "${{ vars.surge + steps.plan.outputs.surge }}"}}}
        """
      When I submit the workflow "with-vars" with inputs:
        """
        service: checkout
        """
      Then the execution succeeds
      And the step "plan" output "target" is "checkout-canary"
      And the step "plan" output "surge" is 4
      And the step "apply" output "where" is "workflows/checkout-canary"
      And the step "apply" output "more" is 8

    Scenario: Later steps read an earlier step's status, attempts and error
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: introspect
        failure_policy: continue
        steps:
          - {id: shaky, action: flaky, params: {failures: 2}, retry: {max_attempts: 3, backoff: fixed, delay: 1}}
          - {id: broken, action: work, params: {fail: true, message: disk full}, retry: {max_attempts: 1}}
          - id: report
            action: work
            depends_on: [shaky, broken]
            trigger_rule: all_done
            retry: {max_attempts: 1}
            params:
              outputs:
                shaky_attempts: "${{ steps.shaky.attempts }}"
                shaky_status: "${{ steps.shaky.status }}"
                shaky_said: "${{ steps.shaky.outputs.attempt }}"
                broken_status: "${{ steps.broken.status }}"
                broken_error: "${{ steps.broken.error }}"
        """
      When I submit the workflow "introspect"
      Then the execution ends PartiallySucceeded
      And the step "report" output "shaky_attempts" is 3
      And the step "report" output "shaky_status" is "Succeeded"
      And the step "report" output "shaky_said" is 3
      And the step "report" output "broken_status" is "Failed"
      And the step "report" output "broken_error" is "PermanentError: disk full"

    Scenario: One step's output drives the next step's change to the cluster
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: match-cache
        retry: {max_attempts: 1}
        inputs:
          replicas: {type: integer, required: true}
        steps:
          - id: grow-cache
            action: scale_deployment
            params: {namespace: default, name: redis-cache, replicas: "${{ inputs.replicas }}"}
          - id: match-queue
            action: scale_deployment
            depends_on: [grow-cache]
            params: {namespace: default, name: message-queue, replicas: "${{ steps['grow-cache'].outputs.ready_replicas }}"}
        """
      When I submit the workflow "match-cache" with inputs:
        """
        replicas: 5
        """
      Then the execution succeeds
      And the step "match-queue" output "previous_replicas" is 3
      And the step "match-queue" output "replicas" is 5
      And the deployment "redis-cache" in "default" has 5 ready replicas
      And the deployment "message-queue" in "default" has 5 ready replicas

    Scenario: A step may read only the steps it depends on
      Given the HighLoadProduction cluster
      When I try to register the workflow:
        """
        name: peeking
        steps:
          - {id: left, action: work, params: {outputs: {x: 1}}}
          - {id: right, action: work, params: {outputs: {y: "${{ steps.left.outputs.x }}"}}}
        """
      Then the workflow is rejected with these problems:
        | step  | field      | message                                                       |
        | right | depends_on | reads steps.left, which is not among this step's dependencies |

  @BR-WORKFLOW-024
  Rule: A subflow step runs a template as a child execution and shares its fate

    Background:
      Given the HighLoadProduction cluster
      And the workflow:
        """
        name: scale-check
        retry: {max_attempts: 1}
        inputs:
          service: {type: string, required: true}
          replicas: {type: integer, default: 2}
        steps:
          - {id: plan, action: work, params: {seconds: 3, outputs: {target: "${{ inputs.service }}", wanted: "${{ inputs.replicas * 2 }}"}}}
          - {id: verify, action: work, depends_on: [plan], params: {seconds: 4, outputs: {ok: true}}}
        """

    Scenario: The child runs to the end and its outputs flow into the parent's next step
      Given the workflow:
        """
        name: remediate
        retry: {max_attempts: 1}
        steps:
          - {id: before, action: work, params: {seconds: 1}}
          - {id: check, action: subflow, depends_on: [before], params: {template: scale-check, inputs: {service: redis-cache, replicas: 3}}}
          - id: after
            action: work
            depends_on: [check]
            params:
              seconds: 1
              outputs:
                wanted: "${{ steps.check.outputs.outputs.plan.wanted }}"
                target: "${{ steps.check.outputs.outputs.plan.target }}"
                child: "${{ steps.check.outputs.status }}"
        """
      When I submit the workflow "remediate"
      Then the execution succeeds
      And the subflow of step "check" ran "scale-check" and ended Succeeded
      And the subflow of step "check" received the inputs {service: redis-cache, replicas: 3}
      And the subflow of step "check" has the step "verify" Succeeded
      And the steps ran on this timeline:
        | step   | starts | ends |
        | before | 0      | 1    |
        | check  | 1      | 8    |
        | after  | 8      | 9    |
      And the step "after" output "wanted" is 6
      And the step "after" output "target" is "redis-cache"
      And the step "after" output "child" is "Succeeded"

    Scenario Outline: A child that fails (<how>) fails the parent's step, and the parent
      Given the workflow:
        """
        name: fragile
        retry: {max_attempts: 1}
        timeout: <timeout>
        steps:
          - {id: apply, action: work, timeout: 100, params: {seconds: <seconds>, fail: <fail>}}
        """
      And the workflow:
        """
        name: parent
        retry: {max_attempts: 1}
        timeout: 300
        steps:
          - {id: run-child, action: subflow, timeout: 200, params: {template: fragile}}
          - {id: after, action: work, depends_on: [run-child], params: {seconds: 1}}
        """
      When I submit the workflow "parent"
      Then the execution ends Failed
      And the subflow of step "run-child" ran "fragile" and ended Failed
      And the subflow of step "run-child" has the step "apply" <apply>
      And the step "run-child" is Failed
      And the step "run-child" failed with an error saying "subflow 'fragile'"
      And the step "run-child" failed with an error saying "ended Failed"
      And the step "run-child" took <took> virtual seconds
      And the action of step "after" ran 0 times

      Examples:
        | how                         | timeout | seconds | fail  | apply    | took |
        | its step fails              | 600     | 3       | true  | Failed   | 3    |
        | its workflow timeout passes | 10      | 50      | false | TimedOut | 10   |

    Scenario: Cancelling the parent cancels the running child
      Given the workflow:
        """
        name: slow-drain
        retry: {max_attempts: 1}
        steps:
          - {id: drain, action: work, params: {seconds: 40}}
          - {id: uncordon, action: work, depends_on: [drain], params: {seconds: 1}}
        """
      And the workflow:
        """
        name: parent
        retry: {max_attempts: 1}
        steps:
          - {id: run-child, action: subflow, params: {template: slow-drain}}
          - {id: after, action: work, depends_on: [run-child], params: {seconds: 1}}
        """
      When I submit the workflow "parent"
      And the step "drain" of the subflow of step "run-child" has started
      And 10 virtual seconds pass
      And I cancel the execution
      Then the execution ends Cancelled
      And the step "run-child" is Cancelled
      And the subflow of step "run-child" ran "slow-drain" and ended Cancelled
      And the subflow of step "run-child" has the step "drain" Cancelled
      And the subflow of step "run-child" has the step "uncordon" Cancelled
      And the action of step "drain" stopped after 10 virtual seconds
      And the action of step "uncordon" ran 0 times
      And the action of step "after" ran 0 times

    Scenario Outline: Subflows never deadlock an engine-wide limit of <limit>
      # The parent steps wait on children whose steps need the same slots: a waiting
      # parent step gives its slot back, so the children run, still within the limit.
      Given the engine runs at most <limit> steps at once
      And the workflow:
        """
        name: parent
        retry: {max_attempts: 1}
        steps:
          - {id: first, action: subflow, params: {template: scale-check, inputs: {service: a}}}
          - {id: second, action: subflow, params: {template: scale-check, inputs: {service: b}}}
        """
      When I submit the workflow "parent"
      Then the execution succeeds
      And the subflow of step "first" ran "scale-check" and ended Succeeded
      And the subflow of step "second" ran "scale-check" and ended Succeeded
      And the execution took <took> virtual seconds

      Examples:
        | limit | took |
        | 1     | 14   |
        | 2     | 7    |
