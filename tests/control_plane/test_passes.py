"""The passes' public seam: `tick` and `dispatch_run`, stateless and bounded in time."""

from __future__ import annotations

from control_plane.auth import derive_run_token
from control_plane.passes import TickReport, dispatch_run, tick
from push_pools.base import InfraPhase, InfraStatus
from tests.control_plane import counting_pool
from tests.control_plane.counting_pool import CountingPool
from tests.control_plane.orchestration import Orchestra


def test_tick_submits_due_runs_and_reports_what_it_did(orch: Orchestra) -> None:
    deployment = orch.deploy()
    runs = [orch.trigger(deployment)["id"] for _ in range(3)]
    report = tick(orch.services, budget_seconds=30)
    assert isinstance(report, TickReport)
    assert report.dispatched == 3 and report.failed == [] and not report.out_of_budget
    assert sorted(orch.submitted()) == sorted(runs)
    assert tick(orch.services, budget_seconds=30).dispatched == 0  # nothing submitted twice


def test_a_tick_without_budget_stops_before_any_pass_and_the_next_carries_on(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    spent = tick(orch.services, budget_seconds=0)
    assert spent.out_of_budget and spent.dispatched == 0
    assert orch.state(run["id"]) == ("SCHEDULED", "Scheduled")
    assert tick(orch.services, budget_seconds=30).dispatched == 1
    assert orch.submitted() == [run["id"]]


def test_dispatch_run_submits_that_run_only_and_only_once(orch: Orchestra) -> None:
    deployment = orch.deploy()
    first, second = orch.trigger(deployment), orch.trigger(deployment)
    assert dispatch_run(orch.services, first["id"]) is True
    assert dispatch_run(orch.services, first["id"]) is False
    assert orch.submitted() == [first["id"]]
    assert orch.state(second["id"]) == ("SCHEDULED", "Scheduled")


def test_a_cancel_is_sent_to_the_pool_once_however_many_passes_run(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    infra_id = f"pushflow-{run['id']}"
    orch.api.post(f"/api/flow-runs/{run['id']}/cancel").raise_for_status()
    for _ in range(3):
        orch.reconcile()
        CountingPool.ended.pop(infra_id, None)  # the infrastructure is still stopping
    assert CountingPool.cancelled == [infra_id]
    CountingPool.ended[infra_id] = InfraStatus(InfraPhase.EXITED, exit_code=143)
    orch.reconcile()
    assert orch.state(run["id"])[0] == "CANCELLED"


def test_run_tokens_are_signed_with_the_server_secret_not_the_admin_key(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    (submission,) = counting_pool.submissions(orch.count_file)
    services = orch.services
    assert services.server_secret and services.server_secret != services.api_key
    assert submission[3] == derive_run_token(services.server_secret, run["id"], 1)[0]
    assert submission[3] != derive_run_token(services.api_key, run["id"], 1)[0]
