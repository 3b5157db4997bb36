"""Run states: the one definition shared by the runtime, the API and the control plane.

`State` is a plain dataclass so that importing the runtime stays cheap; pydantic (in the
control plane's API models) validates and serialises it as it would a model.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timezone
from typing import Any


class StateType(str, enum.Enum):
    """A run's state type."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_TYPES


TERMINAL_TYPES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})

# The default display name of each type; named sub-states (Late, AwaitingRetry,
# Submitting, InfrastructurePending, Retrying, Cached) override it.
DEFAULT_NAMES = {t: t.value.title() for t in StateType}


def now() -> datetime:
    return datetime.now(timezone.utc)


_SECONDS: dict[tuple[int, ...], str] = {}


def iso_text(value: datetime) -> str:
    """`value.isoformat()`, from a cached text of its whole second when it is in UTC (every
    state's and task run's time here): a task run reported to a server wrote three, and
    isoformat formats through a slow generic C path (~12k instructions each against ~5k
    here, callgrind)."""
    if value.tzinfo is not timezone.utc or type(value) is not datetime:
        return value.isoformat()
    second = (value.year, value.month, value.day, value.hour, value.minute, value.second)
    text = _SECONDS.get(second)
    if text is None:
        if len(_SECONDS) >= 256:
            _SECONDS.clear()
        text = _SECONDS[second] = value.replace(microsecond=0).isoformat()[:-6]  # without "+00:00"
    micro = value.microsecond
    return f"{text}.{str(micro + 1_000_000)[1:]}+00:00" if micro else f"{text}+00:00"


@dataclasses.dataclass
class State:
    """A run's state. `data` carries a task's or flow's return value locally; it never
    crosses the wire."""

    type: StateType
    name: str = ""
    message: str | None = None
    timestamp: datetime = dataclasses.field(default_factory=now)
    data: Any = dataclasses.field(default=None, repr=False, compare=False, metadata={"wire": False})
    # Where the value was persisted in result storage (runtime.results.load_result).
    result_key: str | None = dataclasses.field(default=None, repr=False, compare=False, metadata={"wire": False})

    def __post_init__(self) -> None:
        if self.type.__class__ is not StateType:  # StateType() of a member is itself, but slow (enum's __call__)
            self.type = StateType(self.type)
        if not self.name:
            self.name = DEFAULT_NAMES[self.type]

    # Predicates, in the spirit of both Prefect 2/3 and Prefect Core.
    def is_terminal(self) -> bool:
        return self.type.is_terminal

    def is_final(self) -> bool:
        return self.type.is_terminal

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        """FAILED, or CRASHED: the run did not complete because of an error."""
        return self.type in (StateType.FAILED, StateType.CRASHED)

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_successful(self) -> bool:
        return self.is_completed()

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    @property
    def result(self) -> StateResult:
        """Both spellings read the value: Prefect 3's `state.result()` (raises the run's
        exception if it failed; `raise_on_failure=False` returns it instead) and Prefect
        Core's `state.result`, which compares equal to the value and, for a `Flow` graph's
        state, maps each task to its state (`state.result[task]`)."""
        return StateResult(self)

    def __str__(self) -> str:
        # Prefect's spelling in logs: Completed(), Failed('ValueError: no')
        return f"{self.name}({self.message!r})" if self.message else f"{self.name}()"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "name": self.name,
            "message": self.message,
            "timestamp": iso_text(self.timestamp),
        }

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # Called by pydantic (the control plane's API models) only: validate a state's
        # wire form into a State, and serialise a State to its wire form.
        from pydantic_core import core_schema

        wire = core_schema.no_info_before_validator_function(
            lambda v: v.to_wire() if isinstance(v, cls) else v,
            _wire_model().__pydantic_core_schema__,
        )
        return core_schema.no_info_after_validator_function(
            lambda w: cls(type=w.type, name=w.name, message=w.message, timestamp=w.timestamp),
            wire,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda state: state.to_wire(), when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: Any) -> Any:
        return handler(_wire_model().__pydantic_core_schema__)

    @classmethod
    def from_wire(cls, payload: dict[str, Any]) -> State:
        ts = payload.get("timestamp")
        return cls(
            type=StateType(payload["type"]),
            name=payload.get("name") or "",
            message=payload.get("message"),
            timestamp=datetime.fromisoformat(ts) if ts else now(),
        )


class StateResult:
    """What `state.result` returns: call it for the value (Prefect 3), or use it as the
    value (Prefect Core): it compares equal to it, and indexes into it."""

    __slots__ = ("_state",)

    def __init__(self, state: State) -> None:
        self._state = state

    def __call__(self, raise_on_failure: bool = True) -> Any:
        state = self._state
        if state.is_completed() or not raise_on_failure:
            return state.data
        if isinstance(state.data, BaseException):
            raise state.data
        from runtime.errors import FlowRunFailed

        raise FlowRunFailed(state.message or f"run finished in state {state.name}")

    def __getitem__(self, key: Any) -> Any:
        return self._state.data[key]

    def __iter__(self) -> Any:
        return iter(self._state.data)

    def __len__(self) -> int:
        return len(self._state.data)

    def __contains__(self, key: Any) -> bool:
        return key in self._state.data

    def keys(self) -> Any:
        return self._state.data.keys()

    def values(self) -> Any:
        return self._state.data.values()

    def items(self) -> Any:
        return self._state.data.items()

    def get(self, key: Any, default: Any = None) -> Any:
        return self._state.data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StateResult):
            other = other._state.data
        return bool(self._state.data == other)

    def __hash__(self) -> int:
        return hash(self._state.data)

    def __bool__(self) -> bool:
        return bool(self._state.data)

    def __repr__(self) -> str:
        return repr(self._state.data)


_WIRE_MODEL: Any = None


def _wire_model() -> Any:
    """The pydantic model of a state on the wire (built on first use)."""
    global _WIRE_MODEL
    if _WIRE_MODEL is None:
        from pydantic import BaseModel, Field

        class StateWire(BaseModel):
            type: StateType
            name: str = ""
            message: str | None = None
            timestamp: datetime = Field(default_factory=now)

        _WIRE_MODEL = StateWire
    return _WIRE_MODEL


def Scheduled(**kw: Any) -> State:  # noqa: N802 - state constructors read like types
    return State(StateType.SCHEDULED, **kw)


def Pending(**kw: Any) -> State:  # noqa: N802
    return State(StateType.PENDING, **kw)


def Running(**kw: Any) -> State:  # noqa: N802
    return State(StateType.RUNNING, **kw)


def Completed(**kw: Any) -> State:  # noqa: N802
    return State(StateType.COMPLETED, **kw)


def Failed(**kw: Any) -> State:  # noqa: N802
    return State(StateType.FAILED, **kw)


def Crashed(**kw: Any) -> State:  # noqa: N802
    return State(StateType.CRASHED, **kw)


def Cancelled(**kw: Any) -> State:  # noqa: N802
    return State(StateType.CANCELLED, **kw)


def Cancelling(**kw: Any) -> State:  # noqa: N802
    return State(StateType.CANCELLING, **kw)


def Paused(**kw: Any) -> State:  # noqa: N802
    return State(StateType.PAUSED, **kw)


def Late(**kw: Any) -> State:  # noqa: N802
    return State(StateType.SCHEDULED, name="Late", **kw)


def AwaitingRetry(**kw: Any) -> State:  # noqa: N802
    return State(StateType.SCHEDULED, name="AwaitingRetry", **kw)


def Retrying(**kw: Any) -> State:  # noqa: N802
    return State(StateType.RUNNING, name="Retrying", **kw)
