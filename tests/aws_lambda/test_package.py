"""`pushflow lambda package`: the zip, unpacked into a clean folder, imports the handler
with a plain Python (no site-packages, no venv) and answers a health event; importing it
loads no google or azure package, writes no file and starts no thread.

The zip is built once per session for this machine's Python (pip caches the wheels it
downloads across sessions)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.aws_lambda.fixtures import request

# Building downloads and unpacks ~80 MB of wheels: minutes on a busy machine.
pytestmark = pytest.mark.timeout(600)

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PROBE = """
import json, sys, threading
sys.path.insert(0, sys.argv[1])
from control_plane.aws_lambda import handler
threads = threading.active_count()
answer = handler(json.loads(sys.argv[2]), None)
print(json.dumps({
    "answer": answer,
    "threads_after_import": threads,
    "clouds": sorted(m for m in sys.modules if m.split(".")[0] in ("google", "azure")),
    "outside": sorted({m.__file__.split("/site-packages/")[0] for m in list(sys.modules.values())
                       if getattr(m, "__file__", None) and "site-packages" in m.__file__}),
}))
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "lambda", *args], capture_output=True, text=True, timeout=900
    )


def build_zip(tmp_path_factory: pytest.TempPathFactory, *options: str) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("lambda-zip") / "pushflow-lambda.zip"
    done = cli("package", "--python", PYTHON, "--pools", "ecs", *options, "-o", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MB zipped" in done.stdout and "Handler: control_plane.aws_lambda.handler" in done.stdout
    return output, done.stdout


@pytest.fixture(scope="session")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_zip(tmp_path_factory)[0]


def test_the_unpacked_zip_answers_a_health_event_with_a_plain_python(built_zip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        tops = {n.split("/")[0] for n in archive.namelist()}
    # The function answers through Mangum: no HTTP server (nor its C parser and loop) aboard.
    assert not [t for t in tops if t.startswith(("uvicorn", "httptools", "uvloop"))]
    answer_health_from(built_zip, tmp_path)


@pytest.mark.timeout(1200)  # builds a second zip (and the first, when run alone)
def test_a_zip_without_boto3_leaves_it_to_the_runtime_and_still_serves_http(
    built_zip: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    lean, said = build_zip(tmp_path_factory, "--exclude-boto3")
    assert "boto3 and botocore come from the Lambda runtime" in " ".join(said.split())  # rich wraps lines
    with zipfile.ZipFile(lean) as archive:
        tops = {n.split("/")[0] for n in archive.namelist()}
    assert not [t for t in tops if t.startswith(("boto3", "botocore", "s3transfer"))]
    assert {"control_plane", "mangum", "psycopg"} <= tops
    assert lean.stat().st_size < built_zip.stat().st_size - 5 * 1024 * 1024  # boto3 is most of the zip
    answer_health_from(lean, tmp_path)  # HTTP needs no AWS SDK until a pool or secret does


def answer_health_from(built_zip: Path, tmp_path: Path) -> None:
    task = tmp_path / "var-task"
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(task)
    before = sorted(str(p) for p in task.rglob("*"))
    task.chmod(0o555)  # /var/task is read-only on Lambda
    env = {
        "PATH": "/usr/bin:/bin",
        "PUSHFLOW_DATABASE_URL": "postgresql://pushflow@127.0.0.1:1/pushflow",  # not needed for health
        "PUSHFLOW_API_KEY": "k",
        "PUSHFLOW_SERVER_SECRET": "s" * 32,  # signs run tokens: the function refuses to start without one
        "PUSHFLOW_API_URL": "https://abc.execute-api.us-east-1.amazonaws.com/api",
        "AWS_REGION": "us-east-1",
    }
    event = request("apigateway-http-v2.json", "GET", "/api/health")
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", PROBE, str(task), json.dumps(event)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        task.chmod(0o755)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["answer"]["statusCode"] == 200
    assert json.loads(probe["answer"]["body"])["status"] == "ok"
    assert probe["clouds"] == []
    assert probe["outside"] == []  # everything came from the zip
    assert probe["threads_after_import"] == 1
    assert sorted(str(p) for p in task.rglob("*")) == before  # nothing written


def test_the_zip_holds_only_what_runs(built_zip: Path) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        names = archive.namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"control_plane", "runtime", "push_pools", "mangum", "psycopg", "boto3"} <= tops
    assert not [n for n in names if "/tests/" in f"/{n}" or n.startswith("bin/")]
    assert not [t for t in tops if t.startswith(("google", "azure", "grpc", "pytest", "moto"))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "unknown --arch 'sparc'; use x86_64 or arm64"),
        (["--pools", "ecs,nomad"], "unknown pool type(s) nomad for --pools"),
        (["--python", "three"], "--python wants a version like 3.12"),
    ],
)
def test_bad_options_fail_in_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = cli("package", *args, "-o", str(tmp_path / "x.zip"))
    assert done.returncode == 1
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
