"""A local stand-in for API Gateway, the Lambda service and the SQS event source mapping.

- `LocalGateway` listens on 127.0.0.1 (free port). Each HTTP request becomes an API
  Gateway HTTP API payload 2.0 event (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)
  handed to a handler running in a separate process (lambda_worker.py); the handler's
  2.0 response becomes the HTTP response. So a run's runtime reports back to "Lambda"
  over real HTTP.
- Workers are execution environments: one invocation at a time each, started on demand
  up to `max_workers`, reused while warm, like Lambda's concurrency.
- `invoke(event)` is a direct invocation (EventBridge ticks, commands).
- `poll_queue(url)` plays the SQS event source mapping: receives batches, invokes the
  handler with SQS events (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html) and
  deletes every message but those reported in `batchItemFailures`.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


class Worker:
    def __init__(self, env: dict[str, str], log_path: Path, args: list[str]) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.aws_lambda.lambda_worker", *args],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        try:
            ready = self.process.stdout.readline()  # type: ignore[union-attr]
        except BaseException:  # a test timed out while the worker was starting: leave nothing behind
            self.process.kill()
            self.stop()
            raise
        if not ready:
            self.stop()
            raise RuntimeError(f"Lambda worker did not start:\n{log_path.read_text()[-3000:]}")

    def invoke(self, event: Any, timeout: float) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"event": event, "timeout": timeout}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"Lambda worker died:\n{self.log_path.read_text()[-3000:]}")
        return json.loads(line)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()


class LocalGateway:
    def __init__(
        self, env: dict[str, str], log_dir: Path, *, max_workers: int = 4, worker_args: list[str] | None = None
    ) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.max_workers = max_workers
        self.worker_args = worker_args or []
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._workers: list[Worker] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.invocations: list[str] = []  # event kinds, in order (for assertions)

    # lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalGateway:
        self._spawn_thread(self.server.serve_forever)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(10)
        for worker in self._workers:
            worker.stop()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))

    # invocations -----------------------------------------------------------------------

    def invoke(self, event: Any, *, timeout: float = 30.0) -> Any:
        """Invoke the handler; returns its result, raises on a function error."""
        answer = self.invoke_raw(event, timeout=timeout)
        if "errorType" in answer:
            raise FunctionError(answer["errorType"], answer["errorMessage"])
        return answer["result"]

    def invoke_raw(self, event: Any, *, timeout: float = 30.0) -> dict[str, Any]:
        worker = self._acquire()
        try:
            return worker.invoke(event, timeout)
        finally:
            self._idle.put(worker)

    def _acquire(self) -> Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._workers) < self.max_workers:
                worker = Worker(self.env, self.log_dir / f"worker-{len(self._workers)}.log", self.worker_args)
                self._workers.append(worker)
                return worker
        return self._idle.get(timeout=120)

    def warm(self, count: int) -> None:
        """Start `count` execution environments now (so a test measures invocations, not start-up)."""
        workers = [self._acquire() for _ in range(count)]
        for worker in workers:
            self._idle.put(worker)

    # SQS event source mapping ------------------------------------------------------------

    def poll_queue(self, sqs: Any, queue_url: str, *, batch_size: int = 10) -> None:
        """Deliver the queue's messages to the handler until the gateway stops."""
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        def loop() -> None:
            while not self._stop.is_set():
                got = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=batch_size,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    VisibilityTimeout=30,
                )
                messages = got.get("Messages") or []
                if messages:
                    threading.Thread(target=self._deliver, args=(sqs, queue_url, arn, messages), daemon=True).start()

        self._spawn_thread(loop)

    def _deliver(self, sqs: Any, queue_url: str, arn: str, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [_sqs_record(m, arn) for m in messages]}
        answer = self.invoke_raw(event, timeout=60)
        failed = set()
        if "errorType" in answer:  # the whole batch comes back
            failed = {m["MessageId"] for m in messages}
        else:
            failed = {f["itemIdentifier"] for f in answer["result"].get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )

    def _spawn_thread(self, target: Any) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)


class FunctionError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def http_event(method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1") -> dict:
    """An API Gateway HTTP API payload 2.0 event for one request."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers.items():  # duplicates are joined with commas
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    content_type = lowered.get("content-type", "")
    binary = bool(body) and not content_type.startswith(TEXT_TYPES)
    now = datetime.datetime.now(datetime.timezone.utc)
    host = lowered.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": binary,
    }
    if cookies:
        event["cookies"] = cookies
    if parts.query:
        query: dict[str, str] = {}
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    if body:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode()
    return event


def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": arn.split(":")[3],
    }


def _request_handler(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            event = http_event(self.command, self.path, dict(self.headers.items()), body, self.client_address[0])
            answer = gateway.invoke_raw(event, timeout=30)
            gateway.invocations.append("http")
            if "errorType" in answer:  # what API Gateway answers for a function error
                self._reply(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
                return
            result = answer["result"]
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            headers = dict(result.get("headers") or {})
            self._reply(int(result.get("statusCode", 200)), headers, data, result.get("cookies") or [])

        def _reply(self, status: int, headers: dict[str, str], data: bytes, cookies: list[str] | None = None) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            for cookie in cookies or []:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
