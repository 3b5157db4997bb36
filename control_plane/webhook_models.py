"""Incoming webhooks: the table, its API models, and the deliveries seen (replay guard).

A webhook's URL is `/hooks/{slug}`: the slug is 32 random URL-safe characters, the only
thing a sender needs, and can be rotated. Secrets are stored (HMAC needs them), shown once
when created or rotated, never again.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check
from sqlmodel import Field, SQLModel

from control_plane.columns import TABLE_CONFIG, JsonBool, utc_column, utcnow

SignatureScheme = Literal["standard-webhooks", "github", "stripe"]

DEFAULT_TEMPLATE = (
    '{"event": "webhook.called", "resource": {"id": "webhook.{{ webhook.name }}"}, '
    '"payload": {"body": {{ body | tojson }}, "query": {{ query | tojson }}}}'
)


def new_slug() -> str:
    return secrets.token_urlsafe(24)


class WebhookBase(SQLModel):
    name: str
    description: str = ""
    template: str = Field(
        default=DEFAULT_TEMPLATE,
        max_length=20000,
        description="Jinja (sandboxed) rendering the event as JSON; sees body, raw_body, headers, query, webhook",
    )
    signature: str | None = Field(default=None, description="standard-webhooks, github, stripe, or null (none)")
    enabled: bool = True


class WebhookCreate(BaseModel):
    """A new incoming webhook. With a `signature` scheme and no `secret`, a secret is made."""

    # A secret is only checked under a signature scheme: the document says so too.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"secret": {"type": "string"}}, "required": ["secret"]},
            "then": {"properties": {"signature": {"type": "string"}}, "required": ["signature"]},
        }
    )

    name: str = Check(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    template: str = Check(default=DEFAULT_TEMPLATE, max_length=20000)
    signature: SignatureScheme | None = None
    secret: str | None = Check(default=None, min_length=16, max_length=200)
    enabled: JsonBool = True


class WebhookUpdate(BaseModel):
    """Changes to a webhook; fields left out are kept."""

    description: str | None = None
    template: str | None = Check(default=None, max_length=20000)
    enabled: JsonBool | None = None


class Webhook(WebhookBase, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "webhook"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    name: str = Field(unique=True, index=True)
    slug: str = Field(default_factory=new_slug, unique=True, index=True)
    secret: str | None = None
    previous_secret: str | None = None  # still accepted until the next rotation
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class WebhookPublic(WebhookBase):
    """A webhook. `secret` appears only in the answer that created or rotated it."""

    id: str
    path: str = Field(description="Where senders POST: /hooks/{slug}")
    created: datetime
    secret: str | None = None


class WebhookDelivery(SQLModel, table=True):
    """A signed delivery already accepted: a replay of its id is answered, not re-ingested."""

    model_config = TABLE_CONFIG

    __tablename__ = "webhook_delivery"
    webhook_id: str = Field(primary_key=True)
    delivery_id: str = Field(primary_key=True, max_length=300)
    received: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False, index=True))
