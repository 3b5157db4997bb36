"""Where a run's container group lives: its ARM resource id, derived from the run id."""

from __future__ import annotations

import dataclasses
import hashlib
import re

_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ContainerInstance/containerGroups/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
_MAX_NAME = 63  # ACI: 1-63 lowercase letters, digits and single hyphens


def group_name(idempotency_token: str) -> str:
    """The container group name for a run: the same token always gives the same name, so a
    retried submit finds the group it created before instead of creating a second."""
    name = re.sub(r"[^a-z0-9]+", "-", idempotency_token.lower()).strip("-")
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(idempotency_token.encode()).hexdigest()[:10]
        name = f"{name[: _MAX_NAME - 11].rstrip('-')}-{digest}"
    return name or "pushflow-run"


@dataclasses.dataclass(frozen=True)
class GroupAddress:
    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerInstance/containerGroups/{self.name}"
        )

    @property
    def portal_url(self) -> str:
        return f"https://portal.azure.com/#resource{self.id}/overview"

    @classmethod
    def parse(cls, resource_id: str) -> GroupAddress:
        match = _ID.match(resource_id)
        if match is None:
            raise ValueError(
                f"{resource_id!r} is not a container group resource id "
                "(/subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerInstance/containerGroups/…)"
            )
        return cls(match["sub"], match["rg"], match["name"])
