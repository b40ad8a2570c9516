"""Each worker process repairs lost work every few seconds, without waiting for periodiq's minute.

After a worker boots, the process's ticker (``ytmaker.ticker``) stamps its
broker presence, checks every second that Redis still holds its marker (when
it does not, Redis lost its data and ``redis_lost`` re-sends from the
database at once) and, every ``recovery_interval_s``, tries the fleet-wide
recovery pass (given as ``recover``; a lock lets one process through per
interval). Only on a Redis broker: an embedded worker dies with everything
it would recover.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import Middleware

from ytmaker.config import Settings
from ytmaker.ticker import TICKER
from ytmaker.wakeup import OneLinePerOutage, WakeupRedisBroker

log = structlog.get_logger(__name__)

PRESENCE_JOB, RECOVERY_JOB, WATCH_JOB = "worker-presence", "recovery-pass", "redis-watch"
#: how often each worker checks that Redis still has its data (one SET NX)
WATCH_INTERVAL_S = 1.0


class RecoveryLoop(Middleware):
    """Put the presence stamp and the recovery pass on the ticker after boot; take them off at shutdown."""

    def __init__(self, *, recover: Callable[[int], object], settings: Callable[[], Settings],
                 redis_lost: Callable[[], object] = lambda: None) -> None:
        self.recover = recover  # called with the lock's length in ms
        self.settings = settings  # read at boot: tests and operators may change it until then
        self.redis_lost = redis_lost  # called when Redis came back without its data (once fleet-wide)
        self.queues: list[str] = []

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not isinstance(broker, WakeupRedisBroker):
            return
        settings = self.settings()
        self.queues = sorted(q for q in worker.consumers if not q.endswith(".DQ"))  # what `ytmaker status` looks for
        TICKER.every(PRESENCE_JOB, max(0.5, settings.worker_heartbeat_timeout_s / 3),
                     lambda: broker.stamp_presence(self.queues), now=True)
        broker.lost_data()  # puts the marker whose disappearance tells that Redis forgot everything
        TICKER.every(WATCH_JOB, WATCH_INTERVAL_S, lambda: self._watch(broker))
        interval = settings.recovery_interval_s
        if interval > 0:  # the first pass right at boot: a new worker picks up what the dead one left
            TICKER.every(RECOVERY_JOB, interval, lambda: self.recover(int(interval * 900)), now=True)

    def after_consumer_thread_boot(self, broker: dramatiq.Broker, thread: Any) -> None:
        if isinstance(broker, WakeupRedisBroker):  # each consumer thread has a logger of its own (named after its queue)
            thread.logger.addFilter(OneLinePerOutage())

    def _watch(self, broker: WakeupRedisBroker) -> None:
        if broker.lost_data():  # queues, delayed retries, acks and locks are gone: send from the database now
            log.warning("redis_lost_its_data")
            self.redis_lost()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        TICKER.cancel(PRESENCE_JOB)
        TICKER.cancel(RECOVERY_JOB)
        TICKER.cancel(WATCH_JOB)
        if isinstance(broker, WakeupRedisBroker):
            try:
                broker.forget_presence(self.queues)
            except Exception as exc:  # noqa: BLE001 - Redis is away: the stamps age out by themselves
                log.info("presence_not_removed", error=type(exc).__name__)
