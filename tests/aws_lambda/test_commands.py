"""Direct invocations, as terraform's `aws_lambda_invocation` makes them: migrate,
upsert-pool and tick; a bad command raises so `terraform apply` fails with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.errors import CommandError, LambdaConfigError
from control_plane.settings import Settings
from tests.aws_lambda.conftest import ADMIN_KEY, invoke
from tests.aws_lambda.fixtures import request, response_json

pytestmark = pytest.mark.postgres


def test_migrate_twice_is_harmless(container: Container) -> None:
    assert invoke(container, {"pushflow": "migrate"}) == {"pushflow": "migrate", "status": "ok"}


def test_upsert_pool_creates_then_updates(container: Container) -> None:
    event = {"pushflow": "upsert-pool", "name": "fargate", "type": "ecs", "defaults": {"image": "flows:1"}}
    created = invoke(container, event)["pool"]
    assert (created["name"], created["type"], created["defaults"]) == ("fargate", "ecs", {"image": "flows:1"})
    updated = invoke(container, {**event, "defaults": {"image": "flows:2"}, "concurrency_limit": 5})["pool"]
    assert updated["id"] == created["id"]
    shown = invoke(container, request("function-url.json", "GET", "/api/pools/fargate", key=ADMIN_KEY))
    assert response_json(shown)["defaults"] == {"image": "flows:2"}
    assert response_json(shown)["concurrency_limit"] == 5


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"pushflow": "upsert-pool", "name": "x", "type": "mainframe"}, "unknown pool type 'mainframe'"),
        ({"pushflow": "upsert-pool", "type": "ecs"}, "invalid pool: name: Field required"),
        ({"pushflow": "upsert-pool", "name": "x", "type": "ecs", "defaults": {"cpu": "lots"}}, "defaults: cpu"),
        ({"pushflow": "vacuum"}, "unknown command 'vacuum'; choose one of: migrate, tick, upsert-pool"),
    ],
)
def test_a_bad_command_raises_with_the_reason(container: Container, event: dict, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        invoke(container, event)


def test_a_pool_cannot_change_type(container: Container) -> None:
    invoke(container, {"pushflow": "upsert-pool", "name": "p", "type": "ecs", "defaults": {"image": "i"}})
    with pytest.raises(CommandError, match="is of type 'ecs', not 'process'; delete it first"):
        invoke(container, {"pushflow": "upsert-pool", "name": "p", "type": "process"})


def test_without_a_bundle_store_bundle_routes_say_what_to_set(container: Container) -> None:
    sha = "0" * 64
    answer = invoke(container, request("apigateway-http-v2.json", "HEAD", f"/api/bundles/{sha}", key=ADMIN_KEY))
    assert answer["statusCode"] == 409
    upload = request("apigateway-http-v2.json", "PUT", f"/api/bundles/{sha}", body="x", key=ADMIN_KEY)
    refused = invoke(container, upload)
    assert refused["statusCode"] == 409
    assert "PUSHFLOW_BUNDLE_STORE" in refused["body"]


def test_a_folder_bundle_store_is_refused(lambda_settings: Settings, tmp_path: Path) -> None:
    settings = lambda_settings.model_copy(update={"bundle_store": str(tmp_path / "bundles")})
    with pytest.raises(LambdaConfigError, match="is a folder; on Lambda use s3://"):
        invoke(Container(settings), {"pushflow": "migrate"})
    assert not (tmp_path / "bundles").exists()
