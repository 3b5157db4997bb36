"""The `ecs` push pool: runs become ECS tasks (Fargate by default) through boto3.

    job.py        EcsJob, the job template (JSON schema with defaults)
    adapter.py    EcsPool: submit / status(es) / cancel / logs / release
    taskdef.py    task definitions registered once per distinct content
    status.py     describe_tasks -> InfraStatus with the provider's reason
    aws.py        boto3 behind one seam: lazy import, retries, error mapping
    provision.py  `pushflow pool provision`: cluster, execution role, log group

boto3 is imported on first use; install it with `pip install "pushflow[aws]"`.
"""

from push_pools.ecs.adapter import EcsPool
from push_pools.ecs.job import EcsJob

__all__ = ["EcsJob", "EcsPool"]
