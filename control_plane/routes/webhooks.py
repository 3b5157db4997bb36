"""Managing incoming webhooks: /api/webhooks (admin). What a sender calls is in hooks.py."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import Session, col, select

from control_plane.deps import AdminDep, SessionDep
from control_plane.errors import ConflictError, InvalidInputError, NotFoundError
from control_plane.signatures import new_secret
from control_plane.templates import TemplateError, check
from control_plane.webhook_models import Webhook, WebhookCreate, WebhookPublic, WebhookUpdate, new_slug

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, session: SessionDep, _: AdminDep) -> WebhookPublic:
    """Create a webhook: senders POST to the `path` it answers with. With a `signature`
    scheme, requests must be signed; the secret (given, or made here) is shown only now."""
    _check_template(body.template)
    if session.exec(select(Webhook).where(Webhook.name == body.name)).first():
        raise ConflictError(f"webhook {body.name!r} already exists; pick another name or delete it first")
    secret = body.secret or (new_secret() if body.signature else None)
    if body.secret and not body.signature:
        raise InvalidInputError("a secret without a signature scheme is never checked: set signature too")
    hook = Webhook(
        name=body.name,
        description=body.description,
        template=body.template,
        signature=body.signature,
        enabled=body.enabled,
        secret=secret,
    )
    session.add(hook)
    session.commit()
    return public(hook, show_secret=True)


@router.get("")
def list_webhooks(session: SessionDep, _: AdminDep) -> list[WebhookPublic]:
    """Every webhook, by name (without secrets)."""
    return [public(h) for h in session.exec(select(Webhook).order_by(col(Webhook.name))).all()]


@router.get("/{name}")
def read_webhook(name: str, session: SessionDep, _: AdminDep) -> WebhookPublic:
    """One webhook (without its secret)."""
    return public(get_webhook(session, name))


@router.patch("/{name}")
def update_webhook(name: str, body: WebhookUpdate, session: SessionDep, _: AdminDep) -> WebhookPublic:
    """Change a webhook's template or description, or disable it (`enabled: false`: 404 to senders)."""
    hook = get_webhook(session, name)
    if body.template is not None:
        _check_template(body.template)
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(hook, key, value)
    session.add(hook)
    session.commit()
    return public(hook)


@router.post("/{name}/rotate-url")
def rotate_url(name: str, session: SessionDep, _: AdminDep) -> WebhookPublic:
    """A new slug: the old URL stops answering at once."""
    hook = get_webhook(session, name)
    hook.slug = new_slug()
    session.add(hook)
    session.commit()
    return public(hook)


@router.post("/{name}/rotate-secret")
def rotate_secret(name: str, session: SessionDep, _: AdminDep) -> WebhookPublic:
    """A new secret (shown once). The previous one is still accepted until the next
    rotation, so senders can switch over without dropping deliveries."""
    hook = get_webhook(session, name)
    if not hook.signature:
        raise ConflictError(f"webhook {name!r} checks no signature, so has no secret to rotate; recreate it with one")
    hook.previous_secret, hook.secret = hook.secret, new_secret()
    session.add(hook)
    session.commit()
    return public(hook, show_secret=True)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(name: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete a webhook; its URL stops answering."""
    session.delete(get_webhook(session, name))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def get_webhook(session: Session, name: str) -> Webhook:
    hook = session.exec(select(Webhook).where(Webhook.name == name)).first()
    if hook is None:
        raise NotFoundError(f"webhook {name!r} not found; list them with `pushflow webhook ls`")
    return hook


def public(hook: Webhook, *, show_secret: bool = False) -> WebhookPublic:
    return WebhookPublic(
        id=hook.id,
        name=hook.name,
        description=hook.description,
        template=hook.template,
        signature=hook.signature,
        enabled=hook.enabled,
        path=f"/hooks/{hook.slug}",
        created=hook.created,
        secret=hook.secret if show_secret else None,
    )


def _check_template(source: str) -> None:
    try:
        check(source)
    except TemplateError as exc:
        raise InvalidInputError(str(exc)) from None
