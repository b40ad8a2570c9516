"""Progress in Redis: a hash per project, written by one Lua script, each change published.

Ticks are written behind the stage, not in its way: ``update`` queues the
script call and one writer thread per process sends everything queued in a
single pipeline (one round trip for many ticks, none on the stage's path).
A finished, failed or cancelled status, ``flush`` and every read of this
process wait for the queue to be written, so this process always reads its
own writes and a project's end is on record before anyone is told. Progress
is a view: a tick lost with a dying process is repaired by the next one;
the database holds what matters.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

import structlog
from redis.exceptions import NoScriptError

from ytmaker.outages import OutageLog
from ytmaker.progress.base import Change, ProgressStore, progress_key

log = structlog.get_logger(__name__)

#: How long ``subscribe`` waits for Redis to confirm the subscription.
SUBSCRIBE_TIMEOUT_S = 5.0

# KEYS[1] hash; ARGV[1] channel, ARGV[2] ttl, ARGV[3] stage, ARGV[4] stage progress (or ""),
# ARGV[5] weights JSON, ARGV[6] "1" to allow leaving a terminal status, ARGV[7] "1" to drop the hash first
# (its ``seq`` kept, so event ids never go back), ARGV[8..] field/value pairs.
# A late write from a parallel stage must not turn a failed or cancelled project back into a live one.
# The same rules in Python: base.overall() and MemoryProgressStore.update().
_UPDATE = """
local key, channel, ttl, stage, sp = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local weights = cjson.decode(ARGV[5])
if ARGV[7] == '1' then
  local seq = redis.call('HGET', key, 'seq')
  redis.call('DEL', key)
  if seq then redis.call('HSET', key, 'seq', seq) end
end
local current = redis.call('HGET', key, 'status')
local final = current == 'failed' or current == 'cancelled' or current == 'completed'
if final and ARGV[6] ~= '1' then return 0 end
redis.call('HINCRBY', key, 'seq', 1)
for i = 8, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if stage ~= '' and sp ~= '' then
  redis.call('HSET', key, 'stage', stage, 'stage_progress', sp, 'p:' .. stage, sp)
  local total = 0
  for name, weight in pairs(weights) do
    local p = tonumber(redis.call('HGET', key, 'p:' .. name) or '0') or 0
    total = total + weight * p / 100
  end
  if redis.call('HGET', key, 'status') == 'completed' then total = 100 end
  redis.call('HSET', key, 'progress', tostring(math.floor(total + 0.5)))
end
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
local flat = redis.call('HGETALL', key)
local out = {}
for i = 1, #flat, 2 do out[flat[i]] = flat[i + 1] end
redis.call('PUBLISH', channel, cjson.encode(out))
return 1
"""


class RedisProgressStore(ProgressStore):
    """Progress hashes in Redis, readable by every process; ``weights`` share out the project's 100."""

    def __init__(self, redis: Any, *, weights: dict[str, int], ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._weights = json.dumps(weights)
        self._script = redis.register_script(_UPDATE)
        self._pending: deque[tuple[str, list[Any]]] = deque()
        self._send_lock = threading.Lock()  # one batch on the wire at a time: ticks keep their order
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._outage = OutageLog("progress_writer")

    def _apply(self, project_id: str, change: Change) -> None:
        key = progress_key(project_id)
        args: list[Any] = [key, self.ttl_s, change.stage or "", change.figure or "", self._weights,
                           "1" if change.final else "0", "1" if change.reset else "0"]
        for name, value in change.fields.items():
            args += [name, value]
        if change.reset or change.final:  # on record before the caller goes on (and after every earlier tick)
            self.flush()
            self._script(keys=[key], args=args)
            return
        self._pending.append((key, args))
        self._start_writer()
        self._wake.set()

    def flush(self) -> None:
        """Write every queued tick now (in one pipeline)."""
        with self._send_lock:
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            if not batch:
                return
            # EVALSHA straight into the pipeline: redis-py's Script would add a SCRIPT EXISTS round trip per batch.
            for attempt in range(2):
                pipe = self.redis.pipeline(transaction=False)
                for key, args in batch:
                    pipe.evalsha(self._script.sha, 1, key, *args)
                results = pipe.execute(raise_on_error=False)
                if attempt == 0 and any(isinstance(r, NoScriptError) for r in results):
                    self.redis.script_load(_UPDATE)  # a restarted Redis forgot it; nothing of the batch ran
                    continue
                failed = next((r for r in results if isinstance(r, Exception)), None)
                if failed is not None:
                    raise failed
                return

    def _start_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_forever, name="ytmaker-progress", daemon=True)
                self._writer.start()

    def _write_forever(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - progress is a view; the next tick repairs it
                self._outage.failed(exc)  # one warning per outage, not one a second
            else:
                self._outage.succeeded()

    def clear_error(self, project_id: str) -> None:
        self.flush()
        self.redis.hdel(progress_key(project_id), "error")

    def get(self, project_id: str) -> dict[str, str]:
        self.flush()
        raw = self.redis.hgetall(progress_key(project_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    def get_many(self, project_ids: list[str]) -> list[dict[str, str]]:
        self.flush()
        pipe = self.redis.pipeline(transaction=False)  # one round trip for a page of projects
        for project_id in project_ids:
            pipe.hgetall(progress_key(project_id))
        return [{_text(k): _text(v) for k, v in raw.items()} for raw in pipe.execute()]

    def subscribe(self, project_id: str) -> RedisSubscription:
        return RedisSubscription(self.redis, progress_key(project_id))


class RedisSubscription:
    """The project's channel; returns once Redis confirms, so no later update is missed."""

    def __init__(self, redis: Any, channel: str) -> None:
        self._pubsub = redis.pubsub()
        self._pubsub.subscribe(channel)
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
        while True:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message["type"] == "subscribe":
                return
            if time.monotonic() >= deadline:
                self._pubsub.close()
                raise TimeoutError(f"Redis did not confirm the subscription to {channel} "
                                   f"within {SUBSCRIBE_TIMEOUT_S:g} s")

    def get(self, timeout_s: float) -> dict[str, str] | None:
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message["type"] == "message":
                snapshot: dict[str, str] = json.loads(message["data"])
                return snapshot
            if time.monotonic() >= deadline:
                return None

    def close(self) -> None:
        self._pubsub.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
