"""`pushflow execute` with timestamps: what bench/trigger_phases.py starts instead of it.

Runs runtime.execute.main() as the process pool would, and writes, to
$PUSHFLOW_BENCH_PHASES/<run id>.json, wall-clock times (time.time()) of the process's start
(from /proc, 10 ms resolution), of reaching this file, of the runtime's imports ending, of
each API request's start and end, and of the exit, with the process's CPU time at exit.
"""

from __future__ import annotations

import time

REACHED = time.time()

import json  # noqa: E402 - the line above must come first
import os  # noqa: E402
import sys  # noqa: E402


def _started() -> float:
    """When this process started, by the clock time.time() reads."""
    with open("/proc/self/stat") as fh:
        start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    return time.time() - age


def main() -> int:
    phases: dict = {"started": _started(), "reached": REACHED}
    import runtime.execute
    from runtime.client import PushflowClient

    phases["imported"] = time.time()
    requests: list = []
    plain = PushflowClient.request

    def timed(self: PushflowClient, method: str, path: str, **kwargs: object) -> object:
        begun = time.time()
        try:
            return plain(self, method, path, **kwargs)  # type: ignore[arg-type]
        finally:
            requests.append([method, path.rsplit("/", 1)[-1], begun, time.time()])

    PushflowClient.request = timed  # type: ignore[method-assign]
    try:
        return runtime.execute.main()
    finally:
        phases.update(exited=time.time(), cpu=time.process_time(), requests=requests)
        out = os.path.join(os.environ["PUSHFLOW_BENCH_PHASES"], os.environ["PUSHFLOW_FLOW_RUN_ID"] + ".json")
        with open(out + ".part", "w") as fh:
            json.dump(phases, fh)
        os.replace(out + ".part", out)


if __name__ == "__main__":
    sys.exit(main())
