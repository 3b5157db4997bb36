"""What an automation is made of, as validated specs: a trigger and its actions.

Triggers
- `event`: events matching `expect` (names, `*` wildcards; empty = any) about a resource
  matching `match` (id and labels) with a related resource matching `match_related`,
  counted per `for_each` bucket (resource labels, or `id`). `after`: a bucket opens only
  once such an event arrived. Reactive: fires when `threshold` events arrive within
  `within` seconds (0: no limit). Proactive: fires when a bucket's `within` window closes
  with fewer than `threshold` events (the window opens at an `after` event, else when the
  automation starts watching and again after each window).
- `compound`: its triggers (reactive) all, any, or N of them (`require`) within `within`.
- `sequence`: its triggers (reactive) in order, within `within`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_serializer, model_validator

from control_plane.columns import PositiveCount, Seconds, json_number

Selector = dict[str, str | list[str]]
# An http(s) URL whose host and port every client can read: a name (no IPv6 literal, no
# user@), a port within 0-65535, then anything without spaces.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
HTTP_URL = rf"^https?://[A-Za-z0-9._~%!$&'()*+,;=-]+(:{_PORT})?([/?#]\S*)?$"


def _event_by_default(value: Any) -> Any:
    if isinstance(value, dict) and "type" not in value:
        return {**value, "type": "event"}
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


# What the validators below check, in the OpenAPI document too (JSON Schema's if/then),
# so a client (or a fuzzer) can tell a valid trigger from the document alone.
_PROACTIVE_NEEDS_A_WINDOW: dict[str, Any] = {
    "if": {"properties": {"posture": {"const": "proactive"}}, "required": ["posture"]},
    "then": {"properties": {"within": {"exclusiveMinimum": 0}}, "required": ["within"]},
}
MAX_CHILD_TRIGGERS = 20


class EventTrigger(_Spec):
    """Events of some names, about some resources, counted per bucket."""

    model_config = ConfigDict(json_schema_extra=_PROACTIVE_NEEDS_A_WINDOW)

    type: Literal["event"] = "event"
    match: Selector = Field(default_factory=dict, description="resource id and labels, `*` wildcards")
    match_related: Selector = Field(default_factory=dict, description="a related resource's id, role, ...")
    after: list[str] = Field(default_factory=list, description="event names that open a bucket")
    expect: list[str] = Field(default_factory=list, description="event names counted (empty: any)")
    for_each: list[str] = Field(default_factory=list, description="labels (or `id`) splitting buckets")
    posture: Literal["reactive", "proactive"] = "reactive"
    threshold: PositiveCount = 1
    within: Seconds = Field(default=0.0, description="seconds; 0 with reactive means no limit")

    @model_validator(mode="after")
    def _proactive_needs_a_window(self) -> EventTrigger:
        if self.posture == "proactive" and self.within <= 0:
            raise ValueError("a proactive trigger needs `within` (seconds to wait for the expected events)")
        return self


class ReactiveTrigger(EventTrigger):
    """An event trigger inside a compound or sequence trigger: reactive only."""

    model_config = ConfigDict(json_schema_extra={})
    posture: Literal["reactive"] = Field(default="reactive", description="inside a compound or sequence: reactive")


Child = Annotated[ReactiveTrigger, BeforeValidator(_event_by_default)]


class CompoundTrigger(_Spec):
    """Several reactive triggers: all, any, or at least N of them within `within` seconds."""

    # `require: N` needs at least N triggers.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"require": {"const": n}}, "required": ["require"]},
                    "then": {"properties": {"triggers": {"minItems": n}}},
                }
                for n in range(2, MAX_CHILD_TRIGGERS + 1)
            ]
        }
    )
    type: Literal["compound"]
    triggers: list[Child] = Field(min_length=1, max_length=MAX_CHILD_TRIGGERS)
    require: Literal["all", "any"] | Annotated[int, Ge(1), Le(MAX_CHILD_TRIGGERS), json_number("integer")] = "all"
    within: Seconds = 0.0

    @model_validator(mode="after")
    def _enough_children(self) -> CompoundTrigger:
        if isinstance(self.require, int) and not 1 <= self.require <= len(self.triggers):
            raise ValueError(f"require must be 'all', 'any' or 1..{len(self.triggers)}")
        return self


class SequenceTrigger(_Spec):
    """Reactive triggers that must fire in order, within `within` seconds of the first."""

    type: Literal["sequence"]
    triggers: list[Child] = Field(min_length=2, max_length=MAX_CHILD_TRIGGERS)
    within: Seconds = 0.0


Trigger = Annotated[
    EventTrigger | CompoundTrigger | SequenceTrigger, Field(discriminator="type"), BeforeValidator(_event_by_default)
]


class BlockRef(_Spec):
    """`{"$block": "type/name"}` or `{"$block": "type/name.field"}`: a block's value, read
    (and decrypted) only when the action runs; the reference is what is stored and shown."""

    block: str = Field(alias="$block", pattern=r"^[a-z0-9-]+/[A-Za-z0-9][A-Za-z0-9_.-]*$")

    @model_serializer
    def _as_reference(self) -> dict[str, str]:
        return {"$block": self.block}


Url = Annotated[str, Field(pattern=HTTP_URL)] | BlockRef


class RunDeployment(_Spec):
    """Start a run of a deployment (`id`, or `flow/name`); parameters may be templates."""

    type: Literal["run-deployment"]
    deployment: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    job_variables: dict[str, Any] = Field(default_factory=dict)


class FlowRunAction(_Spec):
    """Cancel a run, or force its state. `flow_run_id` defaults to the triggering event's run."""

    type: Literal["cancel-flow-run", "change-flow-run-state"]
    flow_run_id: str | None = None
    state: str | None = Field(default=None, description="change-flow-run-state: COMPLETED, FAILED, ...")
    name: str | None = None
    message: str | None = None


class PauseResume(_Spec):
    """Pause or resume a deployment, pool or automation. Without a `target`: the
    triggering event's deployment or pool, or this automation."""

    type: Literal[
        "pause-deployment", "resume-deployment", "pause-pool", "resume-pool", "pause-automation", "resume-automation"
    ]
    target: str | None = None


class CallWebhook(_Spec):
    """POST to a URL, signed with the Standard Webhooks scheme when `secret` is set;
    retried with backoff. `body` is a template rendering JSON (default: the event)."""

    type: Literal["call-webhook"]
    url: Url = Field(description='An http(s) URL, or a block holding one: {"$block": "webhook/ops.url"}')
    body: str | None = None
    headers: dict[str, str | BlockRef] | BlockRef = Field(
        default_factory=dict, description='Header values, or a block holding them: {"$block": "webhook/ops.headers"}'
    )
    secret: str | BlockRef | None = Field(default=None, description='Signing secret, or {"$block": "secret/hook"}')
    timeout: float = Field(default=10.0, gt=0, le=60)


class SendNotification(_Spec):
    """A Slack-compatible `{"text": ...}` POST to a webhook URL; `text` is a template."""

    type: Literal["send-notification"]
    url: Url = Field(description='The webhook URL, or a block holding it: {"$block": "slack-webhook/alerts"}')
    text: str = "{{ automation.name }} fired: {{ event.event if event else firing.reason }}"


Action = Annotated[
    RunDeployment | FlowRunAction | PauseResume | CallWebhook | SendNotification, Field(discriminator="type")
]


class TriggerSpec(BaseModel):
    """Wraps the union so a stored trigger can be validated again."""

    trigger: Trigger


class ActionSpec(BaseModel):
    action: Action
