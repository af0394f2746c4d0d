"""Locust users, load shapes and SLO checks: what ``windtunnel load`` runs.

Two sides, kept apart because ``import locust`` monkey-patches its process for gevent
and must never happen in the pytest process (or the CLI's):

* Locust's process only: :mod:`loadtests.locustfile` (the ``-f`` file) and what it
  imports for Locust: :mod:`~loadtests.http_user`, :mod:`~loadtests.inprocess_user`,
  :mod:`~loadtests.shapes`, :mod:`~loadtests.bridge` (the in-process engine's thread)
  and :mod:`~loadtests.reporting`.
* Plain modules, used by the CLI and the requirement steps: the plan
  (:mod:`~loadtests.plan`), the shapes' arithmetic (:mod:`~loadtests.schedule`), the
  mix (:mod:`~loadtests.mix`), the measurements (:mod:`~loadtests.stats`), the SLO
  gates (:mod:`~loadtests.slo`), the loss check (:mod:`~loadtests.ledger`), the run
  itself (:mod:`~loadtests.runner`, :mod:`~loadtests.service`,
  :mod:`~loadtests.progress`) and what it leaves behind (:mod:`~loadtests.history`,
  :mod:`~loadtests.summary`, :mod:`~loadtests.trends`), and the in-process bench
  (:mod:`~loadtests.bench`).

A test (``tests/unit/loadtests/test_no_locust_in_pytest.py``) holds the line.
"""
