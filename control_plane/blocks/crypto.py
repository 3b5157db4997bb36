"""Secret fields at rest: AES-256-GCM (`cryptography`), a fresh 96-bit nonce per value,
the block's `type/name` as associated data (a ciphertext moved to another block fails),
under a keyring: the key that seals new values, and every key that still opens old ones.

A sealed value names the key it was made with, so a keyring of the current key plus the
previous ones reads everything while `pushflow block rotate-key` re-seals it:

- `k<8 hex>:<base64 nonce+ciphertext>`: a local key (PUSHFLOW_BLOCK_KEY, or one of
  PUSHFLOW_BLOCK_PREVIOUS_KEYS); the id is the start of the key's SHA-256, so it says
  which key without revealing it;
- `kms:<base64 encrypted data key>:<base64 nonce+ciphertext>`: envelope encryption under
  AWS KMS (PUSHFLOW_BLOCK_KMS_KEY_ID): a data key from GenerateDataKey seals the value and
  only its KMS-encrypted copy is stored; KMS Decrypt opens it at use (control_plane/blocks/kms.py);
- no prefix: sealed before key ids existed, tried under every local key.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from control_plane.errors import ConfigurationError

KMS = "kms"


class UnreadableError(Exception):
    """A sealed value no key of the keyring opens."""


def load_key(encoded: str, setting: str = "PUSHFLOW_BLOCK_KEY") -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigurationError(f"{setting} must be 32 bytes, base64-encoded: make one with `openssl rand -base64 32`")
    return key


def key_id(key: bytes) -> str:
    return "k" + hashlib.sha256(key).hexdigest()[:8]


def encrypt(key: bytes, ref: str, values: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(values).encode(), ref.encode())
    return base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes, ref: str, token: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(token)
    return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], ref.encode()))  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class Keyring:
    """`local[0]` seals unless a KMS key is set; every local key opens what it sealed,
    and KMS opens what it wrapped (whichever KMS key that was: the blob names it)."""

    local: Sequence[bytes]
    kms_key_id: str | None = None

    @property
    def current_id(self) -> str:
        return KMS if self.kms_key_id else key_id(self.local[0])

    def seal(self, ref: str, values: dict[str, Any]) -> str:
        if self.kms_key_id:
            from control_plane.blocks import kms

            data_key, wrapped = kms.generate_data_key(self.kms_key_id, ref)
            return f"{KMS}:{base64.b64encode(wrapped).decode()}:{encrypt(data_key, ref, values)}"
        return f"{key_id(self.local[0])}:{encrypt(self.local[0], ref, values)}"

    def open(self, ref: str, token: str) -> dict[str, Any]:
        from cryptography.exceptions import InvalidTag

        sealed_by = sealed_with(token)
        if sealed_by == KMS:
            from control_plane.blocks import kms

            _, wrapped, body = token.split(":", 2)
            try:
                return decrypt(kms.decrypt_data_key(base64.b64decode(wrapped), ref), ref, body)
            except InvalidTag as exc:
                raise UnreadableError(f"block {ref!r} does not open with its KMS data key (altered?)") from exc
        body = token.split(":", 1)[1] if ":" in token else token
        for key in self.local:
            if sealed_by not in (None, key_id(key)):
                continue
            try:
                return decrypt(key, ref, body)
            except InvalidTag:
                continue
        raise UnreadableError(
            f"block {ref!r} was sealed with key {sealed_by or '(unnamed)'}, which is not in the keyring "
            f"(keys: {', '.join(key_id(k) for k in self.local) or 'none'}): put it in PUSHFLOW_BLOCK_PREVIOUS_KEYS"
        )


def sealed_with(token: str) -> str | None:
    """The id of the key a sealed value names (None: sealed before key ids)."""
    head, sep, _ = token.partition(":")
    return head if sep else None
