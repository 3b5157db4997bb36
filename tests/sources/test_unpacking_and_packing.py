"""The pieces of code that travels, without a server: a bundle packs the same bytes for
the same files and honours the ignore files; unpacking refuses what would escape its
folder; git credentials are a reference that must be set where the run starts."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from pushflow_cli.bundle import pack, project_files
from runtime.errors import SourceError
from runtime.sources import checkout_git, unpack_bundle


def quiet(level: int, message: str) -> None:
    pass


def test_the_same_files_pack_to_the_same_hash(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "pkg" / "__pycache__").mkdir(parents=True)
    (project / "flows.py").write_text("x = 1\n")
    (project / "pkg" / "mod.py").write_text("y = 2\n")
    (project / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"junk")
    (project / "notes.log").write_text("local noise")
    (project / ".gitignore").write_text("*.log\n")
    (project / ".pushflowignore").write_text("!keep.log\nbuild/\n")
    (project / "build").mkdir()
    (project / "build" / "out.bin").write_bytes(b"big")
    (project / "pkg" / ".gitignore").write_text("*.csv\n!wanted.csv\n")  # a nested .gitignore, for pkg/ only
    (project / "pkg" / "cache.csv").write_text("a,b")
    (project / "pkg" / "wanted.csv").write_text("a,b")
    (project / "top.csv").write_text("a,b")
    first = pack(project)
    (project / "flows.py").touch()  # a new mtime changes nothing
    assert pack(project).sha256 == first.sha256
    assert project_files(project) == [
        ".gitignore",
        ".pushflowignore",
        "flows.py",
        "pkg/.gitignore",
        "pkg/mod.py",
        "pkg/wanted.csv",
        "top.csv",
    ]
    (project / "flows.py").write_text("x = 2\n")
    assert pack(project).sha256 != first.sha256


def test_unpacking_refuses_paths_out_of_its_folder(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        info = tarfile.TarInfo("../escaped.py")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    data = raw.getvalue()
    with pytest.raises(SourceError, match="does not unpack"):
        unpack_bundle(data, hashlib.sha256(data).hexdigest(), quiet)


def test_git_credentials_must_be_set_in_the_container(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PF_TEST_TOKEN", raising=False)
    source = {"url": str(tmp_path), "commit": "0" * 40, "credentials": "env:PF_TEST_TOKEN"}
    with pytest.raises(SourceError, match="give the container the variable PF_TEST_TOKEN"):
        checkout_git(source, quiet)


def test_a_missing_commit_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with pytest.raises(SourceError, match="cannot check out commit 000000000000"):
        checkout_git({"url": str(repo), "commit": "0" * 40}, quiet)
