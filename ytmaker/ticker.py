"""One thread per process for periodic chores: stage heartbeats, the worker's presence, the recovery pass.

Jobs are registered by name with an interval and run one after another on
the thread, each at most once per interval; a job that raises is logged and
runs again at its next turn. Quick jobs are registered first, so a slow
recovery pass delays a heartbeat by at most its own duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from ytmaker.outages import OutageLog

log = structlog.get_logger(__name__)


@dataclass
class _Job:
    interval_s: float
    run: Callable[[], object]
    due: float
    outage: OutageLog = field(default_factory=lambda: OutageLog("periodic_job"))


class Ticker:
    def __init__(self, name: str = "ytmaker-ticker") -> None:
        self.name = name
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None

    def every(self, name: str, interval_s: float, job: Callable[[], object], *, now: bool = False) -> None:
        """Run ``job`` every ``interval_s`` seconds (first at once if ``now``); replaces a job of the same name."""
        with self._lock:
            first = time.monotonic() + (0 if now else interval_s)
            self._jobs[name] = _Job(max(0.01, interval_s), job, first)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        self._changed.set()

    def cancel(self, name: str) -> None:
        with self._lock:
            self._jobs.pop(name, None)

    def has(self, name: str) -> bool:
        with self._lock:
            return name in self._jobs

    def _loop(self) -> None:
        while True:
            with self._lock:
                due = [(name, job) for name, job in self._jobs.items() if job.due <= time.monotonic()]
                for _, job in due:
                    job.due = time.monotonic() + job.interval_s
                wait = min((job.due for job in self._jobs.values()), default=time.monotonic() + 60) - time.monotonic()
            for name, job in due:
                try:
                    job.run()
                except Exception as exc:  # noqa: BLE001 - Redis or the database is down: try again next turn
                    job.outage.failed(exc, job=name)  # one warning per outage, then one line when it works again
                else:
                    job.outage.succeeded(job=name)
            if not due:
                self._changed.wait(max(0.0, wait))
                self._changed.clear()


#: the process's ticker
TICKER = Ticker()
