"""The Dramatiq broker: Redis in distributed mode, an in-process stub in embedded mode.

Our middleware replaces Dramatiq's Retries and TimeLimit (see
ytmaker.middleware); it must be on the broker before any actor is declared.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, CurrentMessage, ShutdownNotifications
from periodiq import PeriodiqMiddleware

from ytmaker.config import Settings
from ytmaker.metrics import prometheus_middleware
from ytmaker.middleware import RecoveryLoop, StageRetries, StageTimeLimit

#: the scheduler skips ticks older than this on the worker side (seconds)
PERIODIQ_SKIP_DELAY_S = 30


def middleware() -> list:
    return [
        AgeLimit(),
        StageTimeLimit(),
        ShutdownNotifications(notify_shutdown=True),
        Callbacks(),
        CurrentMessage(),
        StageRetries(),
        PeriodiqMiddleware(skip_delay=PERIODIQ_SKIP_DELAY_S),
        RecoveryLoop(),
    ]


def build_broker(settings: Settings) -> dramatiq.Broker:
    broker = _build_broker(settings)
    metrics = prometheus_middleware(settings)
    if metrics is not None:  # queue depth, latency, failures for Prometheus (docs/scale-out.md)
        broker.add_middleware(metrics)
    return broker


def _build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        # Idle consumers wait on a wake-up list instead of polling (ytmaker.wakeup); off: Dramatiq's own, for comparison.
        if settings.wakeup:
            from ytmaker.wakeup import WakeupRedisBroker as RedisBroker
        else:
            from dramatiq.brokers.redis import RedisBroker

        # Workers stamp their heartbeat while busy (RecoveryLoop), so seconds of silence do mean death.
        return RedisBroker(url=settings.redis_url, middleware=middleware(),
                           heartbeat_timeout=int(settings.worker_heartbeat_timeout_s * 1000))
    return StubBroker(middleware=middleware())


def use_broker(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make ``broker`` the global one and move every declared ytmaker actor onto it."""
    old = dramatiq.get_broker() if _has_broker() else None
    dramatiq.set_broker(broker)
    if old is not None and old is not broker:
        for name in old.get_declared_actors():
            actor = old.get_actor(name)
            actor.broker = broker
            broker.declare_actor(actor)
    return broker


def _has_broker() -> bool:
    return dramatiq.broker.global_broker is not None
