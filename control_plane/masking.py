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
    r"secret|passw|token|api[_-]?key|credential|private[_-]?key|secure|auth|connection[_-]?string|sas",
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
