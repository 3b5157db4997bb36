"""AWS's documented event payloads (events/*.json), loaded and pointed at a request."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"
HTTP_FIXTURES = ["apigateway-http-v2.json", "function-url.json", "apigateway-rest-v1.json"]


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def request(name: str, method: str, path: str, *, body: Any = None, key: str | None = None) -> dict[str, Any]:
    """The fixture `name`, changed to `method path` with a JSON body and a bearer key."""
    event = copy.deepcopy(load(name))
    text = json.dumps(body) if body is not None else None
    headers = {"content-type": "application/json"} if text else {}
    if key:
        headers["authorization"] = f"Bearer {key}"
    if event.get("version") == "2.0":
        event["rawPath"] = path
        event["rawQueryString"] = ""
        event.pop("queryStringParameters", None)
        event["requestContext"]["http"].update(method=method, path=path)
        event["headers"] = {**event["headers"], **headers}
        event["headers"].pop("content-length", None)
    else:
        event["path"] = path
        event["httpMethod"] = method
        event["requestContext"]["httpMethod"] = method
        event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
        event["headers"] = {**event["headers"], **headers}
        event["multiValueHeaders"] = {**event["multiValueHeaders"], **{k: [v] for k, v in headers.items()}}
    event["body"] = text
    event["isBase64Encoded"] = False
    return event


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def header(response: dict[str, Any], name: str) -> str | None:
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[0])
    return None
