"""Request rate limits, in Redis (shared by every process) and in memory (shared by one object's threads)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from ytmaker.errors import ProviderUnavailable
from ytmaker.providers.ratelimit import MemoryRateLimiter, RedisRateLimiter


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "memory"])
def make_limiter(request):
    """Builds a limiter of the parametrised kind under a name no other test uses."""
    name = f"test-{uuid.uuid4().hex}"
    if request.param == "memory":
        yield lambda **kwargs: MemoryRateLimiter(name=name, **kwargs)
        return
    redis_client = request.getfixturevalue("redis_client")
    yield lambda **kwargs: RedisRateLimiter(redis_client, name=name, **kwargs)
    redis_client.delete(f"ytmaker:ratelimit:{name}", f"ytmaker:ratelimit:{name}:lockout")


def test_the_limiter_hands_a_long_wait_to_the_stage_retries(make_limiter):
    limiter = make_limiter(limit=2, window_s=10, max_wait_s=0.2)

    assert limiter.acquire() == 0 and limiter.acquire() == 0
    with pytest.raises(ProviderUnavailable) as info:
        limiter.acquire()

    assert 9 < info.value.retry_after <= 10


@pytest.mark.redis
def test_limiters_of_the_same_name_share_the_window_in_redis(redis_client):
    key = f"test-{uuid.uuid4().hex}"
    first = RedisRateLimiter(redis_client, name=key, limit=2, window_s=10, max_wait_s=0.2)
    second = RedisRateLimiter(redis_client, name=key, limit=2, window_s=10, max_wait_s=0.2)

    assert first.acquire() == 0 and second.acquire() == 0
    with pytest.raises(ProviderUnavailable) as info:
        first.acquire()

    assert 9 < info.value.retry_after <= 10
    redis_client.delete(f"ytmaker:ratelimit:{key}")


def test_a_short_wait_is_slept_through_and_reported(make_limiter):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    limiter = make_limiter(limit=2, window_s=0.4, max_wait_s=5, sleep=sleep)
    assert limiter.acquire() == 0 and limiter.acquire() == 0
    started = time.monotonic()

    waited = limiter.acquire()

    assert 0 < waited <= 0.4 and slept and sum(slept) == pytest.approx(waited)
    assert time.monotonic() - started >= waited


def test_threads_never_exceed_the_rate(make_limiter):
    limiter = make_limiter(limit=2, window_s=0.6, max_wait_s=10)
    admitted: list[float] = []
    lock = threading.Lock()

    def request() -> None:
        limiter.acquire()
        with lock:
            admitted.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=request) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    admitted.sort()
    assert len(admitted) == 5
    # No 0.4 s span (a margin for scheduling and the hop to Redis) holds more than 2 requests...
    assert max(sum(1 for b in admitted if a <= b < a + 0.4) for a in admitted) <= 2
    # ...and 5 requests at 2 per 0.6 s need a third window.
    assert admitted[-1] - started >= 1.1


def test_a_lockout_holds_every_request_for_its_length(make_limiter):
    limiter = make_limiter(limit=100, window_s=1, max_wait_s=0.2)
    assert limiter.acquire() == 0

    limiter.lock_out(5)

    with pytest.raises(ProviderUnavailable) as info:
        limiter.acquire()
    assert 4 < info.value.retry_after <= 5


def test_a_short_lockout_is_waited_out(make_limiter):
    limiter = make_limiter(limit=100, window_s=1, max_wait_s=5)
    limiter.lock_out(0.3)

    waited = limiter.acquire()

    assert 0.1 < waited <= 0.3
    assert limiter.acquire() == 0


@pytest.mark.parametrize("limit, window_s", [(0, 1), (1, 0), (1, -1)])
def test_a_limit_needs_a_request_and_a_window(make_limiter, limit, window_s):
    with pytest.raises(ValueError):
        make_limiter(limit=limit, window_s=window_s)
