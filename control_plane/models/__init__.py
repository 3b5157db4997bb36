"""The store's tables and the API's request/response models, as entity families:
`XBase` (shared fields), `XCreate` (request), `X` (table), `XPublic` (response), so that
table-only columns such as a run's token hash never leak into responses."""

from __future__ import annotations

from control_plane import attempts as _attempts  # noqa: F401 - registers its table
from control_plane import audit as _audit  # noqa: F401 - registers its table
from control_plane import blocks as _blocks  # noqa: F401 - registers its table
from control_plane import events as _events  # noqa: F401 - registers its table
from control_plane import keys as _keys  # noqa: F401 - registers its table
from control_plane import tag_limits as _tag_limits  # noqa: F401 - registers its tables
from control_plane import webhook_models as _webhooks  # noqa: F401 - registers its tables
from control_plane.automations import models as _automations  # noqa: F401 - registers its tables
from control_plane.columns import new_id
from control_plane.models.deployments import (
    Deployment,
    DeploymentBase,
    DeploymentCreate,
    DeploymentPublic,
    DeploymentUpdate,
    NoNulStr,
)
from control_plane.models.flow_runs import (
    FLOW_RUN_PUBLIC_COLUMNS,
    FLOW_RUN_PUBLIC_NAMES,
    FlowRun,
    FlowRunCreate,
    FlowRunPage,
    FlowRunPublic,
    HeartbeatResult,
    Infrastructure,
    OrchestrationResult,
    StateProposal,
)
from control_plane.models.logs import Log, LogCreate, LogPublic
from control_plane.models.pools import Pool, PoolBase, PoolCreate, PoolName, PoolPublic, PoolUpdate
from control_plane.models.results import FlowRunResult, FlowRunResultBase, FlowRunResultPublic
from control_plane.models.task_runs import TaskRun, TaskRunPublic, TaskRunReport

__all__ = [
    "new_id",
    "PoolName",
    "PoolBase",
    "PoolCreate",
    "PoolUpdate",
    "Pool",
    "PoolPublic",
    "NoNulStr",
    "DeploymentBase",
    "DeploymentCreate",
    "DeploymentUpdate",
    "Deployment",
    "DeploymentPublic",
    "FlowRunCreate",
    "FlowRun",
    "Infrastructure",
    "FlowRunPublic",
    "FLOW_RUN_PUBLIC_NAMES",
    "FLOW_RUN_PUBLIC_COLUMNS",
    "FlowRunPage",
    "StateProposal",
    "HeartbeatResult",
    "OrchestrationResult",
    "FlowRunResultBase",
    "FlowRunResult",
    "FlowRunResultPublic",
    "TaskRunReport",
    "TaskRun",
    "TaskRunPublic",
    "LogCreate",
    "Log",
    "LogPublic",
]
