"""Making a run's code present before it is loaded: its `source` (see
control_plane/sources.py for the fields), then its declared requirements.

- `bundle`: download (a signed URL or the API, with the run token), check the sha256
  before anything is opened, unpack into a fresh directory.
- `git`: fetch exactly the commit resolved at deploy time into a fresh directory; a token
  named by `env:NAME` is passed to git in its environment, never on a command line or in logs.
- `image`: the code is in the image; the entrypoint is relative to the working directory.
- `local` or none: the deployment's working_dir, if it exists here (the process pool).

What fetching and unpacking need (tarfile, hashlib, subprocess) is imported by the function
that does it: `pushflow execute` imports this module for every run, most of which fetch
nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.errors import APIError, SourceError

Log = Callable[[int, str], None]
INFO, ERROR = 20, 40


def prepare_code(client: Any, run: dict[str, Any], log: Log) -> str | None:
    """Fetch the run's code and install its requirements; chdir into the code and return
    the directory the entrypoint is relative to (None: the current one, as is)."""
    source = run.get("source") or {}
    kind = source.get("type")
    if kind == "bundle":
        root: str | None = str(fetch_bundle(client, run["id"], source["sha256"], log))
    elif kind == "git":
        root = str(checkout_git(source, log))
    elif kind == "image":
        root = os.getcwd()
    else:
        working_dir = run.get("working_dir")
        root = working_dir if working_dir and os.path.isdir(working_dir) else None
    if root is not None:
        os.chdir(root)
    # Code that travelled brings its requirements; a local folder or an image has its
    # environment already (only `pip_packages`, PUSHFLOW_PIP_PACKAGES, applies there).
    travelled = kind in ("bundle", "git")
    if travelled or os.environ.get("PUSHFLOW_PIP_PACKAGES", "").strip():
        from runtime.requirements import install_requirements

        install_requirements(Path(root or os.getcwd()), log, read_files=travelled)
    return root


def fresh_dir(prefix: str) -> Path:
    import tempfile

    base = os.environ.get("PUSHFLOW_WORK_DIR") or None
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


# Bundles -------------------------------------------------------------------------------


def fetch_bundle(client: Any, run_id: str, sha256: str, log: Log) -> Path:
    try:
        data = client.download(f"/flow-runs/{run_id}/bundle")
    except APIError as exc:
        raise SourceError(f"cannot download the run's bundle {sha256[:12]}: {exc}") from exc
    return unpack_bundle(data, sha256, log)


def unpack_bundle(data: bytes, sha256: str, log: Log) -> Path:
    """Verify `data` hashes to `sha256`, then unpack it into a fresh directory."""
    import hashlib
    import io
    import tarfile

    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise SourceError(
            f"bundle hash mismatch: expected sha256 {sha256}, downloaded {actual}; "
            "the stored bundle was changed or corrupted, nothing was run (deploy again to upload it)"
        )
    target = fresh_dir("pushflow-bundle-")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            # The "data" filter refuses absolute paths, links out of the tree and devices.
            archive.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise SourceError(f"bundle {sha256[:12]} does not unpack: {exc}") from exc
    log(INFO, f"unpacked bundle {sha256[:12]} ({len(data)} bytes) into {target}")
    return target


# Git -----------------------------------------------------------------------------------


def checkout_git(source: dict[str, Any], log: Log) -> Path:
    import subprocess

    url, commit = source["url"], source["commit"]
    target = fresh_dir("pushflow-git-")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **_credential_env(source.get("credentials"))}

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=target, env=env, capture_output=True, text=True, timeout=600)

    git("init", "--quiet")
    # Only that commit, when the server allows fetching by id; else everything, then it.
    fetched = git("fetch", "--quiet", "--depth", "1", url, commit)
    if fetched.returncode != 0:
        fetched = git("fetch", "--quiet", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
    checked = git("checkout", "--quiet", "--detach", commit) if fetched.returncode == 0 else fetched
    if checked.returncode != 0:
        reason = (checked.stderr or checked.stdout).strip().splitlines()
        raise SourceError(f"cannot check out commit {commit[:12]} of {_safe(url)}: {reason[-1] if reason else '?'}")
    log(INFO, f"checked out {_safe(url)} at {commit[:12]}" + (f" ({source['ref']})" if source.get("ref") else ""))
    subdirectory = source.get("subdirectory")
    root = (target / subdirectory).resolve() if subdirectory else target
    if not root.is_dir() or not root.is_relative_to(target):
        raise SourceError(f"subdirectory {subdirectory!r} is not in {_safe(url)} at {commit[:12]}")
    return root


def _credential_env(reference: str | None) -> dict[str, str]:
    """git's config through the environment (GIT_CONFIG_*), so the token is on no command line."""
    if not reference:
        return {}
    import base64

    name = reference.removeprefix("env:")
    token = os.environ.get(name)
    if not token:
        raise SourceError(f"the git credentials {reference!r} are not set: give the container the variable {name}")
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    header = f"Authorization: Basic {basic}"
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": header}


def _safe(url: str) -> str:
    """The URL without any user:password part."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
