"""Packing a project directory into a bundle: a tar.gz that is byte-for-byte the same
for the same files (sorted names, zeroed times and owners), so its sha256 names the code
and an unchanged project uploads nothing.

Left out: `.git/`, `__pycache__/`, `*.pyc`, and whatever the project's `.gitignore` and
`.pushflowignore` (same syntax) exclude, both read from the project's top directory.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

ALWAYS_IGNORED = [".git/", "__pycache__/", "*.pyc", ".pushflow/"]
IGNORE_FILES = (".gitignore", ".pushflowignore")


@dataclasses.dataclass(frozen=True)
class Bundle:
    data: bytes
    sha256: str
    files: list[str]


def project_files(project: Path) -> list[str]:
    """The project's files to ship, as sorted POSIX paths relative to `project`."""
    import pathspec

    patterns = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        ignore_file = project / name
        if ignore_file.is_file():
            patterns += ignore_file.read_text().splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    files: list[str] = []
    for folder, dirnames, filenames in os.walk(project):
        relative_folder = Path(folder).relative_to(project)
        # Prune ignored folders so their contents are never read.
        dirnames[:] = sorted(d for d in dirnames if not spec.match_file(f"{(relative_folder / d).as_posix()}/"))
        for name in filenames:
            path = (relative_folder / name).as_posix()
            if not spec.match_file(path) and (Path(folder) / name).is_file():
                files.append(path)
    return sorted(files)


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
