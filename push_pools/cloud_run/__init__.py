"""The `cloud-run` push pool: runs go straight to Cloud Run jobs (google-cloud-run)."""

from push_pools.cloud_run.adapter import CloudRunPool
from push_pools.cloud_run.job import CloudRunJob

__all__ = ["CloudRunJob", "CloudRunPool"]
