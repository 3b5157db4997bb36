"""AWS's documented payloads, driven through the handler: each HTTP shape reaches the
API, scheduled events tick, SQS batches are delivered, anything else is answered with a
clear error instead of raising (an async source would retry it forever)."""

from __future__ import annotations

import pytest

from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.events import EventKind, classify
from control_plane.settings import Settings
from tests.aws_lambda.conftest import ADMIN_KEY, invoke
from tests.aws_lambda.fixtures import HTTP_FIXTURES, header, load, request, response_json

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("apigateway-http-v2.json", EventKind.HTTP),
        ("function-url.json", EventKind.HTTP),
        ("apigateway-rest-v1.json", EventKind.HTTP),
        ("eventbridge-scheduled-rule.json", EventKind.TICK),
        ("eventbridge-scheduler-input.json", EventKind.TICK),
        ("sqs.json", EventKind.QUEUE),
    ],
)
def test_each_documented_payload_is_recognised(name: str, kind: EventKind) -> None:
    assert classify(load(name)) is kind


@pytest.mark.parametrize("name", HTTP_FIXTURES)
def test_every_http_shape_reaches_the_api(container: Container, name: str) -> None:
    health = invoke(container, request(name, "GET", "/api/health"))
    assert health["statusCode"] == 200, health
    assert response_json(health)["status"] == "ok"

    refused = invoke(container, request(name, "GET", "/api/pools"))
    assert refused["statusCode"] == 401
    assert "Authorization: Bearer" in response_json(refused)["detail"]

    body = {"name": "fargate", "type": "ecs", "defaults": {"image": "pushflow/flows:1"}}
    created = invoke(container, request(name, "POST", "/api/pools", body=body, key=ADMIN_KEY))
    assert created["statusCode"] == 201, created
    listed = invoke(container, request(name, "GET", "/api/pools", key=ADMIN_KEY))
    assert [p["name"] for p in response_json(listed)] == ["fargate"]

    missing = invoke(container, load(name))  # the sample's own path, /my/path
    assert missing["statusCode"] == 404


def test_bad_input_over_http_is_a_4xx_saying_what_was_wrong(container: Container) -> None:
    body = {"name": "fargate", "type": "ecs", "defaults": {"cpu": "lots"}}
    answer = invoke(container, request("apigateway-http-v2.json", "POST", "/api/pools", body=body, key=ADMIN_KEY))
    assert answer["statusCode"] == 422
    assert "cpu" in str(response_json(answer)["detail"])


def test_a_body_over_the_limit_is_refused_with_413_under_mangum(lambda_settings: Settings) -> None:
    # API Gateway hands Mangum the whole body with no Content-Length: the limit is met while reading.
    container = Container(lambda_settings.model_copy(update={"max_request_bytes": 1000}))
    try:
        assert invoke(container, {"pushflow": "migrate"}) == {"pushflow": "migrate", "status": "ok"}
        body = {"name": "p", "type": "process", "description": "x" * 5000}
        answer = invoke(container, request("apigateway-http-v2.json", "POST", "/api/pools", body=body, key=ADMIN_KEY))
    finally:
        container.close()
    assert answer["statusCode"] == 413
    assert "PUSHFLOW_MAX_REQUEST_BYTES" in response_json(answer)["detail"]


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:s3", "s3": {}}]},
        {"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2"},
        {},
        "tick",
        ["not", "an", "object"],
        None,
    ],
)
def test_an_unknown_event_is_answered_not_raised(container: Container, event: object) -> None:
    answer = invoke(container, event)
    assert "pushflow cannot handle this event" in answer["error"]
    assert "EventBridge" in answer["error"]


def test_an_unreadable_sqs_message_is_dropped_with_a_reason(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    answer = invoke(container, load("sqs.json"))  # bodies are "Test message.", not ours
    assert answer == {"batchItemFailures": []}
    assert "not a pushflow dispatch message" in caplog.text


def test_a_health_answer_carries_no_secret(container: Container) -> None:
    answer = invoke(container, request("function-url.json", "GET", "/api/health"))
    assert ADMIN_KEY not in str(answer)
    assert header(answer, "content-type") == "application/json"
