"""Every CLI error is one line on stderr saying what was wrong and what to do, with exit
code 1 when the thing failed and 2 when the command was used wrongly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.shell import one_error_line, pushflow
from tests.helpers import LiveServer

FAILED, USAGE = 1, 2


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (
            ("run", "etl/nightly", "--param", "n=abc"),
            FAILED,
            "invalid parameters: parameter 'n': expected integer, got 'abc' ('abc' is not of type 'integer')",
        ),
        (
            ("run", "etl/nightly", "--job-var", "bogus=1"),
            FAILED,
            "invalid job variables: unknown job variable `bogus`; "
            "this pool type takes: command, env, log_dir, working_dir",
        ),
        (
            ("pool", "create", "p2", "--type", "process", "--set", "workdir=/tmp"),
            FAILED,
            "invalid pool defaults: unknown job variable `workdir`; did you mean `working_dir`?",
        ),
        (
            ("pool", "create", "local", "--type", "process"),
            FAILED,
            "pool 'local' already exists; change it with `pushflow pool update local` "
            "(PATCH /api/pools/local) or pick another name",
        ),
        (
            ("deploy", "flows/etl.py:etl", "--name", "c", "--pool", "local", "--cron", "0 25 * * *"),
            FAILED,
            "invalid request: invalid cron expression '0 25 * * *': the hour field '25' is not valid "
            "(allowed 0-23, with * , - /)",
        ),
        (
            ("deploy", "flows/etl.py:etl", "--name", "c", "--pool", "local", "--cron", "0 9 * *"),
            FAILED,
            "invalid request: invalid cron expression '0 9 * *': expected 5 fields "
            "(minute hour day-of-month month day-of-week), got 4, e.g. '*/5 * * * *'",
        ),
        (("deployment", "inspect", "etl/nope"), FAILED, "deployment 'etl/nope' not found"),
        (
            ("deployment", "schedule", "pause", "etl/nightly", "zzz"),
            FAILED,
            "deployment etl/nightly has no schedule 'zzz'; "
            "list them with `pushflow deployment schedule ls etl/nightly`",
        ),
        (
            ("pool", "delete", "local", "--yes"),
            FAILED,
            "pool 'local' is used by 1 deployment(s): etl/nightly; delete them (`pushflow deployment delete "
            "FLOW/NAME`) or redeploy them to another pool first",
        ),
        (
            ("runs", "inspect", "nope"),
            FAILED,
            "flow run 'nope' not found; give a run's name, id or id prefix (see `pushflow runs ls`)",
        ),
        (("run", "no-slash"), USAGE, "name the deployment as FLOW/DEPLOYMENT, got 'no-slash'"),
        (("run", "etl/nightly", "--param", "n"), USAGE, "--param expects key=value, got 'n'"),
        (("runs", "ls", "-o", "yaml"), USAGE, "--output must be table or json, got 'yaml'"),
        (
            ("runs", "ls", "--state", "runing"),
            USAGE,
            "unknown state 'runing'; use one of: scheduled, pending, running, completed, failed, crashed, "
            "cancelling, cancelled, paused",
        ),
        (
            ("deploy", "flows/etl.py:etl"),
            USAGE,
            "missing --name, --pool: pushflow deploy path/to/file.py:flow --name NAME --pool POOL",
        ),
        (
            ("deploy", "flows/etl.py:etl", "--name", "x", "--pool", "ghost"),
            FAILED,
            "pool 'ghost' not found; create it with `pushflow pool create ghost --type process`",
        ),
        (
            ("deploy", "flows/missing.py:etl", "--name", "x", "--pool", "local"),
            FAILED,
            "flow file 'flows/missing.py' does not exist (looked in {project}/flows)",
        ),
        (
            ("pool", "create", "p", "--type", "kubernetes"),
            FAILED,
            "unknown pool type 'kubernetes'; choose one of: aci, cloud-run, ecs, managed, process",
        ),
    ],
)
def test_each_error_is_one_line_with_its_exit_code(
    server: LiveServer, project: Path, args: tuple[str, ...], code: int, line: str
) -> None:
    result = pushflow(server, project, *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert one_error_line(result) == "Error: " + line.replace("{project}", str(project))


def test_a_usage_mistake_caught_by_the_parser_exits_2(server: LiveServer, project: Path) -> None:
    result = pushflow(server, project, "runs", "ls", "--limit", "many")
    assert result.returncode == USAGE
    assert one_error_line(result) == (
        "Error: Invalid value for '--limit': Input should be a valid integer, unable to parse string as an "
        "integer; see `pushflow runs ls --help`"
    )


def test_a_wrong_key_says_where_the_cli_found_it(server: LiveServer, project: Path) -> None:
    from_env = pushflow(server, project, "pool", "ls", env={"PUSHFLOW_API_KEY": "wrong"})
    assert from_env.returncode == FAILED
    assert one_error_line(from_env) == (
        f"Error: the API at {server.url} refused the key (invalid API key): "
        "the key came from $PUSHFLOW_API_KEY; set it to the server's key"
    )
    other_home = project / "elsewhere"
    other_home.mkdir(exist_ok=True)
    (other_home / "api_key").write_text("stale")
    from_file = pushflow(server, project, "pool", "ls", env={"PUSHFLOW_HOME": str(other_home)})
    assert one_error_line(from_file) == (
        f"Error: the API at {server.url} refused the key (invalid API key): the key came from "
        f"{other_home / 'api_key'}; set PUSHFLOW_API_KEY, or PUSHFLOW_HOME to the server's home"
    )


def test_a_str_parameter_takes_digits_as_text(server: LiveServer, project: Path) -> None:
    pushflow(server, project, "deploy", "flows/failing.py:failing", "--name", "param", "--pool", "local")
    created = pushflow(server, project, "run", "failing/param", "--param", "reason=123")
    assert created.returncode == 0, created.stderr
    run_name = created.stdout.split("flow run ", 1)[1].split(" ", 1)[0]
    shown = json.loads(pushflow(server, project, "runs", "inspect", run_name, "-o", "json").stdout)
    assert shown["parameters"] == {"reason": "123"}


def test_provision_without_the_cloud_extra_is_one_line(server: LiveServer, project: Path, tmp_path: Path) -> None:
    # boto3 made unimportable, as in an install without the aws extra.
    (tmp_path / "boto3").mkdir()
    (tmp_path / "boto3" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'boto3'\", name='boto3')\n"
    )
    assert pushflow(server, project, "pool", "create", "aws", "--type", "ecs").returncode == 0
    pythonpath = f"{tmp_path}:{server.env.get('PYTHONPATH', '')}"
    result = pushflow(server, project, "pool", "provision", "aws", env={"PYTHONPATH": pythonpath})
    assert result.returncode == FAILED
    assert one_error_line(result) == (
        "Error: provisioning pool 'aws' failed: the ecs pool needs boto3, which is not installed: "
        'pip install "pushflow[aws]"'
    )


def test_a_missing_working_dir_is_named_as_such(server: LiveServer, project: Path) -> None:
    deployed = pushflow(
        server, project, "deploy", "flows/etl.py:etl", "--name", "moved", "--pool", "local",
        "--job-var", "working_dir=/nonexistent/project",
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    watched = pushflow(server, project, "run", "etl/moved", "--watch")
    assert watched.returncode == FAILED
    assert "working_dir '/nonexistent/project' does not exist on this machine" in watched.stderr
    assert "python" not in watched.stderr


def test_executing_a_finished_run_fails(server: LiveServer, project: Path) -> None:
    created = pushflow(server, project, "run", "etl/nightly", "--watch")
    assert created.returncode == 0, created.stdout + created.stderr
    run_id = created.stdout.split("(", 1)[1].split(")", 1)[0]
    result = pushflow(server, project, "execute", run_id, env={"PUSHFLOW_API_KEY": server.api_key or ""})
    assert result.returncode == FAILED
    run_name = created.stdout.split("flow run ", 1)[1].split(" ", 1)[0]
    assert result.stderr.strip() == (
        f"pushflow execute: run '{run_name}' already ended COMPLETED; nothing to run "
        "(start a new run with `pushflow run FLOW/DEPLOYMENT`)"
    )


def test_server_start_problems_are_one_line(server: LiveServer, project: Path) -> None:
    busy = pushflow(server, project, "server", "start", "--port", str(server.port))
    assert busy.returncode == FAILED
    assert one_error_line(busy) == (
        f"Error: cannot listen on 127.0.0.1:{server.port} (Address already in use); stop what uses it "
        "(another pushflow server?) or choose another port with --port or PUSHFLOW_PORT"
    )
    no_database = pushflow(
        server, project, "server", "start", "--port", "0",
        env={"PUSHFLOW_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
    )  # fmt: skip
    assert no_database.returncode == FAILED
    line = one_error_line(no_database)
    assert line.startswith("Error: cannot reach the database postgresql+psycopg://nobody@127.0.0.1:1/x: ")
    assert line.endswith("; check PUSHFLOW_DATABASE_URL")


def test_a_bad_setting_stops_server_start_naming_the_variable(server: LiveServer, project: Path) -> None:
    bad = pushflow(server, project, "server", "start", env={"PUSHFLOW_DATABASE_POOL": "many", "PUSHFLOW_PORT": "x"})
    assert bad.returncode == USAGE
    line = one_error_line(bad)
    assert line.startswith("Error: invalid settings: PUSHFLOW_PORT: Input should be a valid integer")
    assert "PUSHFLOW_DATABASE_POOL: Input should be 'one' or 'null'" in line
