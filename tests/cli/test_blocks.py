"""`pushflow block create | ls | inspect | delete` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.shell import pushflow
from tests.helpers import LiveServer


def test_a_block_is_created_listed_inspected_and_deleted_without_showing_its_secret(
    server: LiveServer, project: Path
) -> None:
    fields = project / "creds.json"
    fields.write_text(json.dumps({"aws_access_key_id": "AKIA1", "aws_secret_access_key": "very-secret-value"}))
    created = pushflow(server, project, "block", "create", "aws-credentials/prod", "-f", str(fields))
    assert created.returncode == 0, created.stderr
    listed = pushflow(server, project, "block", "ls", "-o", "json")
    inspected = pushflow(server, project, "block", "inspect", "aws-credentials/prod")
    for result in (created, listed, inspected):
        assert "very-secret-value" not in result.stdout + result.stderr
    assert json.loads(inspected.stdout)["data"]["aws_access_key_id"] == "AKIA1"
    assert pushflow(server, project, "block", "delete", "aws-credentials/prod").returncode == 0
    gone = pushflow(server, project, "block", "inspect", "aws-credentials/prod")
    assert gone.returncode == 1 and len(gone.stderr.strip().splitlines()) == 1


def test_a_block_is_named_type_slash_name(server: LiveServer, project: Path) -> None:
    result = pushflow(server, project, "block", "create", "prod", "--set", "value=x")
    assert result.returncode == 2
    assert "TYPE/NAME" in result.stderr


def test_rotate_key_re_encrypts_every_block_and_says_with_which_key(server: LiveServer, project: Path) -> None:
    created = pushflow(server, project, "block", "create", "secret/rotated", "--set", "value=rotate-me-please")
    assert created.returncode == 0, created.stderr
    rotated = pushflow(server, project, "block", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted" in rotated.stdout and "with key k" in rotated.stdout
    assert "rotate-me-please" not in rotated.stdout + rotated.stderr
    pushflow(server, project, "block", "delete", "secret/rotated")
