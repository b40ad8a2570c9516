"""Each worker process repairs lost work every few seconds, without waiting for periodiq's minute.

After a worker boots, one daemon thread per process stamps its Dramatiq
heartbeat and, every ``recovery_interval_s``, tries the fleet-wide recovery
pass (:func:`ytmaker.recovery.recover_once`; a Redis lock lets one process
through per interval). Only on a Redis broker: an embedded worker dies with
everything it would recover.
"""

from __future__ import annotations

import threading
import time

import structlog
from dramatiq.middleware import Middleware

from ytmaker import recovery

log = structlog.get_logger(__name__)


class RecoveryLoop(Middleware):
    """Start the recovery thread after the worker boots; stop it before the worker shuts down."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        if not recovery.is_redis_broker(broker) or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(broker,), name="ytmaker-recovery", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self, broker) -> None:
        from ytmaker.runtime import get_runtime

        settings = get_runtime().settings
        presence_every = max(0.5, settings.worker_heartbeat_timeout_s / 3)
        interval = settings.recovery_interval_s
        step = min(presence_every, interval) if interval > 0 else presence_every
        next_pass = time.monotonic()  # the first pass right at boot: a new worker picks up what the dead one left
        while not self._stop.is_set():
            try:
                recovery.stamp_presence(broker)
                if interval > 0 and time.monotonic() >= next_pass:
                    next_pass = time.monotonic() + interval
                    recovery.recover_once(get_runtime(), broker, lock_ms=int(interval * 900))
            except Exception as exc:  # noqa: BLE001 - Redis or the database is down: try again next tick
                log.warning("recovery_pass_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            self._stop.wait(step)
