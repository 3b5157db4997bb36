"""Provider calls per reconcile pass for N active ECS runs (default 100), counted at
botocore (every AWS API call any adapter makes), against moto in this process.

    python bench/reconcile_calls.py [--runs 100]

Each run is RUNNING with a real ECS task submitted through the ecs adapter; one reconcile
pass is then made and the AWS calls it issued are counted by operation. Works on the code
before push pools v2 (control_plane.reconciler.Reconciler) and after (control_plane.passes).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    import boto3
    import botocore.client
    from moto import mock_aws

    with mock_aws(), tempfile.TemporaryDirectory() as home:
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName="bench")
        subnet = boto3.client("ec2", region_name="us-east-1").describe_subnets()["Subnets"][0]["SubnetId"]
        services, pool, submit = _build(Path(home))
        job = pool.Job(image="bench:1", cluster="bench", subnets=[subnet], region="us-east-1", command=["true"])
        refs = [(str(uuid.uuid4()), submit(pool, job)) for _ in range(args.runs)]
        _store_runs(services, refs)

        calls: collections.Counter[str] = collections.Counter()
        original = botocore.client.BaseClient._make_api_call

        def counted(self: Any, operation: str, params: Any) -> Any:
            calls[operation] += 1
            return original(self, operation, params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            _reconcile(services)
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
    print(json.dumps({"active_ecs_runs": args.runs, "aws_calls": sum(calls.values()), "by_operation": calls}))


def _build(home: Path) -> tuple[Any, Any, Any]:
    from control_plane.db import create_db_engine, migrate
    from control_plane.services import PoolAdapters, Services
    from control_plane.settings import Settings

    url = f"sqlite:///{home / 'bench.db'}"
    settings = Settings(database_url=url, api_key="bench", run_loops=False, home=home)
    engine = create_db_engine(url)
    migrate(engine)
    try:  # before v2: adapters took a PoolContext
        from push_pools.base import PoolContext  # type: ignore[attr-defined]

        adapters = PoolAdapters(PoolContext(state_dir=home))  # type: ignore[call-arg]
    except ImportError:
        adapters = PoolAdapters()
    services = Services(settings=settings, engine=engine, api_key="bench", adapters=adapters, server_secret="bench")
    pool = adapters.get("ecs")

    def submit(pool: Any, job: Any) -> Any:
        from push_pools.base import RunSpec

        run = RunSpec(run_id=str(uuid.uuid4()), env={})
        try:
            return pool.submit(run, job, timeout=30)
        except TypeError:
            return pool.submit(run, job)

    return services, pool, submit


def _store_runs(services: Any, refs: list[tuple[str, Any]]) -> None:
    from sqlmodel import Session

    from control_plane.columns import utcnow
    from control_plane.models import FlowRun
    from runtime.states import StateType

    with Session(services.engine) as session:
        for run_id, ref in refs:
            session.add(
                FlowRun(
                    id=run_id,
                    name=run_id,
                    flow_name="bench",
                    state_type=StateType.RUNNING,
                    state_name="Running",
                    state_timestamp=utcnow(),
                    heartbeat_time=utcnow(),
                    infra_provider=ref.provider,
                    infra_id=ref.id,
                    dispatch_count=1,
                )
            )
        session.commit()
        try:
            from control_plane import attempts

            attempts.record(session, [(run_id, 1, ref) for run_id, ref in refs])
            session.commit()
        except ImportError:
            pass


def _reconcile(services: Any) -> None:
    try:
        from control_plane.passes import reconcile

        reconcile(services)
    except ImportError:
        from control_plane.reconciler import Reconciler  # type: ignore[import-not-found]

        Reconciler(services).reconcile()


if __name__ == "__main__":
    main()
