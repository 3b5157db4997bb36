"""Loading a deployment's entrypoint (`path/to/file.py:flow_name`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any

from runtime.errors import FlowLoadError


def load_entrypoint(entrypoint: str, working_dir: str | None = None) -> Any:
    """Import the object named by `entrypoint` ("file.py:name" or "package.module:name")."""
    path_part, sep, attr = entrypoint.rpartition(":")
    if not sep or not path_part or not attr:
        raise FlowLoadError(f"entrypoint {entrypoint!r} must look like 'path/to/file.py:flow_function'")
    base = Path(working_dir) if working_dir else Path.cwd()
    if path_part.endswith(".py"):
        module = _load_file(base / path_part, path_part)
    else:
        try:
            module = importlib.import_module(path_part)
        except Exception as exc:
            raise FlowLoadError(f"cannot import module {path_part!r}: {_brief(exc)}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise FlowLoadError(f"{path_part} has no object named {attr!r}") from None


def _load_file(path: Path, shown: str) -> Any:
    if not path.is_file():
        raise FlowLoadError(f"flow file {shown!r} does not exist (looked in {path.parent})")
    module_name = f"pushflow_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FlowLoadError(f"cannot load flow file {shown!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # Let the flow file import its neighbours, as it would when run as a script.
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        error = FlowLoadError(f"flow file {shown!r} failed to import: {_brief(exc)}")
        error.details = traceback.format_exc()
        raise error from exc
    return module


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
