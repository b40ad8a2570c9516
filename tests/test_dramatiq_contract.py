"""What ytmaker relies on of Dramatiq's private Redis parts (all used in ``ytmaker/wakeup.py`` alone).

If a Dramatiq upgrade changes any of it, these fail before a worker does:
the ``_RedisConsumer`` attributes the wake-up consumer reads, the argument
layout of ``dispatch.lua``, the ``__heartbeats__`` sorted set and the
maintenance that requeues a dead worker's messages.
"""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.brokers.redis import _RedisConsumer, _scripts

from tests.conftest import REDIS_URL
from ytmaker.wakeup import WakeupRedisBroker

LAYOUT = ["command", "timestamp", "queue_name", "worker_id", "heartbeat_timeout", "dead_message_ttl",
          "do_maintenance", "max_unpack_size"]


def test_dispatch_lua_takes_the_argument_layout_we_send():
    source = _scripts["dispatch"].decode()
    for position, name in enumerate(LAYOUT, start=1):
        assert f"local {name} = ARGV[{position}]" in source, name
    assert 'namespace .. ":__heartbeats__"' in source
    assert "for i=9,#ARGV do" in source  # the command's own arguments follow the eight


def test_the_consumer_has_what_the_wakeup_consumer_reads():
    consumer = _RedisConsumer.__new__(_RedisConsumer)
    _RedisConsumer.__init__(consumer, broker=None, queue_name="q", prefetch=2, timeout=100)
    assert (consumer.message_cache, consumer.misses, consumer.prefetch, consumer.timeout) == ([], 0, 2, 100)
    assert consumer.outstanding_message_count == 0


@pytest.fixture
def brokers(redis_client):
    """A worker that fetches a message and then falls silent, and a survivor."""
    redis_client.flushdb()
    made = [WakeupRedisBroker(url=REDIS_URL, heartbeat_timeout=500, maintenance_chance=0) for _ in range(2)]
    for broker in made:
        broker.declare_queue("contract")
    yield made
    made[0].flush_all()
    for broker in made:
        broker.close()
    redis_client.flushdb()


def fetch_without_ack(broker: WakeupRedisBroker) -> None:
    broker.enqueue(dramatiq.Message(queue_name="contract", actor_name="a", args=(), kwargs={}, options={}))
    consumer = broker.consume("contract", prefetch=1, timeout=100)
    assert next(m for m in consumer if m is not None).actor_name == "a"


def heartbeat_of(broker: WakeupRedisBroker) -> float | None:
    return broker.client.zscore(f"{broker.namespace}:__heartbeats__", broker.broker_id)


def silence(broker: WakeupRedisBroker) -> None:
    """Make ``broker``'s last heartbeat a minute old, as if its process died then."""
    broker.client.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: heartbeat_of(broker) - 60_000})


@pytest.mark.redis
def test_a_dead_workers_unacked_message_is_requeued_and_a_live_ones_is_not(brokers):
    dead, survivor = brokers
    fetch_without_ack(dead)
    survivor.requeue_dead_workers_messages()
    assert survivor.client.llen("dramatiq:contract") == 0  # its worker is alive: kept

    silence(dead)
    survivor.requeue_dead_workers_messages()

    assert survivor.client.llen("dramatiq:contract") == 1


@pytest.mark.redis
def test_a_busy_worker_that_stamps_its_presence_keeps_its_messages(brokers):
    busy, survivor = brokers
    fetch_without_ack(busy)
    silence(busy)  # a long stage with a full prefetch window: no broker command since the fetch...
    silent_since = heartbeat_of(busy)
    busy.stamp_presence()  # ...but its ticker stamps its presence

    assert heartbeat_of(busy) > silent_since + 50_000  # the stamp is now, not the silence a minute ago
    survivor.requeue_dead_workers_messages()

    assert survivor.client.llen("dramatiq:contract") == 0
