"""Redis that comes back empty is noticed at once, and what it lost is sent again from the database.

The whole scenario (a private redis-server killed and restarted empty under
running projects) is in tests/chaos/test_infrastructure.py; these are its parts.
"""

from __future__ import annotations

import time

import dramatiq
import pytest

from tests.conftest import redis_runtime
from ytmaker.pipelines import flow, start_generation
from ytmaker.projects import create_project
from ytmaker.recovery import resend_queued

pytestmark = pytest.mark.redis


@pytest.fixture
def rt(tmp_path, redis_client):
    yield from redis_runtime(tmp_path, f"sqlite:///{tmp_path / 'ytmaker.db'}", redis_client)


def test_the_first_worker_to_look_after_redis_lost_its_data_is_told_once(rt, redis_client):
    broker = rt.broker
    assert broker.lost_data() is True  # a worker boots: it puts the marker (and ignores this answer)
    assert broker.lost_data() is False  # every later look: Redis still has it

    redis_client.flushdb()  # Redis restarted without persistence

    assert [broker.lost_data() for _ in range(3)] == [True, False, False]  # one process acts on it


def test_stages_redis_lost_are_sent_again_a_delayed_retry_with_the_rest_of_its_delay(rt, redis_client):
    # given: one project's script queued, another's waiting a minute for its retry; then Redis forgets everything
    first, second = create_project(rt, "Bees dance. They point to food."), create_project(rt, "Ants march. They follow trails.")
    start_generation(first.id, rt)
    start_generation(second.id, rt)
    flow.note_retry(rt, second.id, "script", "HTTP 503", 60_000, 1)
    redis_client.flushdb()

    # when: the re-send runs (what a worker does when it notices)
    sent = resend_queued(rt)

    # then: the first is on its queue now, the second in the delay queue for about the minute that was left
    assert sorted(project for project, _ in sent) == sorted([first.id, second.id])
    now_ms = time.time() * 1000
    queued = [dramatiq.Message.decode(raw) for raw in redis_client.hvals("dramatiq:scripts.msgs")]
    delayed = [dramatiq.Message.decode(raw) for raw in redis_client.hvals("dramatiq:scripts.DQ.msgs")]
    assert [m.args[0] for m in queued] == [first.id]
    assert [m.args[0] for m in delayed] == [second.id]
    assert 50_000 < delayed[0].options["eta"] - now_ms <= 60_000


def test_a_call_in_flight_before_an_outage_does_not_end_it_in_the_log():
    import time as clock

    from structlog.testing import capture_logs

    from ytmaker.outages import OutageLog

    outage = OutageLog("redis_consumers")
    with capture_logs() as logs:
        before = clock.monotonic()  # one consumer's fetch is sent while Redis still answers
        outage.failed(ConnectionError("Connection closed by server."))  # another consumer meets the outage
        outage.succeeded(started=before)  # the first fetch's answer arrives: Redis is still gone
        outage.failed(ConnectionError("Connection refused."))  # so the first consumer fails next
        outage.succeeded(started=clock.monotonic())  # a fetch sent after the outage began: it is over
    assert [entry["event"] for entry in logs] == ["redis_consumers_failing", "redis_consumers_recovered"]
    assert logs[1]["failures"] == 2
