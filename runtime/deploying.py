"""Deploying from Python: `flow.deploy(...)`, `flow.to_deployment(...)`, `flow.serve()`,
`flow.from_source(...)`, and `Flow.register(...)` for a Prefect Core graph.

A deployment names where the flow's code is (an entrypoint, `file.py:name`, relative to a
working directory) and how to run it (pool, parameters, job variables, schedules). The
entrypoint is found from the flow object itself: the module-level name it is bound to in
the file that defines it. httpx is imported only when a deployment is applied.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from runtime.errors import PushflowError
from runtime.loading import load_entrypoint

SERVE_POOL = "serve"


class DeployError(PushflowError):
    """A flow cannot be deployed as asked (no file to point at, two schedules, ...)."""


@dataclasses.dataclass
class RunnerDeployment:
    """What `flow.to_deployment()` returns; `apply()` registers it (an upsert)."""

    name: str
    flow_name: str
    entrypoint: str
    working_dir: str | None = None
    pool: str | None = None
    description: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    parameter_schema: dict[str, Any] | None = None
    job_variables: dict[str, Any] = dataclasses.field(default_factory=dict)
    schedules: list[dict[str, Any]] | None = None
    concurrency_limit: int | None = None
    # How runs get the code (pushflow_cli.sources): bundle, git, image or local; None
    # picks by pool type as `pushflow deploy` does. Not part of the API body.
    source_kind: str | None = dataclasses.field(default=None, metadata={"body": False})
    git_url: str | None = dataclasses.field(default=None, metadata={"body": False})

    @classmethod
    def from_flow(
        cls,
        flow: Any,
        name: str,
        *,
        pool: str | None = None,
        work_pool_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        job_variables: dict[str, Any] | None = None,
        image: str | None = None,
        cron: str | None = None,
        interval: Any = None,
        rrule: str | None = None,
        timezone: str = "UTC",
        schedule: Any = None,
        description: str | None = None,
        tags: list[str] | None = None,
        concurrency_limit: int | None = None,
        entrypoint: str | None = None,
        working_dir: str | None = None,
        source: str | None = None,
    ) -> RunnerDeployment:
        git_url = None
        if entrypoint is None:
            entrypoint, working_dir, git_url = _entrypoint_of(flow, working_dir)
        variables = dict(job_variables or {})
        if image:
            variables["image"] = image
        return cls(
            name=name,
            flow_name=flow.name,
            entrypoint=entrypoint,
            working_dir=working_dir,
            pool=pool or work_pool_name,
            description=description or flow.description,
            tags=list(tags or ()),
            parameters=dict(parameters or {}),
            parameter_schema=flow.parameter_schema(),
            job_variables=variables,
            schedules=_schedules(cron, interval, rrule, timezone, schedule or getattr(flow, "schedule", None)),
            concurrency_limit=concurrency_limit,
            source_kind=source or ("git" if git_url else None),
            git_url=git_url,
        )

    def body(self) -> dict[str, Any]:
        if not self.pool:
            raise DeployError(f"deployment {self.name!r} needs a pool: pass pool='...' (see `pushflow pool ls`)")
        fields = [f.name for f in dataclasses.fields(self) if f.metadata.get("body", True)]
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}

    def apply(self, client: Any = None) -> str:
        """Register (create or update) the deployment; returns its id."""
        from runtime.client import PushflowClient

        own = client is None
        api = client or PushflowClient()
        try:
            body = self.body()
            body.update(self._code(api))
            deployment = api.upsert_deployment(body)
        finally:
            if own:
                api.close()
        print(
            f"Deployed {deployment['flow_name']}/{deployment['name']} (id {deployment['id']}) to pool "
            f"{deployment['pool']}; run it with: pushflow run {deployment['flow_name']}/{deployment['name']}",
            file=sys.stderr,
        )
        return str(deployment["id"])

    def _code(self, api: Any) -> dict[str, Any]:
        """Where runs get the code, resolved as `pushflow deploy --source` does (a bundle is
        uploaded for a cloud pool without an image; a process pool runs it in place)."""
        from pushflow_cli.sources import SourceConfigError, default_kind, resolve_source

        kind = self.source_kind or default_kind(api.read_pool(self.pool)["type"], self.job_variables.get("image"))
        base = Path(self.working_dir or Path.cwd())
        path_part, _, attr = self.entrypoint.rpartition(":")
        try:
            resolved = resolve_source(kind, f"{base / path_part}:{attr}", api, project_dir=base, git_url=self.git_url)
        except SourceConfigError as exc:
            raise DeployError(str(exc)) from None
        return {"entrypoint": resolved.entrypoint, "working_dir": resolved.working_dir, "source": resolved.source}


def _schedules(cron: Any, interval: Any, rrule: Any, timezone: str, schedule: Any) -> list[dict[str, Any]] | None:
    given = {k: v for k, v in {"cron": cron, "interval": interval, "rrule": rrule, "schedule": schedule}.items() if v}
    if len(given) > 1:
        raise DeployError(f"give one schedule, not {' and '.join(given)}")
    if cron:
        return [{"cron": cron, "timezone": timezone}]
    if rrule:
        return [{"rrule": rrule, "timezone": timezone}]
    if interval:
        seconds = interval.total_seconds() if hasattr(interval, "total_seconds") else float(interval)
        return [{"interval_seconds": seconds, "timezone": timezone}]
    if schedule is not None:
        return [schedule.to_wire()]
    return None


def _entrypoint_of(flow: Any, working_dir: str | None) -> tuple[str, str, str | None]:
    """`file.py:name` for the module-level name bound to `flow`, the file's folder, and
    the git URL it came from (flow.from_source), if any."""
    source = getattr(flow, "_source", None)
    if source is not None:  # flow.from_source(...): the code lives where it was loaded from
        return source  # type: ignore[no-any-return]
    fn = getattr(flow, "fn", None)
    home = sys.modules.get(getattr(fn, "__module__", None) or "")
    candidates = [home, *list(sys.modules.values())]
    for module in candidates:
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        for attr, value in list(vars(module).items()):
            if value is flow:
                file = Path(path).resolve()
                base = Path(working_dir).resolve() if working_dir else file.parent
                try:
                    relative = file.relative_to(base)
                except ValueError:
                    raise DeployError(f"flow file {file} is not under working_dir {base}") from None
                return f"{relative.as_posix()}:{attr}", str(base), None
    raise DeployError(
        f"cannot find a file that defines flow {flow.name!r} at module level; define it at the top level of "
        "a .py file (not in a function or notebook), or pass entrypoint='file.py:name'"
    )


# serve ---------------------------------------------------------------------------------


def serve(deployment: RunnerDeployment, *, block: bool = True, poll_seconds: float = 1.0) -> str | None:
    """Register `deployment` on the local `serve` process pool (created if missing) and, with
    `block`, print each of its runs as it ends until interrupted. Starts nothing, and says
    so, when no pushflow server answers."""
    from runtime.client import PushflowClient
    from runtime.errors import APIError

    client = PushflowClient(retries=0, timeout=5)
    try:
        try:
            client.health()
        except APIError as exc:
            print(
                f"pushflow serve: no pushflow server answers at {client.api_url} ({exc}); nothing was started. "
                "Start one with `pushflow server start`, or set PUSHFLOW_API_URL.",
                file=sys.stderr,
            )
            return None
        deployment.pool = deployment.pool or SERVE_POOL
        if deployment.pool == SERVE_POOL:
            try:
                client.read_pool(SERVE_POOL)
            except APIError as exc:
                if exc.status_code != 404:
                    raise
                client.create_pool(SERVE_POOL, "process")
        deployment_id = deployment.apply(client)
        if block:
            _watch(client, deployment_id, poll_seconds)
        return deployment_id
    finally:
        client.close()


def _watch(client: Any, deployment_id: str, poll_seconds: float) -> None:
    print("Serving; trigger runs with `pushflow run` or the API. Ctrl-C stops watching.", file=sys.stderr)
    reported: set[str] = set()
    try:
        while True:
            page = client.list_flow_runs(deployment_id=deployment_id, limit=50)
            for run in page.get("items", []):
                state = run["state"]
                if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") and run["id"] not in reported:
                    reported.add(run["id"])
                    print(f"Flow run '{run['name']}' - Finished in state {state['name']}", file=sys.stderr)
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        print("Stopped serving (the deployment stays registered).", file=sys.stderr)


# from_source ---------------------------------------------------------------------------


def flow_from_source(source: Any, entrypoint: str) -> Any:
    """Load the flow at `entrypoint` from `source`: a local folder (path or file:// URL) or
    a git repository (a URL, or a path ending in .git; cloned shallow into
    ~/.pushflow/sources). A deployment of the result points at that folder."""
    folder, git_url = _source_folder(str(source))
    flow = load_entrypoint(entrypoint, str(folder))
    flow._source = (entrypoint, str(folder), git_url)
    return flow


def _source_folder(source: str) -> tuple[Path, str | None]:
    is_git = (
        source.endswith(".git") or source.startswith("git@") or ("://" in source and not source.startswith("file://"))
    )
    if not is_git:
        folder = Path(source.removeprefix("file://")).expanduser().resolve()
        if not folder.is_dir():
            raise DeployError(f"source {source!r} is not a folder; give a folder or a git URL")
        return folder, None
    import hashlib
    import subprocess

    from runtime import config

    target = config.home() / "sources" / hashlib.sha256(source.encode()).hexdigest()[:16]
    if not target.exists():
        done = subprocess.run(
            ["git", "clone", "--depth", "1", source, str(target)], capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise DeployError(f"cannot clone {source}: {done.stderr.strip().splitlines()[-1:]}")
    else:  # a clone from before: bring it up to date
        subprocess.run(["git", "-C", str(target), "pull", "--ff-only", "-q"], capture_output=True, timeout=300)
    return target, source
