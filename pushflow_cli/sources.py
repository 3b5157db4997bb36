"""Turning `pushflow deploy --source ...` into the deployment's `source` (see
control_plane/sources.py): pack and upload a bundle, resolve a git ref to a commit, or say
the code is in the image. The default depends on the pool type: `local` on a process pool,
`bundle` on a managed pool, else `image` when an image is given, else `bundle`.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

from runtime.errors import APIError

SOURCE_KINDS = ("bundle", "git", "image", "local")


class SourceConfigError(ValueError):
    """The source cannot be made from what was given; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class ResolvedSource:
    source: dict[str, Any] | None
    entrypoint: str  # relative to the source's root
    working_dir: str | None = None  # the local source's folder
    uploaded: bool = False  # a bundle that the store did not have yet
    note: str = ""


def default_kind(pool_type: str, image: str | None) -> str:
    if pool_type == "process":
        return "local"
    if pool_type == "managed":  # the stock image; authors bring code
        return "bundle"
    return "image" if image else "bundle"


def resolve_source(
    kind: str,
    entrypoint: str,
    client: Any,
    *,
    project_dir: Path | None = None,
    git_url: str | None = None,
    git_ref: str | None = None,
    git_credentials: str | None = None,
) -> ResolvedSource:
    if kind not in SOURCE_KINDS:
        raise SourceConfigError(f"unknown source {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
    path_part, _, attr = entrypoint.rpartition(":")
    if kind == "image":
        # Relative to the project here, as it will be to the image's working dir there.
        path = Path(path_part)
        if path.is_absolute():
            base = (project_dir or Path.cwd()).resolve()
            if not path.resolve().is_relative_to(base):
                raise SourceConfigError(
                    f"with --source image, give the entrypoint relative to the image's working dir, not {path}"
                )
            path_part = path.resolve().relative_to(base).as_posix()
        return ResolvedSource({"type": "image"}, f"{path_part}:{attr}")
    if kind in ("bundle", "git") and not path_part.endswith(".py"):
        raise SourceConfigError(
            f"with --source {kind}, give the entrypoint as path/to/file.py:flow (not the module "
            f"{Path(path_part).name}); an installed module needs --source image"
        )
    project, relative = _project_and_entrypoint(Path(path_part), project_dir)
    relative_entrypoint = f"{relative}:{attr}"
    if kind == "local":
        return ResolvedSource({"type": "local"}, relative_entrypoint, working_dir=str(project))
    if kind == "bundle":
        return _bundle(project, relative_entrypoint, client)
    return _git(project, relative_entrypoint, git_url, git_ref, git_credentials)


def _project_and_entrypoint(path: Path, project_dir: Path | None) -> tuple[Path, str]:
    """The project's folder and the entrypoint file relative to it. An absolute entrypoint
    outside the current folder makes its own folder the project."""
    cwd = Path.cwd()
    absolute = path if path.is_absolute() else cwd / path
    project = (project_dir or cwd).resolve()
    absolute = absolute.resolve()
    if project_dir is None and not absolute.is_relative_to(project):
        project = absolute.parent
    if not absolute.is_relative_to(project):
        raise SourceConfigError(f"the flow file {path} is not inside the project directory {project}")
    return project, absolute.relative_to(project).as_posix()


def _bundle(project: Path, entrypoint: str, client: Any) -> ResolvedSource:
    from pushflow_cli.bundle import pack

    bundle = pack(project)
    if entrypoint.split(":")[0] not in bundle.files:
        raise SourceConfigError(f"the flow file {entrypoint.split(':')[0]} is ignored (.gitignore/.pushflowignore)")
    source = {"type": "bundle", "sha256": bundle.sha256, "size": len(bundle.data)}
    try:
        client.request("HEAD", f"/bundles/{bundle.sha256}")
        return ResolvedSource(source, entrypoint, note=f"bundle {bundle.sha256[:12]} unchanged, nothing uploaded")
    except APIError as exc:
        if exc.status_code != 404:
            raise
    target = client.request("POST", f"/bundles/{bundle.sha256}/upload", json={"size": len(bundle.data)})
    if target["via"] == "store":  # straight into the object store: no API body limit
        _put_signed(target["url"], target["headers"], bundle.data)
        client.request("POST", f"/bundles/{bundle.sha256}/commit")
        how = "to the bundle store"
    else:
        headers = {"Content-Type": "application/gzip"}
        client.request("PUT", f"/bundles/{bundle.sha256}", content=bundle.data, headers=headers)
        how = "through the API"
    size = f"{len(bundle.files)} files, {len(bundle.data)} bytes"
    note = f"uploaded bundle {bundle.sha256[:12]} ({size}) {how}"
    return ResolvedSource(source, entrypoint, uploaded=True, note=note)


def _put_signed(url: str, headers: dict[str, str], data: bytes) -> None:
    """PUT to a signed URL: no pushflow key goes there, and the URL (a credential while it
    lasts) is never shown, only its host."""
    import httpx

    host = httpx.URL(url).host
    try:
        response = httpx.put(url, content=data, headers=headers, timeout=300)
    except httpx.TransportError as exc:
        raise APIError(f"cannot upload the bundle to {host}: {exc}") from None
    if response.status_code >= 300:
        detail = f"HTTP {response.status_code} {response.text[:300]}"
        raise APIError(f"the bundle store at {host} refused the upload: {detail}")


def _git(project: Path, entrypoint: str, url: str | None, ref: str | None, credentials: str | None) -> ResolvedSource:
    top = Path(_git_out(project, "rev-parse", "--show-toplevel"))
    url = url or _git_out(project, "remote", "get-url", "origin", hint="give --git-url or add an 'origin' remote")
    ref = ref or _git_out(project, "rev-parse", "--abbrev-ref", "HEAD")
    listed = _git_out(project, "ls-remote", url, ref, hint=f"is {url} reachable?").split()
    if not listed:
        raise SourceConfigError(f"ref {ref!r} does not exist in {url}; push it first or give --git-ref")
    commit = listed[0]
    subdirectory = project.relative_to(top.resolve()).as_posix()
    source = {
        "type": "git",
        "url": url,
        "ref": ref,
        "commit": commit,
        "subdirectory": None if subdirectory == "." else subdirectory,
        "credentials": credentials,
    }
    note = f"git {ref} at {commit[:12]}"
    if _git_out(project, "rev-parse", "HEAD") != commit:
        note += " (your checkout's HEAD differs: runs use the remote's commit)"
    return ResolvedSource(source, entrypoint, note=note)


def _git_out(cwd: Path, *args: str, hint: str = "") -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise SourceConfigError(f"git {args[0]} failed in {cwd}: {reason}" + (f"; {hint}" if hint else ""))
    return done.stdout.strip()
