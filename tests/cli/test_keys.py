"""`pushflow key create | ls | revoke` against a real server, through the console script."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.shell import pushflow
from tests.helpers import LiveServer


def test_a_key_is_created_used_listed_and_revoked(server: LiveServer, project: Path) -> None:
    created = pushflow(server, project, "key", "create", "ci-reader", "--scope", "read", "--expires", "30d")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("pfk_")
    as_reader = {"PUSHFLOW_API_KEY": secret}

    assert pushflow(server, project, "pool", "ls", env=as_reader).returncode == 0
    refused = pushflow(server, project, "pool", "create", "other", "--type", "process", env=as_reader)
    assert refused.returncode == 1
    assert "scope is 'read'" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    listed = json.loads(pushflow(server, project, "key", "ls", "-o", "json").stdout)
    mine = next(k for k in listed if k["name"] == "ci-reader")
    assert mine["scope"] == "read" and mine["expires"] and mine["last_used"]
    assert secret not in json.dumps(listed)

    assert pushflow(server, project, "key", "revoke", "ci-reader").returncode == 0
    after = pushflow(server, project, "pool", "ls", env=as_reader)
    assert after.returncode == 1
    assert "revoked" in after.stderr


def test_bad_key_options_are_one_line_usage_errors(server: LiveServer, project: Path) -> None:
    for args in (["--scope", "root"], ["--scope", "read", "--expires", "soon"]):
        result = pushflow(server, project, "key", "create", "x", *args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
