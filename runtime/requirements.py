"""Installing a run's declared requirements before its flow starts.

What is declared: for code that travelled (a bundle, a git checkout), `requirements.txt`
in the code's root, else `[project.dependencies]` in its `pyproject.toml`; for every run,
`PUSHFLOW_PIP_PACKAGES` (a managed pool's `pip_packages`).
They go into an environment named by the hash of what was asked (the requirements, the
Python version, the index settings), under `PUSHFLOW_DEPS_CACHE` (default
~/.pushflow/deps; point it at a volume where the provider has one). A second run with the
same requirements finds the environment there and installs nothing.

Index settings: `PUSHFLOW_PIP_INDEX_URL`, `PUSHFLOW_PIP_EXTRA_INDEX_URL`,
`PUSHFLOW_PIP_FIND_LINKS` (space-separated). pip's output goes to the run's logs; a failed
install raises SourceError naming the package pip could not install.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from runtime.errors import SourceError
from runtime.sources import ERROR, INFO, Log

COMPLETE = ".pushflow-complete"


def declared_requirements(root: Path, *, read_files: bool = True) -> list[str]:
    lines: list[str] = []
    requirements = root / "requirements.txt"
    if not read_files:
        pass
    elif requirements.is_file():
        lines = [f"-r {requirements}"]
    elif (root / "pyproject.toml").is_file():
        lines = list(_pyproject_dependencies(root / "pyproject.toml"))
    lines += os.environ.get("PUSHFLOW_PIP_PACKAGES", "").split()
    return lines


def install_requirements(root: Path, log: Log, *, read_files: bool = True) -> Path | None:
    """Make the declared requirements importable; return their environment (None: none
    declared). `read_files=False` installs only PUSHFLOW_PIP_PACKAGES."""
    lines = declared_requirements(root, read_files=read_files)
    if not lines:
        return None
    options = _index_options()
    # The hash covers the file's content, not its path (a fresh directory every run).
    content = [_expand(line) for line in lines]
    key = hashlib.sha256("\n".join([sys.version, *content, *options]).encode()).hexdigest()[:20]
    cache = Path(os.environ.get("PUSHFLOW_DEPS_CACHE") or _home() / "deps").expanduser()
    env_dir = cache / "envs" / key
    if (env_dir / COMPLETE).exists():
        log(INFO, f"requirements: using the cached environment {key}")
    else:
        _install(lines, options, cache, env_dir, root, log)
    sys.path.insert(0, str(env_dir))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(env_dir), os.environ.get("PYTHONPATH")]))
    return env_dir


def _install(lines: list[str], options: list[str], cache: Path, env_dir: Path, root: Path, log: Log) -> None:
    staging = cache / "envs" / f".staging-{uuid.uuid4().hex}"
    requirements = staging.with_suffix(".txt")
    staging.parent.mkdir(parents=True, exist_ok=True)
    requirements.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    command += ["--target", str(staging), "--cache-dir", str(cache / "pip"), *options, "-r", str(requirements)]
    log(INFO, f"requirements: installing {len(lines)} line(s) into {env_dir.name}")
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1800)
    finally:
        requirements.unlink(missing_ok=True)
    output = (done.stdout + done.stderr).strip()
    if output:
        log(INFO if done.returncode == 0 else ERROR, f"pip install:\n{output}")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise SourceError(f"installing requirements failed: {_failure(output)}")
    (staging / COMPLETE).write_text("ok\n")
    try:
        staging.rename(env_dir)  # atomic: a concurrent run sees all of it or none
    except OSError:  # another run finished the same environment first
        shutil.rmtree(staging, ignore_errors=True)


def _failure(output: str) -> str:
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    if missing:
        return f"no package {missing[-1]!r} found in the configured indexes (see the pip output in the logs)"
    errors = [line.removeprefix("ERROR: ") for line in output.splitlines() if line.startswith("ERROR:")]
    return errors[-1] if errors else (output.splitlines() or ["pip failed"])[-1]


def _index_options() -> list[str]:
    options: list[str] = []
    if os.environ.get("PUSHFLOW_PIP_INDEX_URL"):
        options += ["--index-url", os.environ["PUSHFLOW_PIP_INDEX_URL"]]
    for url in os.environ.get("PUSHFLOW_PIP_EXTRA_INDEX_URL", "").split():
        options += ["--extra-index-url", url]
    for place in os.environ.get("PUSHFLOW_PIP_FIND_LINKS", "").split():
        options += ["--find-links", place]
    if os.environ.get("PUSHFLOW_PIP_NO_INDEX", "").lower() in ("1", "true", "yes"):
        options.append("--no-index")
    return options


def _expand(line: str) -> str:
    if line.startswith("-r "):
        path = Path(line[3:])
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return line


def _pyproject_dependencies(path: Path) -> list[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise SourceError("reading pyproject.toml needs Python 3.11+ or the tomli package") from None
    try:
        project = tomllib.loads(path.read_text()).get("project", {})
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise SourceError(f"cannot read {path.name}: {exc}") from exc
    return [str(d) for d in project.get("dependencies", [])]


def _home() -> Path:
    from runtime import config

    return config.home()
