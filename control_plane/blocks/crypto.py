"""Secret fields at rest: AES-256-GCM (`cryptography`), a fresh 96-bit nonce per value,
the block's `type/name` as associated data (a ciphertext moved to another block fails).
The key is PUSHFLOW_BLOCK_KEY (32 bytes, base64); rotation: docs/security.md."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from control_plane.errors import ConfigurationError


def load_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigurationError(
            "PUSHFLOW_BLOCK_KEY must be 32 bytes, base64-encoded: make one with `openssl rand -base64 32`"
        )
    return key


def encrypt(key: bytes, ref: str, values: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(values).encode(), ref.encode())
    return base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes, ref: str, token: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(token)
    return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], ref.encode()))  # type: ignore[no-any-return]
