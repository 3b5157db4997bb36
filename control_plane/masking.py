"""Masking secrets in what the API and the UI show.

Job variables, pool defaults and code sources are free-form JSON in which users put
secrets (ACI `secure_env`, registry passwords, `env` values such as `DB_PASSWORD`). A
value whose key names a secret is replaced whole, however deep it sits; over-masking
is safe, a leak is not. The stored document keeps the real value: only what is shown is
masked (dispatch reads the store, never a response).
"""

from __future__ import annotations

import re
from typing import Any

# A key that names a secret hides its whole value (a `secure_env` dict hides every entry).
SECRET_KEY = re.compile(
    r"secret|passw|token|api[_-]?key|account[_-]?key|credential|private[_-]?key|secure|auth|connection[_-]?string|sas",
    re.IGNORECASE,
)
MASK = "•••••• (hidden)"
# The password in a URL (`postgresql://user:pw@host/db`), whatever its key is called.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^/@\s]+(?P<tail>@)", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def mask_secrets(value: Any, key: str = "") -> Any:
    """`value` with the value of every secret-named key replaced by `MASK`."""
    if key and is_secret_key(key):
        return MASK
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<head>{MASK}\g<tail>", value)
    return value


def masked(value: Any) -> Any:
    """A pydantic validator for a public model's free-form field: its secrets masked."""
    return mask_secrets(value)


def restore_masked(given: Any, stored: Any, key: str = "") -> Any:
    """`given` (a document a client read masked and sent back) with every part that is
    exactly what `stored` shows masked replaced by the stored value, so a GET-then-PUT
    keeps the secrets instead of storing the mask. Parts the client changed are its own."""
    if stored is not None and contains_mask(given) and mask_secrets(stored, key) == given:
        return stored
    if isinstance(given, dict) and isinstance(stored, dict):
        return {k: restore_masked(v, stored.get(k), str(k)) for k, v in given.items()}
    if isinstance(given, list) and isinstance(stored, list) and len(given) == len(stored):
        return [restore_masked(g, s) for g, s in zip(given, stored, strict=True)]
    return given


def contains_mask(value: Any) -> bool:
    return mask_path(value) is not None


def mask_path(value: Any, path: str = "") -> str | None:
    """Where the mask appears in `value` (`env.DB_PASSWORD`), or None."""
    if isinstance(value, str):
        return path or "(the value)" if MASK in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        found = mask_path(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def refuse_mask(value: Any, what: str) -> None:
    """422 when `value` still holds the mask: it stands for no value the server knows."""
    from control_plane.errors import InvalidInputError

    where = mask_path(value)
    if where is not None:
        raise InvalidInputError(
            f"{what}.{where} is the mask {MASK!r}, not a value, and there is no stored secret it stands for "
            "(only a value read back unchanged from the same place keeps the stored one): send the real value"
        )
