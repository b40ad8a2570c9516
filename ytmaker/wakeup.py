"""A Redis broker whose idle consumers are woken by an enqueue instead of polling.

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
"""

from __future__ import annotations

import time

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed

#: tokens kept per queue at most (more would only cause empty fetches)
WAKE_TOKENS_MAX = 64
#: seconds a wake list outlives its last push
WAKE_TTL_S = 3600


class WakeupRedisBroker(RedisBroker):
    """Dramatiq's RedisBroker plus a wake-up list per queue (see the module docstring)."""

    @property
    def consumer_class(self):
        return WakeupConsumer

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:__wake__:{queue_name}"

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes):
        # RedisBroker.enqueue calls do_enqueue (dispatched to its Lua script by __getattr__);
        # the token goes in the same pipeline, so a wake-up costs no extra round trip.
        key = self.wake_key(queue_name)
        pipe = self.client.pipeline(transaction=False)
        self._dispatch_with(pipe)("enqueue", queue_name, message_id, data)
        pipe.rpush(key, b"1")
        pipe.ltrim(key, -WAKE_TOKENS_MAX, -1)
        pipe.expire(key, WAKE_TTL_S)
        return pipe.execute()[0]

    def _dispatch_with(self, client):
        dispatch = self.scripts["dispatch"]

        def do_dispatch(command, queue_name, *args):
            from dramatiq.common import current_millis

            script_args = [command, current_millis(), queue_name, self.broker_id, self.heartbeat_timeout,
                           self.dead_message_ttl, self._should_do_maintenance(command), self._max_unpack_size(), *args]
            return dispatch(args=script_args, keys=[self.namespace], client=client)

        return do_dispatch


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
