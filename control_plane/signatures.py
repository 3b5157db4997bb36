"""Webhook signatures: Standard Webhooks (both ways), and GitHub's and Stripe's schemes
for incoming webhooks.

Standard Webhooks (https://www.standardwebhooks.com/, spec "Signature scheme"): headers
`webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, a space-separated
list of `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`; a secret is `whsec_`
followed by the base64 key. GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret,
body)>` (docs.github.com, "Validating webhook deliveries"), delivery id in
`X-GitHub-Delivery`. Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
"{t}.{body}")>[,v1=...]` (docs.stripe.com, "Verify signatures manually").

GitHub and Stripe use the secret string itself as the key (Stripe's also start with
`whsec_`); Standard Webhooks decodes the base64 after `whsec_`. A receiver accepts a
signature made with any of its secrets: two during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Literal

Scheme = Literal["standard-webhooks", "github", "stripe"]
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Why a request's signature was refused (said in the 401)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for a message."""
    digest = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_headers(secret: str, message_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard(secret, message_id, timestamp, body),
    }


def verify(
    scheme: Scheme, secrets_: Sequence[str], headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> str | None:
    """Check a request; returns its delivery id (for replay protection) if the scheme has
    one, raises SignatureError saying what was wrong. `headers` keys are lower case."""
    now = now if now is not None else time.time()
    if scheme == "standard-webhooks":
        return _verify_standard(secrets_, headers, body, now)
    if scheme == "github":
        return _verify_github(secrets_, headers, body)
    return _verify_stripe(secrets_, headers, body, now)


def _verify_standard(secrets_: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str:
    message_id, stamp, given = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not message_id or not stamp or not given:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header (Standard Webhooks)")
    timestamp = _timestamp(stamp, now)
    offered = {part.split(",", 1)[1] for part in given.split() if part.startswith("v1,")}
    for secret in secrets_:
        if any(hmac.compare_digest(sign_standard(secret, message_id, timestamp, body)[3:], o) for o in offered):
            return message_id
    raise SignatureError("webhook-signature does not match: sign '{webhook-id}.{webhook-timestamp}.{body}'")


def _verify_github(secrets_: Sequence[str], headers: Mapping[str, str], body: bytes) -> str | None:
    given = headers.get("x-hub-signature-256", "")
    if not given.startswith("sha256="):
        raise SignatureError("missing X-Hub-Signature-256: sha256=<hex> header (GitHub)")
    for secret in secrets_:
        if hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), given[7:]):
            return headers.get("x-github-delivery")
    raise SignatureError("X-Hub-Signature-256 does not match the body with this webhook's secret")


def _verify_stripe(secrets_: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str:
    parts = [p.split("=", 1) for p in headers.get("stripe-signature", "").split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    offered = [v for k, v in parts if k == "v1"]
    if not stamps or not offered:
        raise SignatureError("missing Stripe-Signature: t=<unix>,v1=<hex> header (Stripe)")
    timestamp = _timestamp(stamps[0], now)
    for secret in secrets_:
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, o) for o in offered):
            return f"stripe:{timestamp}:{offered[0]}"
    raise SignatureError("Stripe-Signature does not match '{t}.{body}' with this webhook's secret")


def _timestamp(stamp: str, now: float) -> int:
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError(f"signature timestamp {stamp!r} is not unix seconds") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"signature timestamp {timestamp} is more than {TOLERANCE_SECONDS} s from the server's clock "
            f"({int(now)}): stale or replayed"
        )
    return timestamp
