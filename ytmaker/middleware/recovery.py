"""Each worker process repairs lost work every few seconds, without waiting for periodiq's minute.

After a worker boots, the process's ticker (``ytmaker.ticker``) stamps its
broker presence and, every ``recovery_interval_s``, tries the fleet-wide
recovery pass (given as ``recover``; a lock lets one process through per
interval). Only on a Redis broker: an embedded worker dies with everything
it would recover.
"""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq.middleware import Middleware

from ytmaker.config import Settings
from ytmaker.ticker import TICKER
from ytmaker.wakeup import WakeupRedisBroker

PRESENCE_JOB, RECOVERY_JOB = "worker-presence", "recovery-pass"


class RecoveryLoop(Middleware):
    """Put the presence stamp and the recovery pass on the ticker after boot; take them off at shutdown."""

    def __init__(self, *, recover: Callable[[int], object], settings: Callable[[], Settings]) -> None:
        self.recover = recover  # called with the lock's length in ms
        self.settings = settings  # read at boot: tests and operators may change it until then

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not isinstance(broker, WakeupRedisBroker):
            return
        settings = self.settings()
        TICKER.every(PRESENCE_JOB, max(0.5, settings.worker_heartbeat_timeout_s / 3), broker.stamp_presence, now=True)
        interval = settings.recovery_interval_s
        if interval > 0:  # the first pass right at boot: a new worker picks up what the dead one left
            TICKER.every(RECOVERY_JOB, interval, lambda: self.recover(int(interval * 900)), now=True)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        TICKER.cancel(PRESENCE_JOB)
        TICKER.cancel(RECOVERY_JOB)
