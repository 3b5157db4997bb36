"""Code that travels (docs/concepts/code-sources.md), measured against a real local server:

- deploy of a bundle: pack + ask the store (unchanged: nothing uploaded) vs pack + upload
  (changed), in process, and the whole `pushflow deploy` command once each;
- a run's cold-start overhead for a 1 MB bundle: download through the API, verify the
  sha256, unpack into a fresh folder;
- requirements: a cache miss (pip installs a local wheel into a new environment) vs a hit.

python -m bench.code_sources [--repeat N] [--store local|s3|gs|az]
(short runs: medians of a few repetitions). `--store` puts the bundle store on an
emulator (moto S3, gcp-storage-emulator behind its signing front, Azurite): uploads then
go straight to the store through a signed PUT, downloads through a signed GET.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.servers import PushflowServer, install_cleanup

FLOW = "from runtime import flow\n\n\n@flow\ndef bench_flow() -> int:\n    return 1\n"


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def make_project(root: Path, megabytes: float = 1.0) -> Path:
    """A project whose bundle is about `megabytes` (random bytes do not compress)."""
    root.mkdir(parents=True)
    (root / "flows.py").write_text(FLOW)
    data = root / "data"
    data.mkdir()
    for i in range(16):
        (data / f"part{i}.bin").write_bytes(os.urandom(int(megabytes * 1024 * 1024 / 16)))
    return root


def wheel(folder: Path) -> None:
    from tools.wheels import build_wheel

    build_wheel(folder, "pfbench-dep", "1.0", "VALUE = 1\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", choices=["local", "s3", "gs", "az"], default="local")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.store != "local":
            from tests.emulators import storage

            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            emulator = {"s3": lambda: storage.moto_s3("pushflow"), "az": lambda: storage.azurite(tmp)}.get(
                args.store, lambda: storage.signing_gcs_emulator("pushflow", tmp)
            )
            os.environ.update(stack.enter_context(emulator()), PUSHFLOW_BUNDLE_STORE=f"{args.store}://pushflow/b")
        measure(args)


def measure(args: argparse.Namespace) -> None:
    install_cleanup()
    from pushflow_cli.sources import resolve_source
    from runtime.client import PushflowClient
    from runtime.requirements import install_requirements
    from runtime.sources import unpack_bundle

    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    try:
        with PushflowServer() as server:
            os.environ.update(server.client_env())
            client = PushflowClient(server.api_url, server.client_env()["PUSHFLOW_API_KEY"])
            project = make_project(work / "project")
            entry = f"{project / 'flows.py'}:bench_flow"

            def changed() -> None:
                (project / "flows.py").write_text(FLOW + f"# {time.time_ns()}\n")
                assert resolve_source("bundle", entry, client, project_dir=project).uploaded

            def unchanged() -> None:
                assert not resolve_source("bundle", entry, client, project_dir=project).uploaded

            results["deploy_changed_s"] = timed(changed, args.repeat)
            results["deploy_unchanged_s"] = timed(unchanged, args.repeat)
            resolved = resolve_source("bundle", entry, client, project_dir=project)
            assert resolved.source is not None
            results["bundle_bytes"] = resolved.source["size"]

            client.create_pool("bench", "process")
            client.request("PATCH", "/pools/bench", json={"paused": True})  # runs stay put
            cli_env = {**os.environ, **server.client_env()}
            deploy = [sys.executable, "-m", "pushflow_cli", "deploy", "flows.py:bench_flow", "--name", "b"]
            deploy += ["--pool", "bench", "--source", "bundle"]
            for label in ("cli_deploy_changed_s", "cli_deploy_unchanged_s"):
                if label == "cli_deploy_changed_s":
                    (project / "flows.py").write_text(FLOW + "# cli\n")
                started = time.perf_counter()
                subprocess.run(deploy, cwd=project, env=cli_env, check=True, capture_output=True)
                results[label] = [time.perf_counter() - started]

            deployment = client.read_deployment_by_name("bench-flow", "b")
            run = client.create_flow_run(deployment["id"])
            sha256 = deployment["source"]["sha256"]

            def cold_start() -> None:
                data = client.download(f"/flow-runs/{run['id']}/bundle")
                shutil.rmtree(unpack_bundle(data, sha256, lambda level, message: None))

            results["fetch_unpack_bundle_s"] = timed(cold_start, args.repeat * 2)
            client.close()

        links = work / "wheels"
        wheel(links)
        code = work / "code"
        code.mkdir()
        (code / "requirements.txt").write_text("pfbench-dep==1.0\n")
        os.environ.update({"PUSHFLOW_PIP_FIND_LINKS": str(links), "PUSHFLOW_PIP_NO_INDEX": "yes"})
        quiet: Callable[[int, str], None] = lambda level, message: None  # noqa: E731
        misses = []
        for i in range(3):
            os.environ["PUSHFLOW_DEPS_CACHE"] = str(work / f"cache{i}")
            misses += timed(lambda: install_requirements(code, quiet), 1)
        results["requirements_miss_s"] = misses
        results["requirements_hit_s"] = timed(lambda: install_requirements(code, quiet), args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {k: (float(f"{statistics.median(v):.3g}") if isinstance(v, list) else v) for k, v in results.items()}
    print(json.dumps({"store": args.store, "median": summary, "samples": results}, indent=2))


if __name__ == "__main__":
    main()
