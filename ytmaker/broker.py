"""The Dramatiq broker: Redis in distributed mode, an in-process stub in embedded mode.

Built by the entry points (``ytmaker.actors``, the embedded runner, the CLI)
with the middleware they choose (``ytmaker.worker.stage_middleware`` for a
worker); a process that only sends messages needs none. The stage table's
queues are declared up front, since messages are sent by actor name, without
importing the actors (the stub broker refuses undeclared queues).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from ytmaker.config import Settings
from ytmaker.graph import queues
from ytmaker.wakeup import WakeupRedisBroker

#: periodiq's middleware skips ticks older than this (seconds)
PERIODIQ_SKIP_DELAY_S = 30


def is_scheduler() -> bool:
    """Whether this process is the ``periodiq`` scheduler: its command imports periodiq before our modules.

    Only the scheduler needs periodiq (and pendulum, ~18 MB): a stage worker declares the periodic
    actor without its schedule and runs its messages like any other.
    """
    return "periodiq" in sys.modules


def build_broker(settings: Settings, middleware: Iterable[Middleware] = ()) -> dramatiq.Broker:
    """A broker for ``settings`` with ``middleware``, its queues declared."""
    chosen = list(middleware)
    broker: dramatiq.Broker
    if settings.redis_url:
        # Idle consumers wait on a wake-up list instead of polling (ytmaker.wakeup); off: Dramatiq's polling.
        # Workers stamp their heartbeat while busy (ytmaker.worker), so seconds of silence do mean death.
        broker = WakeupRedisBroker(url=settings.redis_url, middleware=chosen, wakeup=settings.wakeup,
                                   heartbeat_timeout=int(settings.worker_heartbeat_timeout_s * 1000))
    else:
        broker = StubBroker(middleware=chosen)
    for queue in queues():
        broker.declare_queue(queue)
    return broker


def use_broker(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make ``broker`` the global one and move every declared ytmaker actor onto it."""
    old = dramatiq.broker.global_broker
    dramatiq.set_broker(broker)
    if old is not None and old is not broker:
        for name in old.get_declared_actors():
            actor = old.get_actor(name)
            actor.broker = broker
            broker.declare_actor(actor)
    return broker
