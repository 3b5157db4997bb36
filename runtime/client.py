"""The HTTPS API client used by the runtime (with a run token) and the CLI (with a key).

Retries transport errors, 429 and 5xx with exponential backoff and jitter; every other
error becomes an APIError carrying the server's explanation.
"""

from __future__ import annotations

import copy
import random
import sys
import threading
import time
from typing import Any

from runtime import config
from runtime.errors import APIError
from runtime.states import State

# httpx imports its own command-line client (click, rich, pygments: about a third of
# `pushflow execute`'s start-up) whenever those are installed, and the base install has
# them for our CLI. Nothing here uses httpx's CLI, so hide it while httpx loads: httpx then
# defines its stub `httpx.main` (which explains how to get the CLI) instead.
_HIDE_HTTPX_CLI = "httpx" not in sys.modules and "httpx._main" not in sys.modules
if _HIDE_HTTPX_CLI:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]  # None: "import fails"
try:
    import httpx
finally:
    if _HIDE_HTTPX_CLI:
        del sys.modules["httpx._main"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _DeferredTLSTransport(httpx.BaseTransport):
    """httpx's own transport, with its certificate store loaded on the first https request
    rather than when the client is made. Loading it was most of making a client (tens of
    ms, 0.4 s on a loaded machine) and `pushflow execute` makes one before anything else;
    a run talking to a local API over plain http never needs it. Proxies from the
    environment still apply: httpx mounts them in front of this transport."""

    def __init__(self) -> None:
        # Its TLS context is never used (plain http only), so it verifies nothing and loads nothing.
        self._plain = httpx.HTTPTransport(verify=False)
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        with self._lock:
            if self._tls is None:
                self._tls = httpx.HTTPTransport()  # verifying, as httpx.Client() would make it
        return self._tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


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
        self._http = httpx.Client(
            base_url=self.api_url, headers=headers, timeout=timeout, transport=_DeferredTLSTransport()
        )
        self._owns_http = True

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def with_retries(self, retries: int) -> PushflowClient:
        """This client with another retry budget, sharing its connection pool (httpx's
        client is thread-safe): one pool and one TLS context per process, not one per
        reporting thread. Closing the twin leaves the pool to this client."""
        twin = copy.copy(self)
        twin.retries = retries
        twin._owns_http = False
        return twin

    def __enter__(self) -> PushflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transport -------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
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
        """The raw body of `path`, following a redirect to a signed URL (httpx drops our
        key when the redirect leaves this origin)."""
        for attempt in range(1, self.retries + 2):
            try:
                response = self._http.get(path, follow_redirects=True)
            except httpx.TransportError as exc:
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
        self.request("POST", f"/flow-runs/{flow_run_id}/task-runs", json=task_runs)

    def send_logs(self, flow_run_id: str, logs: list[dict]) -> None:
        self.request("POST", f"/flow-runs/{flow_run_id}/logs", json=logs)

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


def _explain(response: httpx.Response) -> str:
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
