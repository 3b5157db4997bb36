from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import SchemaPool, driver_url, new_schema, schema_url, sqlite_template
from tests.helpers import LiveServer

PG_URL = os.environ.get("PUSHFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    # Real AWS accounts have the AWS-managed IAM policies (AmazonECSTaskExecutionRolePolicy);
    # moto creates them only if asked before its IAM backend is first built, and every moto
    # server in this process shares one backend, so ask once, before any test starts one.
    try:
        from moto import settings
    except ImportError:
        return
    settings.default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


# Under pytest-xdist (scripts/test runs `-n 3`) a worker takes a whole file at a time, so
# a module's shared server or emulator starts once; these packages go whole to one worker,
# as their session fixtures are costly (a browser; Terraform's providers and `init`).
WHOLE_PACKAGES = ("tests/terraform/", "tests/ui/")
# Handed out first, longest first, so no long file starts last and runs alone at the end:
# each takes a minute or more of a full run. The rest follow in collection order.
SLOW_FIRST = (  # by their time in a full run (2026-12-02, --durations=0, summed per unit)
    "tests/control_plane/test_contract.py",  # ~430 s
    "tests/aws_lambda/test_package.py",  # ~340 s: two Lambda zips built
    "tests/ui/",  # ~240 s
    "tests/terraform/",  # ~235 s
    "tests/e2e/test_ecs_e2e.py",
    "tests/e2e/test_managed_pool.py",
    "tests/cli/test_errors.py",
    "tests/control_plane/test_concurrent_ticks.py",
    "tests/push_pools/test_ecs.py",
    "tests/e2e/test_code_sources.py",
)


def _work_unit(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((p for p in WHOLE_PACKAGES if path.startswith(p)), path)


def _slow_rank(nodeid: str) -> int:
    unit = _work_unit(nodeid)
    return next((i for i, prefix in enumerate(SLOW_FIRST) if unit.startswith(prefix)), len(SLOW_FIRST))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`-n N` (dist "load"): whole work units (`_work_unit`), in the workers' order."""
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist keeps xdist's own scheduling
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _work_unit(nodeid)

    config.option.loadscopereorder = False  # keep SLOW_FIRST's order, not "most tests first"
    return WorkUnitScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: slowest work first (a stable sort)
        items.sort(key=lambda item: _slow_rank(item.nodeid))


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(driver_url(PG_URL), connect_timeout=2):
            return None
    except Exception as exc:  # the reason to show in the skip
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema in the `test` database on 127.0.0.1:5432. Skips when there is no
    server, except in CI (CI=true), where PostgreSQL tests are mandatory."""
    problem = _postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required in CI: {problem}")
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 (database test) not reachable: {problem}")
    yield PG_URL


@pytest.fixture
def reap() -> Iterator[Callable[[subprocess.Popen[str]], subprocess.Popen[str]]]:
    """Register the subprocesses a test starts: any still running when the test ends (it
    failed or timed out) is killed and its pipes closed, so it holds no database lock (a
    schema drop would deadlock against it), port or file for the tests after it. Request it
    after `pg_schema_url`, so it is torn down first."""
    started: list[subprocess.Popen[str]] = []

    def register(process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        started.append(process)
        return process

    yield register
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    import psycopg

    schema = new_schema(postgres_url)
    try:
        yield schema_url(postgres_url, schema)
    finally:
        with psycopg.connect(driver_url(postgres_url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def schema_pool() -> Iterator[SchemaPool]:
    pool = SchemaPool(PG_URL)
    yield pool
    pool.close()


@pytest.fixture
def pg_migrated_url(postgres_url: str, schema_pool: SchemaPool) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema at the newest revision, with no rows
    (tests/databases.py: migrated once, emptied after each test that used it)."""
    schema = schema_pool.take()
    try:
        yield schema_pool.url_of(schema)
    finally:
        schema_pool.give_back(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each API test runs against SQLite and PostgreSQL: a store at the newest schema, with
    no rows, the test's own (tests/databases.py). Request `reap` after it, so the processes
    a test started end before its store is emptied."""
    if request.param == "sqlite":
        return sqlite_template().copy_to(tmp_path / "pushflow.db")
    return str(request.getfixturevalue("pg_migrated_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on SQLite and on PostgreSQL (no schema), for the tests of migrating."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pushflow.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


ADMIN_KEY = "test-admin-key"


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[object]:
    """The API in-process (FastAPI TestClient), without background loops, on each database."""
    from fastapi.testclient import TestClient

    from control_plane.local import create_local_app
    from control_plane.settings import Settings

    # No loops and no dispatch on trigger: a run stays as the API left it until a test runs a pass.
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, api_key=ADMIN_KEY, run_loops=False, dispatch_on_trigger=False
    )
    with TestClient(create_local_app(settings), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


FLOW_SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "default": 3}, "label": {"type": "string"}},
    "required": ["label"],
    "additionalProperties": False,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `pushflow server start` on a free port, SQLite under its own home."""
    with LiveServer(tmp_path / "home") as live:
        yield live


@pytest.fixture
def deployment(api: object) -> dict:
    """A process pool and a deployment on it, made through the API."""
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()  # type: ignore[attr-defined]
    response = api.post(  # type: ignore[attr-defined]
        "/api/deployments",
        json={
            "name": "nightly",
            "flow_name": "etl",
            "entrypoint": "flows/etl.py:etl",
            "pool": "local",
            "parameters": {"label": "default"},
            "parameter_schema": FLOW_SCHEMA,
        },
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]
