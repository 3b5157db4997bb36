"""One simulated Lambda execution environment: imports the handler once, then runs one
invocation at a time, like a warm container. The gateway (gateway.py) writes one JSON
line per invocation to stdin and reads one JSON line back from the original stdout;
everything the handler prints (Powertools logs, EMF metrics) goes to stderr.

    python -m tests.aws_lambda.lambda_worker [--register-counting-pool]
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid


class Context:
    """The attributes of AWS's Lambda context object the handler reads."""

    function_name = "pushflow-control-plane"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:pushflow-control-plane"
    memory_limit_in_mb = 1024

    def __init__(self, timeout_seconds: float) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # handler output (logs, metrics) to stderr, answers alone on the pipe
    sys.stdout = sys.stderr
    if "--register-counting-pool" in sys.argv:
        from tests.control_plane import counting_pool

        counting_pool.register()
    from control_plane.aws_lambda import handler

    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": handler(request["event"], Context(request.get("timeout", 30.0)))}
        except Exception as exc:  # what Lambda reports as a function error
            traceback.print_exc()
            answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
