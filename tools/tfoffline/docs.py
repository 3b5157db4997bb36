"""Inputs and outputs tables for a module's README, from its variables.tf and outputs.tf,
between the markers terraform-docs uses, so the README cannot drift from the code:

    python -m tools.tfoffline docs terraform/modules/*    # rewrite the tables
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
_BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.S | re.M)
_FIELD = r"^  {name}\s*=\s*(.+)$"


def _field(body: str, name: str) -> str | None:
    found = re.search(_FIELD.format(name=name), body, re.M)
    return found.group(1).strip() if found else None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def tables(directory: Path) -> str:
    text = "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    inputs = ["| Name | Description | Type | Default |", "|------|-------------|------|---------|"]
    outputs = ["| Name | Description |", "|------|-------------|"]
    for kind, name, body in _BLOCK.findall(text):
        description = json.loads(_field(body, "description") or '""')
        if kind == "variable":
            default = _field(body, "default")
            shown = "required" if default is None else f"`{default}`"
            inputs.append(f"| `{name}` | {_cell(description)} | `{_field(body, 'type')}` | {_cell(shown)} |")
        else:
            outputs.append(f"| `{name}` | {_cell(description)} |")
    return "\n".join([BEGIN, "## Inputs", "", *inputs, "", "## Outputs", "", *outputs, END])


def render(readme: str, directory: Path) -> str:
    """`readme` with its tables replaced (appended when it has no markers yet)."""
    if BEGIN not in readme:
        return readme.rstrip() + "\n\n" + tables(directory) + "\n"
    head, rest = readme.split(BEGIN, 1)
    return head + tables(directory) + rest.split(END, 1)[1]
