"""Block types: typed configuration, each a JSON schema whose `secret: true` properties
are encrypted at rest and never answered in clear."""

from __future__ import annotations

from typing import Any


def _schema(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_S = {"type": "string", "minLength": 1}
_SECRET = {"type": "string", "minLength": 1, "secret": True}
# A pattern, not `format: uri`: jsonschema checks no uri format without an extra package.
_URL = {**_SECRET, "pattern": "^https?://"}

BLOCK_TYPES: dict[str, dict[str, Any]] = {
    "aws-credentials": _schema(
        {"aws_access_key_id": _S, "aws_secret_access_key": _SECRET, "aws_session_token": _SECRET, "region_name": _S},
        ["aws_access_key_id", "aws_secret_access_key"],
    ),
    "gcp-service-account": _schema(
        {"service_account_info": {**_SECRET, "description": "The key file's JSON"}, "project": _S},
        ["service_account_info"],
    ),
    "azure-service-principal": _schema(
        {"tenant_id": _S, "client_id": _S, "client_secret": _SECRET, "subscription_id": _S},
        ["tenant_id", "client_id", "client_secret"],
    ),
    "slack-webhook": _schema({"url": _URL}, ["url"]),
    "webhook": _schema({"url": _URL, "headers": {"type": "object", "secret": True}}, ["url"]),
    "secret": _schema({"value": _SECRET}, ["value"]),
    "s3-bucket": _schema(
        {
            "bucket": _S,
            "prefix": {"type": "string"},
            "credentials": {"type": "string", "description": "an aws-credentials block name"},
        },
        ["bucket"],
    ),
    "gcs-bucket": _schema({"bucket": _S, "prefix": {"type": "string"}, "credentials": {"type": "string"}}, ["bucket"]),
    "azure-blob-container": _schema(
        {"container": _S, "account_url": _S, "prefix": {"type": "string"}, "credentials": {"type": "string"}},
        ["container", "account_url"],
    ),
}


def secret_fields(block_type: str) -> set[str]:
    properties = BLOCK_TYPES[block_type]["properties"]
    return {name for name, spec in properties.items() if spec.get("secret")}
