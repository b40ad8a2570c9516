"""Coordination keys, on real Redis and in memory: values, only-if-absent, expiry, racing threads."""

from __future__ import annotations

import threading
import time

import pytest

from ytmaker.keys import MemoryKeys, RedisKeys


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "memory"])
def keys(request):
    if request.param == "memory":
        yield MemoryKeys()
        return
    redis_client = request.getfixturevalue("redis_client")
    redis_client.flushdb()
    yield RedisKeys(redis_client)
    redis_client.flushdb()


def wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_value_is_written_read_back_as_text_and_deleted(keys):
    assert keys.get("ytmaker:cancel:p1") is None and not keys.exists("ytmaker:cancel:p1")

    assert keys.set("ytmaker:cancel:p1", "1") is True

    assert keys.get("ytmaker:cancel:p1") == "1" and keys.exists("ytmaker:cancel:p1")
    keys.delete("ytmaker:cancel:p1")
    keys.delete("ytmaker:cancel:p1")  # deleting what is gone is not an error
    assert keys.get("ytmaker:cancel:p1") is None and not keys.exists("ytmaker:cancel:p1")


def test_only_if_absent_keeps_the_first_value_and_a_plain_set_overwrites(keys):
    assert keys.set("chain", "first", only_if_absent=True) is True
    assert keys.set("chain", "second", only_if_absent=True) is False
    assert keys.get("chain") == "first"

    assert keys.set("chain", "third") is True
    assert keys.get("chain") == "third"


def test_a_key_expires_and_its_lock_can_then_be_taken_again(keys):
    keys.set("long", "kept", ttl_s=60)
    keys.set("forever", "kept")
    assert keys.set("lock", "a", ttl_s=0.3, only_if_absent=True) is True
    assert keys.get("lock") == "a"
    assert keys.set("lock", "b", ttl_s=0.3, only_if_absent=True) is False

    wait_until(lambda: not keys.exists("lock"))

    assert keys.get("lock") is None
    assert keys.set("lock", "b", ttl_s=60, only_if_absent=True) is True
    assert keys.get("lock") == "b"
    assert keys.get("long") == "kept" and keys.get("forever") == "kept"


def test_a_plain_set_drops_an_earlier_expiry(keys):
    keys.set("cancel", "1", ttl_s=0.2)
    keys.set("cancel", "2")
    keys.set("probe", "1", ttl_s=0.2)

    wait_until(lambda: not keys.exists("probe"))

    assert keys.get("cancel") == "2"


def test_a_rewritten_expiry_counts_from_the_rewrite(keys):
    keys.set("chain", "old", ttl_s=0.2)
    keys.set("chain", "new", ttl_s=60)
    keys.set("probe", "1", ttl_s=0.2)

    wait_until(lambda: not keys.exists("probe"))

    assert keys.get("chain") == "new"


def test_exactly_one_of_many_racing_threads_takes_the_lock(keys):
    start = threading.Barrier(8)
    won: list[str] = []

    def take(name: str) -> None:
        start.wait()
        if keys.set("recovery", name, ttl_s=60, only_if_absent=True):
            won.append(name)

    threads = [threading.Thread(target=take, args=(f"worker-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1
    assert keys.get("recovery") == won[0]


@pytest.mark.parametrize("ttl_s", [0, -1.5])
def test_an_expiry_must_be_positive(keys, ttl_s):
    with pytest.raises(ValueError):
        keys.set("k", "v", ttl_s=ttl_s)
    assert not keys.exists("k")
