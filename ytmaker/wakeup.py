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

import time
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed

#: tokens kept per queue at most (more would only cause empty fetches)
WAKE_TOKENS_MAX = 64
#: seconds a wake list outlives its last push
WAKE_TTL_S = 3600


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
        pipe = self.client.pipeline(transaction=False)
        self._dispatch_on(pipe, "enqueue", queue_name, message_id, data)
        pipe.rpush(key, b"1")
        pipe.ltrim(key, -WAKE_TOKENS_MAX, -1)
        pipe.expire(key, WAKE_TTL_S)
        return pipe.execute()[0]

    def stamp_presence(self) -> None:
        """Refresh this process's heartbeat, so its fetched, unacked messages stay its own while it lives.

        Dramatiq stamps it only as a side effect of broker commands, and a
        worker whose prefetch window is full sends none while its stages run.
        """
        self.client.zadd(f"{self.namespace}:__heartbeats__", {self.broker_id: current_millis()})

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
        if maintenance is None:
            maintenance = bool(self._should_do_maintenance(command))
        script_args = [command, current_millis(), queue_name, self.broker_id, self.heartbeat_timeout,
                       self.dead_message_ttl, int(maintenance), self._max_unpack_size(), *args]
        return self.scripts["dispatch"](args=script_args, keys=[self.namespace], client=client)


class WakeupConsumer(_RedisConsumer):
    """Waits on the queue's wake list (BLPOP) where Dramatiq's consumer would sleep."""

    def __next__(self):
        try:
            while True:
                if self.message_cache:
                    return super().__next__()
                room = self.outstanding_message_count < self.prefetch
                if room:
                    self.message_cache = self.broker.do_fetch(self.queue_name, self.prefetch - self.outstanding_message_count)
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
