"""Ticks and SQS deliveries through the handler: a tick creates scheduled runs and queues
each one due before the next tick on SQS (moto) with its delay; a delivery dispatches
its run when due, once, however often it arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlmodel import Session, select

from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.dispatch_queue import DueRun, delay_seconds, upcoming
from control_plane.columns import utcnow
from control_plane.models import FlowRun
from control_plane.settings import Settings
from runtime.states import StateType
from tests.aws_lambda.conftest import ADMIN_KEY, invoke
from tests.aws_lambda.fixtures import load, request
from tests.control_plane import counting_pool

pytestmark = pytest.mark.postgres


@pytest.fixture
def queue_url(aws: str, request: pytest.FixtureRequest) -> str:
    sqs = boto3.client("sqs")
    return str(sqs.create_queue(QueueName=f"dispatch-{abs(hash(request.node.name))}")["QueueUrl"])


@pytest.fixture
def ticking(lambda_settings: Settings, queue_url: str, tmp_path: Path) -> Iterator[Container]:
    counting_pool.register()
    settings = lambda_settings.model_copy(update={"dispatch_queue_url": queue_url})
    container = Container(settings)
    invoke(container, {"pushflow": "migrate"})
    count_file = tmp_path / "submissions"
    pool = {
        "pushflow": "upsert-pool",
        "name": "counted",
        "type": "counting",
        "defaults": {"count_file": str(count_file)},
    }
    invoke(container, pool)
    body = {
        "name": "every-20s",
        "flow_name": "f",
        "entrypoint": "f.py:f",
        "pool": "counted",
        "schedules": [{"interval_seconds": 20}],
    }
    answer = invoke(container, request("apigateway-http-v2.json", "POST", "/api/deployments", body=body, key=ADMIN_KEY))
    assert answer["statusCode"] in (200, 201), answer
    container.count_file = count_file  # type: ignore[attr-defined]
    yield container
    container.close()


def scheduled_runs(container: Container) -> list[FlowRun]:
    with Session(container.services().engine) as session:
        return list(session.exec(select(FlowRun).where(FlowRun.state_type == StateType.SCHEDULED)))


def queued(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return [attributes]


def sqs_event(*bodies: str) -> dict[str, Any]:
    event = load("sqs.json")
    template = event["Records"][0]
    event["Records"] = [{**template, "messageId": f"m{i}", "body": b} for i, b in enumerate(bodies)]
    return event


@pytest.mark.parametrize("fixture", ["eventbridge-scheduled-rule.json", "eventbridge-scheduler-input.json"])
def test_a_tick_schedules_runs_and_queues_those_due_before_the_next_tick(
    ticking: Container, queue_url: str, fixture: str
) -> None:
    answer = invoke(ticking, load(fixture))
    assert answer["pushflow"] == "tick"
    runs = scheduled_runs(ticking)
    assert answer["scheduled"] == len(runs) > 0
    horizon = utcnow() + timedelta(seconds=ticking.settings.tick_interval * 1.5)
    soon = [r for r in runs if r.expected_start_time <= horizon]
    assert answer["queued"] == len(soon) >= 3  # every 20 s within the next 90 s
    attributes = queued(queue_url)[0]
    assert int(attributes["ApproximateNumberOfMessagesDelayed"]) == len(soon)
    assert int(attributes["ApproximateNumberOfMessages"]) == 0  # none visible before its time


def test_a_delivery_dispatches_its_run_once_however_often_it_arrives(ticking: Container) -> None:
    invoke(ticking, {"pushflow": "tick"})
    run = min(scheduled_runs(ticking), key=lambda r: r.expected_start_time)
    due = utcnow() + timedelta(seconds=0.3)
    with Session(ticking.services().engine) as session:  # make the first slot due in 0.3 s
        stored = session.get(FlowRun, run.id)
        assert stored is not None
        stored.expected_start_time = due
        session.add(stored)
        session.commit()
    body = DueRun(run.id, due).body()
    answer = invoke(ticking, sqs_event(body, body))  # delivered twice in one batch
    assert answer == {"batchItemFailures": []}
    again = invoke(ticking, sqs_event(body))  # and once more later
    assert again == {"batchItemFailures": []}
    submitted = [s[0] for s in counting_pool.submissions(ticking.count_file)]  # type: ignore[attr-defined]
    assert submitted == [run.id]
    with Session(ticking.services().engine) as session:
        dispatched = session.get(FlowRun, run.id)
        assert dispatched is not None and dispatched.state_type == StateType.PENDING
        assert dispatched.state_timestamp >= due  # not before its time


def test_a_delivery_emits_dispatch_metrics(ticking: Container, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(ticking, {"pushflow": "tick"})
    run = min(scheduled_runs(ticking), key=lambda r: r.expected_start_time)
    with Session(ticking.services().engine) as session:
        stored = session.get(FlowRun, run.id)
        assert stored is not None
        stored.expected_start_time = utcnow()
        session.add(stored)
        session.commit()
    capsys.readouterr()
    invoke(ticking, sqs_event(DueRun(run.id, utcnow()).body()))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    assert emf and emf[-1]["RunsDispatched"] == [1.0]
    assert emf[-1]["DispatchLatency"][0] >= 0
    names = {m["Name"] for m in emf[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"RunsDispatched", "DispatchLatency"}


def test_a_tick_reports_its_duration_and_created_runs(ticking: Container, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    invoke(ticking, load("eventbridge-scheduled-rule.json"))
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
    assert emf and emf[-1]["TickDuration"][0] > 0
    assert emf[-1]["RunsCreated"][0] >= 1


def test_a_message_that_arrives_early_is_queued_again_with_the_remaining_delay(
    ticking: Container, queue_url: str
) -> None:
    invoke(ticking, {"pushflow": "tick"})
    run = max(scheduled_runs(ticking), key=lambda r: r.expected_start_time)
    before = int(queued(queue_url)[0]["ApproximateNumberOfMessagesDelayed"])
    answer = invoke(ticking, sqs_event(DueRun(run.id, run.expected_start_time).body()))
    assert answer == {"batchItemFailures": []}
    assert int(queued(queue_url)[0]["ApproximateNumberOfMessagesDelayed"]) == before + 1
    assert counting_pool.submissions(ticking.count_file) == []  # type: ignore[attr-defined]


def test_a_run_that_fell_due_while_the_tick_ran_is_queued_at_once_not_left_for_the_next_tick(
    ticking: Container,
) -> None:
    invoke(ticking, {"pushflow": "tick"})
    first, second, *_ = sorted(scheduled_runs(ticking), key=lambda r: r.expected_start_time)
    tick_began = utcnow() - timedelta(seconds=5)
    with Session(ticking.services().engine) as session:
        fell_due = session.get(FlowRun, first.id)  # due after the tick's dispatch pass, before it queued
        stuck = session.get(FlowRun, second.id)  # overdue before the tick began (a paused pool, say)
        assert fell_due is not None and stuck is not None
        fell_due.expected_start_time = utcnow() - timedelta(seconds=1)
        stuck.expected_start_time = tick_began - timedelta(seconds=30)
        session.add_all([fell_due, stuck])
        session.commit()
        due = {d.run_id: d.due for d in upcoming(session, tick_began, utcnow() + timedelta(seconds=90))}
    assert first.id in due and second.id not in due  # the stuck one is not queued every minute
    assert delay_seconds(due[first.id], utcnow()) == 0


def test_delays_are_whole_seconds_rounded_down_and_capped_at_sqs_limit() -> None:
    now = utcnow()
    assert delay_seconds(now + timedelta(seconds=30.9), now) == 30
    assert delay_seconds(now - timedelta(seconds=5), now) == 0
    assert delay_seconds(now + timedelta(hours=1), now) == 900


def test_a_run_created_over_https_is_counted_and_logged_under_its_id(
    ticking: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    http = request("apigateway-http-v2.json", "GET", "/api/deployments/by-name/f/every-20s", key=ADMIN_KEY)
    deployment = json.loads(invoke(ticking, http)["body"])
    capsys.readouterr()
    trigger = request("function-url.json", "POST", f"/api/deployments/{deployment['id']}/runs", body={}, key=ADMIN_KEY)
    created = invoke(ticking, trigger)
    assert created["statusCode"] == 201, created
    run_id = json.loads(created["body"])["id"]
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
    assert emf and emf[-1]["RunsCreated"] == [1.0]
    assert [s[0] for s in counting_pool.submissions(ticking.count_file)] == [run_id]  # type: ignore[attr-defined]  # submitted in its own request
