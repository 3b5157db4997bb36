"""`pushflow lambda package`: the AWS Lambda deployment zip of the control plane.

Built from manylinux wheels for the target (`pip install --platform ... --only-binary
:all:`), so no compiler and no Docker are needed and the machine building it may be any
OS: pushflow itself (a wheel of this project), the extras the function needs (api,
postgres, lambda, aws) and one extra per chosen pool type, pinned by the project's
constraints.txt when there is one. Tests, caches and scripts are left out; bytecode is
compiled in when this Python is the target's version (the function's disk is read-only,
so it could not cache any). The handler is `control_plane.aws_lambda.handler`.

`--exclude-boto3` leaves boto3 and botocore (≈ 28 MB unzipped) out: Lambda's Python
runtimes include them, at the version AWS last put in the runtime rather than the one
constraints.txt pins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import typer

from pushflow_cli.console import console, fail

app = typer.Typer(help="Run the control plane on AWS Lambda.", no_args_is_help=True)

# pool type -> the extra that brings its SDK (ecs uses boto3, which the function has anyway)
POOL_EXTRAS = {"ecs": "aws", "cloud-run": "gcp", "aci": "azure"}
# `api`, not `server`: the function answers through Mangum, never uvicorn (nor its httptools/uvloop).
BASE_EXTRAS = ("api", "postgres", "lambda", "aws")
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
# Never needed at run time: removed from the unpacked tree before zipping.
JUNK_DIRS = {"__pycache__", "tests", "test", "bin"}
JUNK_SUFFIXES = (".pyc", ".pyo", ".pyi")
OUR_PACKAGES = ("pushflow", "runtime", "control_plane", "push_pools", "pushflow_cli")
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a function and its layers, unzipped


@app.command("package")
def package(
    output: Path = typer.Option(Path("dist/pushflow-lambda.zip"), "-o", "--output", help="Where to write the zip"),
    arch: str = typer.Option("x86_64", "--arch", help="Lambda architecture: x86_64 or arm64"),
    python: str = typer.Option("3.12", "--python", help="Lambda Python runtime version, e.g. 3.12"),
    pools: str = typer.Option("ecs", "--pools", help="Pool types the function submits to, comma-separated"),
    exclude_boto3: bool = typer.Option(
        False,
        "--exclude-boto3",
        help="Leave boto3/botocore out: use the ones the Lambda Python runtime includes (AWS's version, not ours)",
    ),
) -> None:
    """Build the deployment zip; prints its size."""
    if arch not in MACHINES:
        raise fail(f"unknown --arch {arch!r}; use x86_64 or arm64")
    chosen = [p.strip() for p in pools.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in POOL_EXTRAS]
    if unknown:
        raise fail(f"unknown pool type(s) {', '.join(unknown)} for --pools; choose from {', '.join(POOL_EXTRAS)}")
    if not python.replace(".", "").isdigit() or python.count(".") != 1:
        raise fail(f"--python wants a version like 3.12, not {python!r}")
    extras = sorted({*BASE_EXTRAS, *(POOL_EXTRAS[p] for p in chosen)} - ({"aws"} if exclude_boto3 else set()))
    try:
        zipped, unzipped = build(output, platforms(MACHINES[arch], python), python, extras)
    except BuildError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Wrote {output} ({_mb(zipped)} zipped, {_mb(unzipped)} unzipped; Lambda allows 250 MB unzipped) "
        f"for python{python} on {arch} with pools: {', '.join(chosen) or 'none'}"
        + ("; boto3 and botocore come from the Lambda runtime" if exclude_boto3 else "")
    )
    console.print("Handler: control_plane.aws_lambda.handler")


class BuildError(Exception):
    pass


def platforms(machine: str, python: str) -> list[str]:
    """The wheel tags the runtime's glibc accepts: Lambda's Python 3.12+ runtimes run on
    Amazon Linux 2023 (glibc 2.34), older ones on Amazon Linux 2 (glibc 2.26); any older
    manylinux down to 2_5 (manylinux1) runs there too. pip takes each `--platform`
    literally, so every tag is listed: a wheel published only as manylinux1 + 2_28 (such as
    httptools 0.9) is found for Amazon Linux 2 through its 2_5 tag."""
    newest = 34 if tuple(int(p) for p in python.split(".")) >= (3, 12) else 26
    return [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 4, -1)]


def build(output: Path, platforms: list[str], python: str, extras: list[str]) -> tuple[int, int]:
    """Build the zip at `output`; returns (zipped bytes, unzipped bytes)."""
    project = project_root()
    with tempfile.TemporaryDirectory(prefix="pushflow-lambda-") as scratch:
        wheels, target = Path(scratch) / "wheels", Path(scratch) / "package"
        source = copy_source(project, Path(scratch) / "source")  # building writes build/ and egg-info
        _pip("wheel", "--no-deps", "-w", str(wheels), str(source))
        wheel = next(wheels.glob("pushflow-*.whl"))
        constraints = project / "constraints.txt"
        _pip(
            "install",
            "--target",
            str(target),
            *(arg for tag in platforms for arg in ("--platform", tag)),
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--only-binary=:all:",
            "--no-compile",
            *(["-c", str(constraints)] if constraints.exists() else []),
            f"{wheel}[{','.join(extras)}]",
        )
        prune(target)
        if python == f"{sys.version_info.major}.{sys.version_info.minor}":
            precompile(target)
        unzipped = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
        if unzipped > UNZIPPED_LIMIT:
            raise BuildError(f"the package is {_mb(unzipped)} unzipped, over Lambda's 250 MB; choose fewer --pools")
        output.parent.mkdir(parents=True, exist_ok=True)
        write_zip(target, output)
    return output.stat().st_size, unzipped


def project_root() -> Path:
    """The pushflow source tree this CLI runs from (it builds the wheel of pushflow)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").exists():
        raise BuildError(
            f"no pyproject.toml next to {root}: `pushflow lambda package` builds from a pushflow source checkout"
        )
    return root


def copy_source(project: Path, into: Path) -> Path:
    into.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", *OUR_PACKAGES):
        path = project / name
        if path.is_dir():
            shutil.copytree(path, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.exists():
            shutil.copy2(path, into / name)
    return into


def prune(target: Path) -> None:
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in JUNK_DIRS and not _is_ours(target, path):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in JUNK_SUFFIXES:
            path.unlink()


def _is_ours(target: Path, path: Path) -> bool:
    return path.relative_to(target).parts[0] in OUR_PACKAGES


def precompile(target: Path) -> None:
    """Bytecode for the target's Python (only when this Python is that version): Lambda's
    /var/task is read-only, so without it every cold start compiles every module again.
    Hash-checked-never pycs: the zip's fixed timestamps cannot invalidate them."""
    import compileall
    import py_compile

    compileall.compile_dir(
        str(target), quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


def write_zip(source: Path, output: Path) -> None:
    """Files in sorted order with a fixed timestamp: the same inputs give the same zip."""
    tmp = output.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    os.replace(tmp, output)


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "-q"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BuildError(f"pip {args[0]} failed: {' '.join(lines[-3:])}")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
