"""A Lambda container pays only for what its invocations need: a fresh interpreter
imports the handler, serves non-HTTP events (migrate, upsert-pool, an EventBridge tick,
an SQS delivery), and has still not loaded the web stack; the first HTTP event loads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.aws_lambda.fixtures import load, request

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).parents[2]

WEB_STACK = ["fastapi", "mangum", "jinja2", "uvicorn", "pydantic_settings", "google", "azure"]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from control_plane.aws_lambda import handler

    def loaded():
        return sorted({name.split(".")[0] for name in sys.modules})

    answers = {"import": loaded()}
    from tests.aws_lambda.lambda_worker import Context
    for label, event in json.loads(sys.argv[1]):
        answers[label] = {"answer": handler(event, Context(30)), "loaded": loaded()}
    print(json.dumps(answers, default=str))
    """
)


def container_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        # Without the AWS-call recorder's sitecustomize (it imports botocore in every process).
        "PYTHONPATH": str(ROOT),
        "PUSHFLOW_DATABASE_URL": database_url,
        "PUSHFLOW_API_KEY": "cold-admin-key",
        "PUSHFLOW_SERVER_SECRET": "cold-server-secret",
        "PUSHFLOW_API_URL": "https://example.execute-api.us-east-1.amazonaws.com/api",
        "PUSHFLOW_DATABASE_CONNECT_TIMEOUT": "1",
        "AWS_REGION": "us-east-1",
        **extra,
    }


def run_container(events: list[tuple[str, object]], database_url: str) -> dict[str, dict[str, object]]:
    env = container_env(database_url)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(events)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_non_http_events_never_load_the_web_stack_and_the_first_http_event_does(pg_schema_url: str) -> None:
    unknown_run = json.dumps({"run_id": str(uuid.uuid4()), "due": "2026-01-01T00:00:00+00:00"})
    sqs = load("sqs.json")
    sqs["Records"] = [{**sqs["Records"][0], "body": unknown_run}]
    events: list[tuple[str, object]] = [
        ("migrate", {"pushflow": "migrate"}),
        ("upsert-pool", {"pushflow": "upsert-pool", "name": "local", "type": "process"}),
        ("tick", load("eventbridge-scheduled-rule.json")),
        ("sqs", sqs),
        ("http", request("apigateway-http-v2.json", "GET", "/api/health")),
    ]
    seen = run_container(events, pg_schema_url)

    on_import = set(seen["import"])  # type: ignore[arg-type]
    heavy = ["sqlalchemy", "sqlmodel", "pydantic", "pydantic_core", "boto3", "botocore", "aws_lambda_powertools"]
    assert sorted(on_import & {*heavy, *WEB_STACK}) == []
    for label in ("migrate", "upsert-pool", "tick", "sqs"):
        loaded = set(seen[label]["loaded"])  # type: ignore[call-overload]
        assert sorted(loaded & set(WEB_STACK)) == [], f"the {label} event loaded {sorted(loaded & set(WEB_STACK))}"
    assert seen["upsert-pool"]["answer"]["pool"]["name"] == "local"  # type: ignore[index]
    assert seen["tick"]["answer"]["pushflow"] == "tick"  # type: ignore[index]
    assert seen["sqs"]["answer"] == {"batchItemFailures": []}
    http = seen["http"]
    assert http["answer"]["statusCode"] == 200  # type: ignore[index]
    assert {"fastapi", "mangum"} <= set(http["loaded"])  # type: ignore[call-overload]


SNAPSHOT_SCRIPT = textwrap.dedent(
    """
    import json, random, sys
    import snapshot_restore_py
    from control_plane.aws_lambda import handler, invocations

    at_init = sorted({name.split(".")[0] for name in sys.modules})
    from control_plane.lazy_routes import lazy_routes
    routes_left = len(lazy_routes(invocations.built_container().http().app).pending)
    engine = invocations.built_container().services().engine
    with engine.connect():  # a connection made during init, now idle in the pool
        pass
    pooled = engine.pool.checkedin()
    # What Lambda's runtime does: before-snapshot hooks in reverse order of registration,
    # then, in each restored copy, the after-restore hooks in order.
    for func, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        func(*args, **kwargs)
    in_snapshot = engine.pool.checkedin()
    random.seed(7)  # every copy restored from one snapshot starts with this state
    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)
    draw = random.random()
    from tests.aws_lambda.lambda_worker import Context
    health = handler(json.loads(sys.argv[1]), Context(30))
    print(json.dumps({"at_init": at_init, "pooled": pooled, "in_snapshot": in_snapshot, "draw": draw,
                      "routes_left": routes_left, "status": health["statusCode"]}))
    """
)


def test_preload_builds_everything_at_init_and_no_connection_or_random_state_survives_a_snapshot(
    pg_schema_url: str,
) -> None:
    health = json.dumps(request("apigateway-http-v2.json", "GET", "/api/health"))
    copies = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", SNAPSHOT_SCRIPT, health],
            capture_output=True,
            text=True,
            env=container_env(pg_schema_url, PUSHFLOW_LAMBDA_PRELOAD="true"),
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        copies.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = copies
    assert {"fastapi", "mangum", "sqlalchemy", "aws_lambda_powertools"} <= set(first["at_init"])
    assert first["routes_left"] == 0  # every route module is in the snapshot, not loaded per copy
    assert (first["pooled"], first["in_snapshot"]) == (1, 0)
    assert first["draw"] != second["draw"]
    assert first["status"] == second["status"] == 200


def test_a_bad_preload_value_fails_init_naming_the_variable(pg_schema_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import control_plane.aws_lambda"],
        capture_output=True,
        text=True,
        env=container_env(pg_schema_url, PUSHFLOW_LAMBDA_PRELOAD="sometimes"),
        timeout=120,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "LambdaConfigError" in last and "PUSHFLOW_LAMBDA_PRELOAD" in last, last
