"""Flows: `@flow` functions, sync or async.

A flow only carries its definition; `runtime.engine` runs it. Calling a flow runs it
locally, in-process, with no server, and returns its value (or its final state with
`return_state=True`); calling an async flow returns a coroutine, as in Prefect.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from runtime.engine import call_flow, call_flow_async
from runtime.states import State

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# Types whose values need no pydantic: a call with such values skips its import.
_PLAIN_TYPES = {int: int, float: (int, float), str: str, bool: bool}


class FlowFunction(Generic[P, R]):
    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int = 0,
        retry_delay_seconds: Any = 0,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool = False,
        validate_parameters: bool = True,
        task_runner: Any = None,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        on_completion: Iterable[Callable[..., Any]] = (),
        on_failure: Iterable[Callable[..., Any]] = (),
        on_running: Iterable[Callable[..., Any]] = (),
        on_crashed: Iterable[Callable[..., Any]] = (),
        on_cancellation: Iterable[Callable[..., Any]] = (),
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow decorates a function, got {type(fn).__name__}")
        self.fn = fn
        self.isasync = inspect.iscoroutinefunction(fn)
        self.name = name or fn.__name__.replace("_", "-")
        self.description = description or inspect.getdoc(fn)
        self.version = version
        self.flow_run_name = flow_run_name
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        self.retry_condition_fn = retry_condition_fn
        self.task_runner = task_runner
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.on_completion = list(on_completion)
        self.on_failure = list(on_failure)
        self.on_running = list(on_running)
        self.on_crashed = list(on_crashed)
        self.on_cancellation = list(on_cancellation)
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.should_validate_parameters = validate_parameters
        self.__signature__ = inspect.signature(fn)
        self._plain = _plain_annotations(fn, self.__signature__)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @overload
    def __call__(
        self: FlowFunction[..., Coroutine[Any, Any, T]], *args: Any, return_state: Literal[True], **kwargs: Any
    ) -> Coroutine[Any, Any, State]: ...

    @overload
    def __call__(self, *args: Any, return_state: Literal[True], **kwargs: Any) -> State: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return_state = bool(kwargs.pop("return_state", False))
        if self.isasync:
            return call_flow_async(self, args, kwargs, return_state=return_state)
        return call_flow(self, args, kwargs, return_state=return_state)

    def call_parameters(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The parameters of a call: bound to the signature, then validated and coerced
        as a deployment's run would be (pydantic only when a value needs it)."""
        try:
            parameters = self._bound(args, kwargs)
        except TypeError as exc:
            from runtime.errors import ParameterError

            raise ParameterError(f"invalid parameters for flow {self.name!r}: {exc}") from None
        if not self.should_validate_parameters or self._needs_no_validation(parameters):
            return parameters
        return self.validate_parameters(parameters)

    def _bound(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters by name, defaults filled in and **kwargs extras spread out
        (the engine calls fn(**parameters)); TypeError when they do not fit the signature."""
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        parameters = dict(bound.arguments)
        for name, param in self.__signature__.parameters.items():
            if param.kind is param.VAR_KEYWORD:
                parameters.update(parameters.pop(name, {}))
        return parameters

    def _needs_no_validation(self, parameters: dict[str, Any]) -> bool:
        plain = self._plain
        if plain is None:
            return False
        for name, value in parameters.items():
            expected = plain.get(name)
            if expected is not None and (not isinstance(value, expected) or (expected is int and value is True)):
                return False
        return True

    def bind_parameters(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        return dict(self.__signature__.bind(*args, **kwargs).arguments)

    def parameter_schema(self) -> dict[str, Any]:
        from runtime.parameters import schema_for

        return schema_for(self.fn)

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """`parameters` (a deployed run's, by name) checked and coerced against the
        signature, defaults filled in. pydantic is imported only when a value needs it."""
        if not self.should_validate_parameters:
            return parameters
        values = self._plainly_valid(parameters)
        if values is not None:
            return values
        from runtime.parameters import validate

        return validate(self.fn, parameters)

    def _plainly_valid(self, parameters: dict[str, Any]) -> dict[str, Any] | None:
        """What pydantic would return, when that needs no pydantic: every parameter
        annotated with a plain type (or not at all), none missing or unknown, each value
        already of its type (an int for a float becomes a float, as pydantic makes it).
        None when pydantic must decide (and explain what is wrong)."""
        plain, signature = self._plain, self.__signature__
        if plain is None or any(p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL) for p in signature.parameters.values()):
            return None
        try:
            values = self._bound((), parameters)  # defaults are not validated (nor by pydantic)
        except TypeError:
            return None
        for name, expected in plain.items():
            if name not in parameters:
                continue
            value = parameters[name]
            if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                return None
            if expected is _PLAIN_TYPES[float]:
                values[name] = float(value)
        return values

    def with_options(self, **options: Any) -> FlowFunction[P, R]:
        """A copy with some options changed: `my_flow.with_options(retries=3)`."""
        new = copy.copy(self)
        for key, value in options.items():
            attribute = "should_validate_parameters" if key == "validate_parameters" else key
            if key in ("fn", "isasync") or not hasattr(new, attribute):
                raise TypeError(f"{self.name}.with_options() got an unknown option {key!r}")
            if key.startswith("on_"):
                value = list(value)
            setattr(new, attribute, value)
        return new

    # Deploying (runtime.deploying) -------------------------------------------------------

    def to_deployment(self, name: str, **options: Any) -> Any:
        from runtime.deploying import RunnerDeployment

        return RunnerDeployment.from_flow(self, name, **options)

    def deploy(self, name: str, pool: str | None = None, **options: Any) -> str:
        """Register this flow with the control plane as deployment `name` on `pool`;
        returns the deployment's id."""
        return self.to_deployment(name, pool=pool, **options).apply()

    def serve(self, name: str | None = None, **options: Any) -> None:
        from runtime.deploying import serve

        serve(self.to_deployment(name or self.name, **options))

    @classmethod
    def from_source(cls, source: Any, entrypoint: str) -> Any:
        from runtime.deploying import flow_from_source

        return flow_from_source(source, entrypoint)

    def __repr__(self) -> str:
        return f"<Flow: {self.name}>"


def _plain_annotations(fn: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any] | None:
    """Parameter name -> plain type, when every annotation is plain (or absent); None
    when some parameter needs pydantic to validate or coerce."""
    plain: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        annotation = param.annotation
        if isinstance(annotation, str):  # `from __future__ import annotations`
            annotation = {"int": int, "float": float, "str": str, "bool": bool, "Any": None}.get(annotation, annotation)
        if annotation is param.empty or annotation is Any or annotation is None:
            continue
        try:
            plain[name] = _PLAIN_TYPES[annotation]
        except (KeyError, TypeError):  # unhashable or not plain: pydantic decides
            return None
    return plain


class _FlowDecorator:
    """`@flow` / `@flow(...)`; also `flow.from_source(source, entrypoint)`, as in Prefect."""

    @overload
    def __call__(self, fn: Callable[P, R]) -> FlowFunction[P, R]: ...

    @overload
    def __call__(self, fn: None = None, **options: Any) -> Callable[[Callable[P, R]], FlowFunction[P, R]]: ...

    def __call__(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Decorate a function as a flow: `@flow` or `@flow(name="etl", log_prints=True)`."""
        if fn is None:
            return lambda f: FlowFunction(f, **options)
        return FlowFunction(fn, **options)

    @staticmethod
    def from_source(source: Any, entrypoint: str) -> Any:
        """The flow at `entrypoint` ("file.py:name") in `source` (a folder or git URL)."""
        return FlowFunction.from_source(source, entrypoint)

    def __repr__(self) -> str:
        return "<pushflow.flow decorator>"


flow = _FlowDecorator()
