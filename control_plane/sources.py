"""Where a deployment's code comes from: its typed `source`.

- `image`: the code is in the image; the entrypoint is relative to the image's working dir.
- `git`: a repository at the commit resolved when it was deployed (runs never follow the
  branch), optionally a subdirectory, credentials by secret reference (never the secret).
- `bundle`: a tar.gz of the project that `pushflow deploy` uploaded to the bundle store,
  named by its sha256; the runtime verifies the hash before it unpacks anything.
- `local`: the deployer's own folder (today's process-pool behaviour); only a process pool
  can see it.

The runtime reads the same fields as plain JSON (it does not import pydantic).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import BaseModel, ConfigDict, Field

from control_plane.columns import json_number
from control_plane.errors import InvalidInputError

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of the bundle archive")]


def _type_required(schema: dict[str, Any]) -> None:
    # `type` has a default but picks the kind: a source without it is refused.
    schema["required"] = ["type", *schema.get("required", [])]


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_type_required)


class ImageSource(_Source):
    """The code is baked into the container image."""

    type: Literal["image"] = "image"


class GitSource(_Source):
    """Runs clone a git repository at a pinned commit."""

    type: Literal["git"] = "git"
    url: str = Field(min_length=1, description="Repository URL (https://, ssh, or a path)")
    ref: str | None = Field(default=None, description="The branch or tag that was deployed, for display")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$", description="The commit runs use, resolved at deploy time")
    subdirectory: str | None = Field(default=None, description="Where the project lives inside the repository")
    credentials: str | None = Field(
        default=None,
        pattern=r"^env:[A-Za-z_][A-Za-z0-9_]*$",
        description="A secret reference, 'env:NAME': the container's variable NAME holds the token",
    )


class BundleSource(_Source):
    """Runs fetch a bundle the CLI uploaded, by its sha256."""

    type: Literal["bundle"] = "bundle"
    sha256: Sha256
    size: Annotated[int, Ge(0), json_number("integer")] | None = None


class LocalSource(_Source):
    """Runs use the deployment's folder on this machine (process pools)."""

    type: Literal["local"] = "local"


Source = Annotated[ImageSource | GitSource | BundleSource | LocalSource, Field(discriminator="type")]


def check_source(services: Any, source: Source | None, pool_type: str) -> None:
    """Refuse what cannot run: a `local` source off the process pool (only it shares the
    deployer's filesystem), a bundle the store does not have."""
    if source is None:
        return
    if source.type == "local" and pool_type != "process":
        raise InvalidInputError(
            f"source 'local' only works on a process pool, not on pool type {pool_type!r}; "
            "deploy with --source bundle, git or image"
        )
    if source.type == "bundle" and not services.bundles.exists(source.sha256):
        raise InvalidInputError(
            f"bundle {source.sha256} is not in the bundle store; upload it first (PUT /api/bundles/{{sha256}}), "
            "as `pushflow deploy --source bundle` does"
        )
