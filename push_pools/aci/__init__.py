"""The `aci` pool: runs go straight to Azure Container Instances, one container group per
run, through azure-mgmt-containerinstance (imported on first use: `pip install "pushflow[azure]"`).

    job.py         AciJob, the job template
    resources.py   the group's name and ARM resource id, derived from the run id
    connection.py  endpoint settings, credentials and the configured SDK client
    group.py       the container group body for one run
    status.py      instance view -> InfraStatus
    errors.py      azure.core errors -> push_pools.errors, at one boundary
    adapter.py     AciPool: submit / status / cancel / logs / release
"""

from push_pools.aci.adapter import AciPool
from push_pools.aci.job import AciJob

__all__ = ["AciJob", "AciPool"]
