"""Every module and example is formatted and valid against the providers' real schemas,
and the offline check really fails on the mistakes it exists to catch."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.conftest import EXAMPLES, MODULES, TERRAFORM
from tools.tfoffline.workspace import Workspace

DIRECTORIES = [f"modules/{m}" for m in MODULES] + [f"examples/{e}" for e in EXAMPLES]


@pytest.mark.parametrize("relative", DIRECTORIES)
def test_formatted_and_valid(workspace: Workspace, initialized: Callable[[str], Path], relative: str) -> None:
    directory = initialized(relative)
    fmt = workspace.terraform(directory, "fmt", "-check", "-recursive", "-diff", "-no-color")
    assert fmt.returncode == 0, f"run `python -m tools.tfoffline fmt terraform`\n{fmt.output}"
    validate = workspace.terraform(directory, "validate", "-json", "-no-color")
    report = json.loads(validate.stdout)
    # The one expected warning says the schema-only providers are in use.
    diagnostics = [d for d in report["diagnostics"] if d["summary"] != "Provider development overrides are in effect"]
    problems = [f"{d['severity']}: {d['summary']}: {d.get('detail', '')} {d.get('range', {})}" for d in diagnostics]
    assert report["valid"], "\n".join(problems)
    assert not [p for p in problems if p.startswith("warning")], "\n".join(problems)


@pytest.mark.parametrize("relative", [d for d in DIRECTORIES if (TERRAFORM / d / "tests").is_dir()])
def test_terraform_test_passes(test_run_states: Callable[[str], dict[str, Any]], relative: str) -> None:
    """Every run block passes (the fixture asserts it), and apply runs leave a state."""
    assert test_run_states(relative), f"{relative}: no run block applied"


MISTAKES = {
    "unknown argument": ('memory_size = 512\n  bogus = "x"', 'An argument named "bogus" is not expected here'),
    "wrong type": ('memory_size = "big"', "a number is required"),
    "missing required argument": ("", 'The argument "function_name" is required'),
    "dangling reference": ("memory_size = aws_iam_role.nope.arn", "undeclared resource"),
    "unknown attribute": ("memory_size = aws_iam_role.r.no_such_attribute", "Unsupported attribute"),
    "block as argument": ("memory_size = 512\n  vpc_config = {}", 'An argument named "vpc_config" is not expected'),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_validate_catches(workspace: Workspace, tmp_path: Path, mistake: str) -> None:
    body, expected = MISTAKES[mistake]
    name = "" if mistake == "missing required argument" else '  function_name = "f"\n'
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'resource "aws_iam_role" "r" {\n  assume_role_policy = "{}"\n}\n'
        f'resource "aws_lambda_function" "f" {{\n{name}  role = aws_iam_role.r.arn\n  {body}\n}}\n'
    )
    assert workspace.terraform(tmp_path, "init", "-backend=false", "-no-color").returncode == 0
    result = workspace.terraform(tmp_path, "validate", "-no-color")
    assert result.returncode != 0, result.output
    assert expected in re.sub(r"\s+", " ", result.output), result.output
