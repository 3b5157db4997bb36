"""Run names: generated ones ("crimson-otter", as Prefect names runs) and the
`flow_run_name=` / `task_run_name=` options (a template filled from the run's
parameters, or a callable)."""

from __future__ import annotations

import random
from typing import Any

_ADJECTIVES = (  # noqa: SIM905 - a word list reads better as text
    "amber able brave bright calm clever crimson daring eager fancy gentle golden happy "
    "hidden jolly keen lively lucky mellow misty nimble noble olive proud quick quiet "
    "rapid silver sleek smart sunny swift tidy vivid warm witty zesty"
).split()
_ANIMALS = (  # noqa: SIM905
    "badger beaver bison camel cheetah cobra condor coyote crane dingo dolphin eagle "
    "falcon ferret gecko heron ibex jackal koala lemur lynx marmot moose newt ocelot "
    "otter panda pelican puffin quail raven salmon seal sloth tapir toucan walrus wombat"
).split()


def generate_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}"


def render_run_name(spec: Any, parameters: dict[str, Any], what: str) -> str:
    """`spec` is a template such as "etl-{day}" (filled from the parameters) or a
    callable with no arguments (it may read `pushflow.runtime`)."""
    if callable(spec):
        name = spec()
    else:
        try:
            name = str(spec).format(**parameters)
        except (KeyError, IndexError) as exc:
            raise ValueError(
                f"{what} {spec!r} names {exc} but the run's parameters are {sorted(parameters)}; "
                "use a parameter name in braces, or pass a callable"
            ) from None
    if not isinstance(name, str) or not name:
        raise TypeError(f"{what} must produce a non-empty string, got {name!r}")
    return name
