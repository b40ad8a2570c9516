"""The wake-up broker on real Redis: an enqueue wakes an idle consumer at once, and nothing is lost."""

from __future__ import annotations

import threading
import time

import dramatiq
import pytest
from dramatiq.middleware import AgeLimit, Retries

from tests.conftest import REDIS_URL
from tests.helpers import wait_until
from ytmaker.wakeup import WAKE_TOKENS_MAX, WakeupRedisBroker

pytestmark = pytest.mark.redis


@pytest.fixture
def wake_broker(redis_client):
    redis_client.flushdb()
    broker = WakeupRedisBroker(url=REDIS_URL, middleware=[AgeLimit(), Retries(min_backoff=10, max_backoff=20)])
    yield broker
    broker.flush_all()
    broker.close()
    redis_client.flushdb()


def idle_for(worker, queue: str, misses: int) -> None:
    """Wait until ``queue``'s consumer has found it empty ``misses`` times in a row: its back-off is then up to
    5 ms x 2**misses (Dramatiq's compute_backoff), which a polling consumer would sleep through."""
    def misses_so_far() -> bool:
        thread = worker.consumers.get(queue)
        consumer = getattr(thread, "consumer", None)
        return consumer is not None and consumer.misses >= misses

    wait_until(misses_so_far, timeout_s=30, what=f"{queue}'s consumer to back off", interval_s=0.01)


def _actor(broker, queue, handler):
    return dramatiq.actor(handler, broker=broker, queue_name=queue, actor_name=f"{queue}_{handler.__name__}", max_retries=3)


def test_an_idle_consumer_fetches_a_new_message_within_milliseconds_not_its_timeout(wake_broker):
    seen: list[float] = []
    done = threading.Event()

    def record(sent_at):
        seen.append(time.time() - sent_at)
        done.set()

    actor = _actor(wake_broker, "wake_q", record)
    # A 1 s worker timeout: a polling consumer would sleep up to 1 s once the queue has been idle.
    worker = dramatiq.Worker(wake_broker, worker_threads=1, worker_timeout=1000)
    worker.start()
    try:
        for _ in range(5):
            idle_for(worker, "wake_q", misses=8)  # 5 ms x 2**8 > 1 s: a polling consumer would sleep its full timeout
            done.clear()
            actor.send(time.time())
            assert done.wait(5)
    finally:
        worker.stop()
    assert len(seen) == 5
    assert sorted(seen)[2] < 0.1, seen  # median well under the 1 s a poll could take


def test_every_message_is_processed_once_with_several_consumers(wake_broker, redis_client):
    def count(n):
        redis_client.sadd("wake:seen", n)
        redis_client.incr("wake:calls")

    actor = _actor(wake_broker, "wake_many", count)
    workers = [dramatiq.Worker(wake_broker, worker_threads=2, worker_timeout=500) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for n in range(200):
            actor.send(n)
        deadline = time.monotonic() + 20
        while redis_client.scard("wake:seen") < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()
    assert redis_client.scard("wake:seen") == 200
    assert int(redis_client.get("wake:calls")) == 200
    assert redis_client.llen(wake_broker.wake_key("wake_many")) <= WAKE_TOKENS_MAX


def test_delayed_messages_wake_the_delay_queue_consumer(wake_broker):
    done = threading.Event()

    def mark():
        done.set()

    actor = _actor(wake_broker, "wake_delay", mark)
    worker = dramatiq.Worker(wake_broker, worker_threads=1, worker_timeout=2000)
    worker.start()
    try:
        idle_for(worker, "wake_delay.DQ", misses=9)
        started = time.monotonic()
        actor.send_with_options(delay=100)
        assert done.wait(5)
        # the delay is 100 ms; a sleeping delay-queue consumer could add up to 2 s more
        assert time.monotonic() - started < 1.5
    finally:
        worker.stop()


def test_the_wake_list_is_capped_and_expires(wake_broker, redis_client):
    actor = _actor(wake_broker, "wake_cap", lambda: None)
    for _ in range(WAKE_TOKENS_MAX + 50):
        actor.send()
    key = wake_broker.wake_key("wake_cap")
    assert redis_client.llen(key) == WAKE_TOKENS_MAX
    assert 0 < redis_client.ttl(key) <= 3600
    assert wake_broker.do_qsize("wake_cap") == WAKE_TOKENS_MAX + 50  # the messages themselves are all there


#: Redis keeps its scripts server-wide, not per database: a flush here, run beside the service test that checks its
#: script is loaded at start-up, failed that test once (its script gone between the load and the check). Tests that
#: flush scripts share this group, so one test process runs them one after another.
@pytest.mark.xdist_group("redis_scripts")
def test_a_redis_that_lost_its_scripts_still_takes_messages(wake_broker, redis_client):
    # Enqueues call the dispatch script by its sha; a Redis restarted without its scripts answers NOSCRIPT once.
    actor = _actor(wake_broker, "wake_noscript", lambda: None)
    actor.send()
    redis_client.script_flush()
    actor.send()
    assert wake_broker.do_qsize("wake_noscript") == 2
    assert redis_client.script_exists(wake_broker.scripts["dispatch"].sha) == [True]
