"""How API answers are classified for the engine's retry policies."""

from __future__ import annotations

import pickle

from engine.kube_actions.errors import (
    KubeApiError,
    KubeConflictError,
    KubeTransientError,
    QuotaExceededError,
    classify,
)


def test_classification_of_api_answers() -> None:
    throttled = classify(
        429, b'{"reason":"TooManyRequests","message":"slow down"}', {"Retry-After": "3"}
    )
    assert isinstance(throttled, KubeTransientError)
    assert throttled.retryable
    assert throttled.retry_after == 3.0
    from_body = classify(503, b'{"message":"x","details":{"retryAfterSeconds":4}}')
    assert isinstance(from_body, KubeTransientError)
    assert from_body.retry_after == 4.0
    assert isinstance(
        classify(409, b'{"reason":"Conflict","message":"modified"}'), KubeConflictError
    )
    assert classify(409, b"{}").retryable
    for status in (400, 403, 404, 422):
        error = classify(status, b'{"reason":"Invalid","message":"spec.replicas: bad"}')
        assert isinstance(error, KubeApiError)
        assert not error.retryable
        assert "spec.replicas: bad" in str(error)
    quota = classify(
        403, b'{"message":"pods \\"x\\" is forbidden: exceeded quota: team-a, requested: cpu=1"}'
    )
    assert isinstance(quota, QuotaExceededError)
    assert quota.quota == "team-a"
    assert "ResourceQuota 'team-a' would be exceeded" in str(quota)


def test_errors_survive_pickling_with_their_attributes() -> None:
    throttled = classify(429, b"{}", {"Retry-After": "2"})
    again = pickle.loads(pickle.dumps(throttled))
    assert isinstance(again, KubeTransientError)
    assert (again.retry_after, again.status, str(again)) == (2.0, 429, str(throttled))
    quota = classify(403, b'{"message":"exceeded quota: q1, requested: cpu=1"}')
    copy = pickle.loads(pickle.dumps(quota))
    assert isinstance(copy, QuotaExceededError)
    assert copy.quota == "q1"
