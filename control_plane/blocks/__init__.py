"""Blocks: typed configuration and secrets, stored with their secret fields encrypted
(control_plane/blocks/crypto.py) and answered with those fields masked.

The keyring that seals and opens them (local keys, AWS KMS, rotation): crypto.py.
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from control_plane.blocks import crypto
from control_plane.blocks.types import BLOCK_TYPES, secret_fields
from control_plane.columns import TABLE_CONFIG, json_column, utc_column, utcnow
from control_plane.masking import MASK

__all__ = [
    "BLOCK_TYPES",
    "Block",
    "BlockCreate",
    "BlockData",
    "BlockPublic",
    "block_key",
    "keyring_for",
    "open_fields",
    "seal",
    "secret_fields",
]


class Block(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "block"
    __table_args__ = (UniqueConstraint("type", "name", name="uq_block_type_name"),)
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    type: str
    name: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    sealed: str | None = None  # the secret fields, AES-GCM encrypted
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


def _fields_per_type(schema: dict[str, Any]) -> None:
    # The document states each type's fields, as the route checks them.
    schema["oneOf"] = [
        {"properties": {"type": {"const": name}, "data": fields}} for name, fields in sorted(BLOCK_TYPES.items())
    ]


class BlockCreate(BaseModel):
    """A block: its type (GET /api/block-types lists them), a name, and its fields."""

    model_config = ConfigDict(json_schema_extra=_fields_per_type)

    type: str = Check(
        description="One of GET /api/block-types", json_schema_extra={"enum": list[Any](sorted(BLOCK_TYPES))}
    )
    name: str = Check(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    data: dict[str, Any] = Check(description="The fields, as the type's schema says")


class BlockData(BaseModel):
    """A block's new fields (PUT): a secret field sent as the mask keeps its stored value."""

    data: dict[str, Any] = Check(description="The fields, as the type's schema says")


class BlockPublic(BaseModel):
    """A block as answered: secret fields masked, always."""

    id: str
    type: str
    name: str
    data: dict[str, Any] = Check(description="The fields; secret ones read `•••••• (hidden)`")
    created: datetime
    sealed_with: str | None = Check(
        default=None,
        description="The key its secret fields are encrypted with: `kms`, a local key's id (`k…`), "
        "`legacy` (from before key ids); null when it has no secret field",
    )

    @classmethod
    def of(cls, block: Block) -> BlockPublic:
        shown = {k: v for k, v in block.data.items() if k != "$sealed"}
        shown.update(dict.fromkeys(_sealed_names(block), MASK))
        sealed_with = (crypto.sealed_with(block.sealed) or "legacy") if block.sealed else None
        return cls(
            id=block.id, type=block.type, name=block.name, data=shown, created=block.created, sealed_with=sealed_with
        )


def _sealed_names(block: Block) -> set[str]:
    return set(block.data.get("$sealed", [])) if isinstance(block.data.get("$sealed"), list) else set()


def seal(keyring: crypto.Keyring, body: BlockCreate) -> Block:
    """The row for `body`: plain fields as they are, secret ones encrypted together."""
    hidden = secret_fields(body.type)
    plain = {k: v for k, v in body.data.items() if k not in hidden}
    secret = {k: v for k, v in body.data.items() if k in hidden}
    sealed = keyring.seal(f"{body.type}/{body.name}", secret) if secret else None
    return Block(type=body.type, name=body.name, data={**plain, "$sealed": sorted(secret)}, sealed=sealed)


def open_fields(keyring: crypto.Keyring, block: Block) -> dict[str, Any]:
    """Every field of `block`, secret ones decrypted."""
    fields = {k: v for k, v in block.data.items() if k != "$sealed"}
    if block.sealed:
        fields.update(keyring.open(f"{block.type}/{block.name}", block.sealed))
    return fields


def keyring_for(settings: Any) -> crypto.Keyring:
    """The keyring the settings describe: PUSHFLOW_BLOCK_KEY (or, on a local server
    without KMS, the key made in its home) seals unless PUSHFLOW_BLOCK_KMS_KEY_ID is set;
    PUSHFLOW_BLOCK_PREVIOUS_KEYS still open what they sealed."""
    local: list[bytes] = []
    if settings.block_key:
        local.append(crypto.load_key(settings.block_key.get_secret_value()))
    elif not settings.block_kms_key_id or (settings.home / "block_key").exists():
        local.append(block_key(None, settings.home))
    previous = settings.block_previous_keys.get_secret_value() if settings.block_previous_keys else ""
    local += [crypto.load_key(k.strip(), "PUSHFLOW_BLOCK_PREVIOUS_KEYS") for k in previous.split(",") if k.strip()]
    return crypto.Keyring(local=local, kms_key_id=settings.block_kms_key_id)


def block_key(configured: str | None, home: Path) -> bytes:
    """PUSHFLOW_BLOCK_KEY, else (a local server) the key saved in the home, made once, 0600."""
    if configured:
        return crypto.load_key(configured)
    path = home / "block_key"
    try:
        return crypto.load_key(path.read_text().strip())
    except FileNotFoundError:
        pass
    import base64

    encoded = base64.b64encode(secrets.token_bytes(32)).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return crypto.load_key(path.read_text().strip())
    with os.fdopen(fd, "w") as fh:
        fh.write(encoded + "\n")
    return crypto.load_key(encoded)
