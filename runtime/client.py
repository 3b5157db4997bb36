"""The HTTPS API client used by the runtime (with a run token) and the CLI (with a key).

Retries transport errors, 429 and 5xx with exponential backoff and jitter; every other
error becomes an APIError carrying the server's explanation.
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

from runtime import config, record_json
from runtime.errors import APIError
from runtime.transport import Response, Transport, TransportError, origin_of

if TYPE_CHECKING:
    from runtime.states import State

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20
_JSON = {"Content-Type": "application/json"}


class PushflowClient:
    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.2,
    ) -> None:
        self.api_url = (api_url or config.api_url()).rstrip("/")
        key = api_key if api_key is not None else config.api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.retries = retries
        self.backoff = backoff
        self._auth = headers
        self._http = Transport(timeout=timeout)
        self._owns_http = True

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def with_retries(self, retries: int) -> PushflowClient:
        """This client with another retry budget, sharing its connections (the transport
        is thread-safe): one pool and one TLS context per process, not one per reporting
        thread. Closing the twin leaves the pool to this client."""
        twin = copy.copy(self)
        twin.retries = retries
        twin._owns_http = False
        return twin

    def __enter__(self) -> PushflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transport -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """`method` on `path` (under the API URL); the answer's JSON, or None when it has
        no body."""
        url = self.api_url + path + (f"?{_query(params)}" if params else "")
        headers = {**self._auth, **(headers or {})}
        if json is not None:
            content = _json_body(json)
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, url, body=content, headers=headers)
            except TransportError as exc:
                if attempt > self.retries:
                    raise APIError(f"cannot reach the pushflow API at {self.api_url}: {exc}") from exc
                self._sleep(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise APIError(_explain(response), response.status_code)
            return response.json() if response.content else None

    def download(self, path: str) -> bytes:
        """The raw body of `path`, following a redirect to a signed URL (our key is not
        sent once a redirect leaves this origin)."""
        for attempt in range(1, self.retries + 2):
            try:
                response = self._follow(self.api_url + path)
            except TransportError as exc:
                if attempt > self.retries:
                    raise APIError(f"cannot download {path}: {exc}") from exc
                self._sleep(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise APIError(_explain(response), response.status_code)
            return response.content
        raise AssertionError("unreachable")

    def _follow(self, url: str) -> Response:
        """GET `url`, following redirects (up to MAX_REDIRECTS)."""
        for _ in range(MAX_REDIRECTS + 1):
            # Our key goes to our API only, never to where a redirect points elsewhere.
            headers = self._auth if origin_of(url) == origin_of(self.api_url) else {}
            response = self._http.request("GET", url, headers=headers)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            url = urljoin(url, location)
        raise APIError(f"too many redirects (more than {MAX_REDIRECTS}) downloading from {self.api_url}")

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, 10.0) * (0.5 + random.random() / 2))

    # API -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")  # type: ignore[no-any-return]

    def create_pool(self, name: str, type: str, defaults: dict[str, Any] | None = None) -> dict:
        return self.request("POST", "/pools", json={"name": name, "type": type, "defaults": defaults or {}})  # type: ignore[no-any-return]

    def list_pools(self) -> list[dict]:
        return self.request("GET", "/pools")  # type: ignore[no-any-return]

    def read_pool(self, name: str) -> dict:
        return self.request("GET", f"/pools/{name}")  # type: ignore[no-any-return]

    def upsert_deployment(self, body: dict[str, Any]) -> dict:
        return self.request("POST", "/deployments", json=body)  # type: ignore[no-any-return]

    def read_deployment(self, deployment_id: str) -> dict:
        return self.request("GET", f"/deployments/{deployment_id}")  # type: ignore[no-any-return]

    def read_deployment_by_name(self, flow_name: str, name: str) -> dict:
        return self.request("GET", f"/deployments/by-name/{flow_name}/{name}")  # type: ignore[no-any-return]

    def create_flow_run(self, deployment_id: str, **body: Any) -> dict:
        return self.request("POST", f"/deployments/{deployment_id}/runs", json=body)  # type: ignore[no-any-return]

    def read_flow_run(self, flow_run_id: str) -> dict:
        return self.request("GET", f"/flow-runs/{flow_run_id}")  # type: ignore[no-any-return]

    def list_flow_runs(self, **params: Any) -> dict:
        query = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", "/flow-runs", params=query)  # type: ignore[no-any-return]

    def set_flow_run_state(self, flow_run_id: str, state: State, *, force: bool = False) -> dict:
        body = {"state": state.to_wire(), "force": force}
        return self.request("POST", f"/flow-runs/{flow_run_id}/state", json=body)  # type: ignore[no-any-return]

    def start_flow_run(self, flow_run_id: str) -> dict:
        """Propose RUNNING for a run this process is about to run, counted as its first
        heartbeat; the answer's `run` is the run after the change (absent from a control
        plane older than `with_run`). `pushflow execute`'s first request, built without
        runtime.states, which the process imports while it is in flight."""
        body = {"state": {"type": "RUNNING", "name": "Running"}, "with_run": True, "heartbeat": True}
        return self.request("POST", f"/flow-runs/{flow_run_id}/state", json=body)  # type: ignore[no-any-return]

    def cancel_flow_run(self, flow_run_id: str) -> dict:
        return self.request("POST", f"/flow-runs/{flow_run_id}/cancel")  # type: ignore[no-any-return]

    def read_logs(self, flow_run_id: str, *, after: int | None = None, limit: int = 1000) -> list[dict]:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        return self.request("GET", f"/flow-runs/{flow_run_id}/logs", params=params)  # type: ignore[no-any-return]

    def read_task_runs(self, flow_run_id: str) -> list[dict]:
        return self.request("GET", f"/flow-runs/{flow_run_id}/task-runs")  # type: ignore[no-any-return]

    def report_task_runs(self, flow_run_id: str, task_runs: list[dict]) -> None:
        body = record_json.batch_body(task_runs, record_json.task_run_json)
        self.request("POST", f"/flow-runs/{flow_run_id}/task-runs", content=body, headers=_JSON)

    def send_logs(self, flow_run_id: str, logs: list[dict]) -> None:
        body = record_json.batch_body(logs, record_json.log_json)
        self.request("POST", f"/flow-runs/{flow_run_id}/logs", content=body, headers=_JSON)

    def record_flow_run_result(self, flow_run_id: str, result: dict[str, Any]) -> None:
        self.request("PUT", f"/flow-runs/{flow_run_id}/result", json=result)

    def read_flow_run_result(self, flow_run_id: str) -> dict:
        return self.request("GET", f"/flow-runs/{flow_run_id}/result")  # type: ignore[no-any-return]

    def create_subflow_run(self, parent_id: str, **body: Any) -> dict:
        """A child run of `parent_id`, and a token scoped to the child."""
        return self.request("POST", f"/flow-runs/{parent_id}/subflow-runs", json=body)  # type: ignore[no-any-return]

    def for_token(self, api_key: str) -> PushflowClient:
        """A client to the same API acting with another key (a child run's token)."""
        return PushflowClient(self.api_url, api_key, retries=self.retries, backoff=self.backoff)


def _json_body(value: Any) -> bytes:
    # As httpx encoded it: compact, UTF-8, and no NaN or Infinity (which JSON has not).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _query(params: dict[str, Any]) -> str:
    """A query string as httpx wrote one: booleans as true/false, None empty, a list repeated."""

    def text(value: Any) -> str:
        if value is True or value is False:
            return "true" if value else "false"
        return "" if value is None else str(value)

    pairs = [(k, text(item)) for k, v in params.items() for item in (v if isinstance(v, (list, tuple)) else [v])]
    return urlencode(pairs)


def _explain(response: Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(_describe_validation(d) for d in detail)
    return f"{response.status_code}: {detail}" if detail else f"HTTP {response.status_code}"


def _describe_validation(item: Any) -> str:
    if isinstance(item, dict):
        loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        return f"{loc}: {item.get('msg')}" if loc else str(item.get("msg"))
    return str(item)
