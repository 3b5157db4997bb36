"""terraform-aws-modules conventions: the four files, typed and described variables,
described outputs, a README naming every input and output, pinned provider ranges that
the committed schemas fall in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.conftest import EXAMPLES, MODULES, SCHEMAS, TERRAFORM
from tools.tfoffline import docs, schemas

BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.S | re.M)
PROVIDER = re.compile(r'(\w+) = \{\s*source\s*= "([^"]+)"\s*version\s*= "([^"]+)"', re.S)


def blocks(directory: Path, kind: str) -> dict[str, str]:
    text = "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return {name: body for k, name, body in BLOCK.findall(text) if k == kind}


@pytest.mark.parametrize("module", MODULES)
def test_module_layout_and_docs(module: str) -> None:
    directory = TERRAFORM / "modules" / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"{module}: {name} is missing"
    for name, body in blocks(directory, "variable").items():
        assert re.search(r"^\s*type\s*=", body, re.M), f"{module}: variable {name} has no type"
        assert re.search(r"^\s*description\s*=", body, re.M), f"{module}: variable {name} has no description"
    for name, body in blocks(directory, "output").items():
        assert re.search(r"^\s*description\s*=", body, re.M), f"{module}: output {name} has no description"
    readme = (directory / "README.md").read_text()
    assert readme == docs.render(readme, directory), (
        f"{module}: README's inputs/outputs are stale; run `python -m tools.tfoffline docs terraform/modules/{module}`"
    )
    assert re.search(r'resource "[^"]+" "this"', (directory / "main.tf").read_text()), "no primary resource `this`"


def _satisfies(version: str, constraint: str) -> bool:
    parts = tuple(int(x) for x in version.split("."))
    for clause in constraint.split(","):
        op, _, bound = clause.strip().partition(" ")
        limit = tuple(int(x) for x in bound.split("."))
        width = max(len(parts), len(limit))
        a, b = parts + (0,) * (width - len(parts)), limit + (0,) * (width - len(limit))
        if not {">=": a >= b, ">": a > b, "<": a < b, "<=": a <= b, "=": a == b}[op]:
            return False
    return True


@pytest.mark.parametrize("relative", [f"modules/{m}" for m in MODULES] + [f"examples/{e}" for e in EXAMPLES])
def test_providers_pinned_to_a_range_the_checked_schema_is_in(relative: str) -> None:
    served = {source.rsplit("/", 1)[1]: version for source, version, _ in map(_schema_version, _schema_files())}
    pins = PROVIDER.findall((TERRAFORM / relative / "versions.tf").read_text())
    assert pins, f"{relative}: versions.tf has no required_providers"
    for name, source, constraint in pins:
        assert "<" in constraint, f"{relative}: {name} {constraint!r} has no upper bound"
        assert source.startswith("hashicorp/") and name in served, f"{relative}: no schema for {source}"
        assert _satisfies(served[name], constraint), f"{relative}: checked against {name} {served[name]}"


def _schema_files() -> list[Path]:
    return sorted(SCHEMAS.glob("*.json.gz"))


def _schema_version(path: Path) -> tuple[str, str, None]:
    name, _, version = path.name.removesuffix(".json.gz").rpartition("-")
    return f"registry.terraform.io/hashicorp/{name}", version, None


def test_schema_files_load() -> None:
    for path in _schema_files():
        source, version, schema = schemas.load(path)
        assert schema["resource_schemas"], path
