"""Packing a project directory into a bundle: a tar.gz that is byte-for-byte the same
for the same files (sorted names, zeroed times and owners), so its sha256 names the code
and an unchanged project uploads nothing.

Left out: `.git/`, `__pycache__/`, `*.pyc`, and whatever the project's `.pushflowignore`
(top folder; .gitignore syntax) and its `.gitignore` files (in any folder, a deeper one
overriding, as in git) exclude.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

ALWAYS_IGNORED = [".git/", "__pycache__/", "*.pyc", ".pushflow/"]


@dataclasses.dataclass(frozen=True)
class Bundle:
    data: bytes
    sha256: str
    files: list[str]


def project_files(project: Path) -> list[str]:
    """The project's files to ship, as sorted POSIX paths relative to `project`."""
    import pathspec

    # The top folder's rules: always-ignored, .gitignore, then .pushflowignore (which can
    # re-include with "!"); deeper .gitignore files override them for their folder, as in git.
    top = list(ALWAYS_IGNORED)
    for name in (".gitignore", ".pushflowignore"):
        if (project / name).is_file():
            top += (project / name).read_text().splitlines()
    rules: dict[Path, Any] = {Path("."): pathspec.GitIgnoreSpec.from_lines(top)}
    files: list[str] = []
    for folder, dirnames, filenames in os.walk(project):
        relative_folder = Path(folder).relative_to(project)
        if ".gitignore" in filenames and relative_folder != Path("."):
            lines = (Path(folder) / ".gitignore").read_text().splitlines()
            rules[relative_folder] = pathspec.GitIgnoreSpec.from_lines(lines)
        applicable = [
            (base, spec) for base, spec in rules.items() if base == relative_folder or base in relative_folder.parents
        ]
        # Prune ignored folders so their contents are never read.
        dirnames[:] = sorted(d for d in dirnames if not _ignored(applicable, relative_folder / d, folder=True))
        for name in filenames:
            path = relative_folder / name
            if not _ignored(applicable, path) and (Path(folder) / name).is_file():
                files.append(path.as_posix())
    return sorted(files)


def _ignored(rules: list[tuple[Path, Any]], path: Path, *, folder: bool = False) -> bool:
    ignored = False
    for base, spec in sorted(rules, key=lambda rule: len(rule[0].parts)):
        relative = path.relative_to(base).as_posix() if base != Path(".") else path.as_posix()
        result = spec.check_file(relative + ("/" if folder else ""))
        if result.include is not None:
            ignored = result.include
    return ignored


def pack(project: Path) -> Bundle:
    files = project_files(project)
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path in files:
            content = (project / path).read_bytes()
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = 0o755 if os.access(project / path, os.X_OK) else 0o644
            archive.addfile(info, io.BytesIO(content))  # mtime, uid, gid: 0
    data = raw.getvalue()
    return Bundle(data=data, sha256=hashlib.sha256(data).hexdigest(), files=files)
