"""No run leaves its container group behind.

A group is cleaned up (deleted, or stopped and kept) the first time `AciPool.status` sees
it ended. The reconciler only asks about runs that have not reported a final state, so a
run that completed normally would never be asked about again: this watcher keeps asking,
from one daemon thread that lives only while some group is watched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from push_pools.base import InfraRef
from push_pools.errors import PushPoolError

log = logging.getLogger("pushflow.pools.aci")


class Cleaner:
    def __init__(self, ended: Callable[[InfraRef], bool], *, interval: float = 2.0) -> None:
        """`ended(ref)` reads the group (cleaning it up when it has ended) and says if it had."""
        self._ended = ended
        self.interval = interval
        self._watched: dict[str, InfraRef] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def watch(self, ref: InfraRef) -> None:
        with self._lock:
            self._watched[ref.id] = ref
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="pushflow-aci-cleaner", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._watched:
                    self._thread = None
                    return
                refs = list(self._watched.values())
            for ref in refs:
                try:
                    done = self._ended(ref)
                except PushPoolError as exc:  # unreachable for now: ask again next round
                    log.warning("cannot check container group %s: %s", ref.id, exc)
                    done = False
                except Exception:  # a bug must not kill the watcher for every other group
                    log.exception("checking container group %s failed", ref.id)
                    done = False
                if done:
                    with self._lock:
                        self._watched.pop(ref.id, None)
            time.sleep(self.interval)  # the watcher's pace
