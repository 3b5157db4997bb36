"""docs/settings.md documents every setting (the terraform module reads its names there)."""

from __future__ import annotations

from pathlib import Path

from control_plane.settings import Settings

TABLE = Path(__file__).parents[2] / "docs" / "settings.md"


def test_every_setting_is_in_the_table() -> None:
    text = TABLE.read_text()
    missing = [name for name in Settings.model_fields if f"`PUSHFLOW_{name.upper()}`" not in text]
    assert missing == [], f"add these to docs/settings.md: {missing}"
