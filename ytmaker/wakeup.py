"""Our Redis broker: idle consumers woken by an enqueue, and the recovery hooks Dramatiq keeps private.

Dramatiq's Redis consumer sleeps with a growing back-off (up to the worker
timeout) when its queue is empty, so on a quiet system every hand-off waits
for the next poll. Here each enqueue also pushes a token onto a per-queue
wake list in the same round trip (a pipeline), and an idle consumer waits on
that list with ``BLPOP`` instead of ``time.sleep``, with the same back-off as
its timeout. A message sent to an idle queue is fetched within a round trip.

- Tokens are hints, never the messages: a consumer that pops one simply
  fetches; stale tokens (the message was fetched meanwhile) cost one empty
  fetch. The list is capped at ``WAKE_TOKENS_MAX`` and expires, so it cannot grow.
- A token pushed between a consumer's empty fetch and its ``BLPOP`` stays in
  the list, so no wake-up is lost.
- A consumer whose prefetch is full does not wait on the list (it could not
  fetch), so a token goes to a consumer that can.
- Delayed messages (retries) go to the ``.DQ`` queue and wake its consumer the same way.

Everything here that leans on Dramatiq's private parts (``_RedisConsumer``,
the ``__heartbeats__`` sorted set, the argument layout of ``dispatch.lua``) is
in this module alone, behind :meth:`WakeupRedisBroker.stamp_presence` and
:meth:`WakeupRedisBroker.requeue_dead_workers_messages`;
``tests/test_dramatiq_contract.py`` fails when a Dramatiq upgrade changes it,
and pyproject.toml pins the range it was checked against.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed

from ytmaker.outages import OutageLog

#: tokens kept per queue at most (more would only cause empty fetches)
WAKE_TOKENS_MAX = 64
#: seconds a wake list outlives its last push
WAKE_TTL_S = 3600


def consumers_key(namespace: str, queue: str) -> str:
    """The sorted set of the workers consuming ``queue``, scored by their last presence stamp (ms)."""
    return f"{namespace}:__ytmaker_consumers__:{queue}"


#: consumers that lost Redis: one warning per outage, one line when a consumer fetches again
CONSUMER_OUTAGE = OutageLog("redis_consumers")


class OneLinePerOutage(logging.Filter):
    """For a consumer thread's logger: while Redis is away, Dramatiq logs two lines per consumer every few
    seconds and one per unacked message every five; this keeps one warning per outage (``CONSUMER_OUTAGE``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(("Consumer encountered a connection error", "Failed to post_process_message")):
            CONSUMER_OUTAGE.failed(ConnectionError(record.getMessage().split("\n")[0]))
            return False
        return not (message.startswith("Restarting consumer in") and CONSUMER_OUTAGE.failures)


class WakeupRedisBroker(RedisBroker):
    """Dramatiq's RedisBroker plus wake-up lists (``wakeup=False``: Dramatiq's polling, for comparison)."""

    def __init__(self, *, wakeup: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wakeup = wakeup

    @property
    def consumer_class(self):
        return WakeupConsumer if self.wakeup else _RedisConsumer

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:__wake__:{queue_name}"

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes):
        # RedisBroker.enqueue calls do_enqueue (otherwise dispatched to its Lua script by __getattr__);
        # the token goes in the same pipeline, so a wake-up costs no extra round trip.
        if not self.wakeup:
            return self._dispatch_on(self.client, "enqueue", queue_name, message_id, data)
        key = self.wake_key(queue_name)
        script = self.scripts["dispatch"]
        # By its sha, not through the Script object: a pipeline holding a Script first asks SCRIPT EXISTS, a round
        # trip and a quarter of an enqueue's CPU. A Redis that lost its scripts (restarted) gets it loaded once.
        for attempt in (1, 2):
            pipe = self.client.pipeline(transaction=False)
            pipe.evalsha(script.sha, 1, self.namespace, *self._dispatch_args("enqueue", queue_name, message_id, data))
            pipe.rpush(key, b"1")
            pipe.ltrim(key, -WAKE_TOKENS_MAX, -1)
            pipe.expire(key, WAKE_TTL_S)
            try:
                return pipe.execute()[0]
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self.client.script_load(script.script)  # the wake token already sent is harmless: a spare wake-up

    def load_scripts(self) -> None:
        """Load the enqueue script into Redis now, so the first enqueue is not the one that meets NOSCRIPT."""
        self.client.script_load(self.scripts["dispatch"].script)

    def stamp_presence(self, queues: Iterable[str] = ()) -> None:
        """Refresh this process's heartbeat, so its fetched, unacked messages stay its own while it lives.

        Dramatiq stamps it only as a side effect of broker commands, and a
        worker whose prefetch window is full sends none while its stages run.
        The same round trip stamps this worker as a consumer of ``queues``,
        which Dramatiq does not record (``ytmaker.presence`` reads it).
        """
        now = current_millis()
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(f"{self.namespace}:__heartbeats__", {self.broker_id: now})
        for queue in queues:
            key = consumers_key(self.namespace, queue)
            pipe.zadd(key, {self.broker_id: now})
            pipe.zremrangebyscore(key, 0, now - 10 * self.heartbeat_timeout)  # workers long gone
        pipe.execute()

    def forget_presence(self, queues: Iterable[str]) -> None:
        """This worker no longer consumes ``queues`` (it is shutting down)."""
        pipe = self.client.pipeline(transaction=False)
        for queue in queues:
            pipe.zrem(consumers_key(self.namespace, queue), self.broker_id)
        pipe.execute()

    def marker_key(self) -> str:
        return f"{self.namespace}:__ytmaker_marker__"

    def lost_data(self) -> bool:
        """Whether Redis lost its data (restarted without persistence, flushed) since a worker put the marker there.

        True for the one process that notices first: it puts the marker back
        in the same command (``SET NX``), so the others see nothing. A worker
        calls it once at boot to put the marker, ignoring the answer.
        """
        return bool(self.client.set(self.marker_key(), b"1", nx=True))

    def requeue_dead_workers_messages(self) -> None:
        """Put the unacked messages of workers silent past ``heartbeat_timeout`` back on their queues.

        Dramatiq's own maintenance (``do_maintenance`` in dispatch.lua), which
        it runs on a random 0.1 % of commands (#527), forced: ``qsize`` with the
        maintenance flag, once per declared queue, delay queues included.
        """
        for queue in sorted(self.get_declared_queues() | self.get_declared_delay_queues()):
            self._dispatch_on(self.client, "qsize", queue, maintenance=True)

    def _dispatch_on(self, client, command: str, queue_name: str, *args: Any, maintenance: bool | None = None):
        """Call dispatch.lua on ``client`` (the connection or a pipeline) with Dramatiq's argument layout."""
        script_args = self._dispatch_args(command, queue_name, *args, maintenance=maintenance)
        return self.scripts["dispatch"](args=script_args, keys=[self.namespace], client=client)

    def _dispatch_args(self, command: str, queue_name: str, *args: Any, maintenance: bool | None = None) -> list[Any]:
        if maintenance is None:
            maintenance = bool(self._should_do_maintenance(command))
        return [command, current_millis(), queue_name, self.broker_id, self.heartbeat_timeout,
                self.dead_message_ttl, int(maintenance), self._max_unpack_size(), *args]


class WakeupConsumer(_RedisConsumer):
    """Waits on the queue's wake list (BLPOP) where Dramatiq's consumer would sleep."""

    def __next__(self):
        try:
            while True:
                if self.message_cache:
                    return super().__next__()
                room = self.outstanding_message_count < self.prefetch
                if room:
                    started = time.monotonic()
                    self.message_cache = self.broker.do_fetch(self.queue_name, self.prefetch - self.outstanding_message_count)
                    if CONSUMER_OUTAGE.failures:  # Redis answers again (a fetch sent before the outage began proves nothing)
                        CONSUMER_OUTAGE.succeeded(started=started, queue=self.queue_name)
                    if self.message_cache:
                        continue
                self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                if not room:
                    time.sleep(backoff_ms / 1000)
                    return None
                if self.broker.client.blpop([self.broker.wake_key(self.queue_name)], timeout=backoff_ms / 1000):
                    self.misses = 0
                return None
        except redis.ConnectionError as e:
            raise ConnectionClosed(e) from None
