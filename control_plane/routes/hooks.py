"""`POST /hooks/{slug}`: what webhook senders call. No API key: the unguessable slug, and
the signature when the webhook has a scheme, are the credentials.

Order of checks: size (413), the webhook (404), the signature (401), the template (400),
replay (a delivery id seen before is answered 204 and not ingested again), the rate
limit (429). The answer is 204 as soon as the event is stored; automations pick it up on
their pass (the local loop is woken at once).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response, status
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from control_plane.deps import ServicesDep
from control_plane.errors import BadRequestError, ErrorBody, NotFoundError, PayloadTooLargeError, UnauthorizedError
from control_plane.event_ingest import EventCreate, RelatedIn, accept_events
from control_plane.passes.automations import automations_on_trigger
from control_plane.services import Services
from control_plane.signatures import SignatureError, verify
from control_plane.templates import TemplateError, render_json
from control_plane.webhook_models import Webhook, WebhookDelivery

router = APIRouter(tags=["webhooks"])


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


@router.post(
    "/hooks/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        400: _error("The webhook's template failed on this request, or made an invalid event"),
        401: _error("Missing, wrong or stale signature"),
        404: _error("No enabled webhook at this URL"),
        413: _error("Body larger than PUSHFLOW_WEBHOOK_MAX_BYTES"),
        429: _error("Past PUSHFLOW_EVENT_RATE_LIMIT"),
        500: _error("A bug in the server; its log has the details"),
    },
)
async def receive_webhook(slug: str, request: Request, services: ServicesDep) -> Response:
    """Turn the request into an event with the webhook's template (see docs/concepts/webhooks.md)."""
    body = await _read_body(request, services.settings.webhook_max_bytes)
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = dict(parse_qsl(request.url.query))
    await run_in_threadpool(_ingest, services, slug, body, headers, query)
    services.wake(full=False)
    await run_in_threadpool(automations_on_trigger, services)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _read_body(request: Request, limit: int) -> bytes:
    too_big = f"the body is larger than {limit} bytes (PUSHFLOW_WEBHOOK_MAX_BYTES); send less"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(too_big)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def _ingest(services: Services, slug: str, body: bytes, headers: dict[str, str], query: dict[str, str]) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        hook = session.exec(select(Webhook).where(Webhook.slug == slug)).first()
        if hook is None or not hook.enabled:
            raise NotFoundError("no webhook at this URL (it may have been rotated, disabled or deleted)")
        delivery_id = None
        if hook.signature:
            keys = [s for s in (hook.secret, hook.previous_secret) if s]
            try:
                delivery_id = verify(hook.signature, keys, headers, body)  # type: ignore[arg-type]
            except SignatureError as exc:
                raise UnauthorizedError(f"signature refused: {exc}") from None
        event = _render_event(hook, body, headers, query, services.settings.event_max_bytes)
        if delivery_id:
            session.add(WebhookDelivery(webhook_id=hook.id, delivery_id=delivery_id[:300]))
            try:
                session.flush()
            except IntegrityError:  # delivered before: answered, not ingested twice
                session.rollback()
                return
        event.related.append(RelatedIn(id=f"webhook.{hook.name}", role="webhook"))
        accept_events(session, services.settings, [event])
        session.commit()


def _render_event(
    hook: Webhook, body: bytes, headers: dict[str, str], query: dict[str, str], max_chars: int
) -> EventCreate:
    text = body.decode("utf-8", errors="replace")
    parsed: Any = text
    if "json" in headers.get("content-type", "") or text.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise BadRequestError(f"the body is not valid JSON: {exc}") from None
    elif "x-www-form-urlencoded" in headers.get("content-type", ""):
        parsed = dict(parse_qsl(text))
    context = {
        "body": parsed,
        "raw_body": text,
        "headers": headers,
        "query": query,
        "webhook": {"id": hook.id, "name": hook.name},
    }
    try:
        rendered = render_json(hook.template, context, max_chars=max_chars)
    except TemplateError as exc:
        raise BadRequestError(f"webhook {hook.name!r}: {exc}") from None
    try:
        return EventCreate.model_validate(rendered)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors())
        raise BadRequestError(f"webhook {hook.name!r}: the template made an invalid event ({problems})") from None
