"""Live progress: one writer, a Redis hash per project, each change also published.

Hash ``ytmaker:progress:<project_id>`` fields:
    status          the project's status (queued ... completed, failed, cancelled)
    stage           the stage that wrote last
    progress        0-100 for the whole project
    stage_progress  0-100 for ``stage``
    message         one line for a person
    updated_at      ISO 8601, UTC
    error           set when the project failed
    p:<stage>       per-stage progress, from which ``progress`` is computed

Every update is published as JSON of the whole hash on the pub/sub channel
of the same name, for live consumers. Updates run one Lua script, so
parallel asset stages cannot interleave half-written figures.

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
from collections import deque
from datetime import UTC, datetime

import structlog
from redis.exceptions import NoScriptError

log = structlog.get_logger(__name__)

#: Share of the whole project each stage accounts for (sums to 100).
STAGE_WEIGHTS: dict[str, int] = {
    "script": 10,
    "images": 20,
    "audio": 20,
    "avatars": 10,
    "render": 30,
    "thumbnail": 4,
    "upload": 6,
}

PREFIX = "ytmaker:progress:"
_WEIGHTS = json.dumps(STAGE_WEIGHTS)

# KEYS[1] hash; ARGV[1] channel, ARGV[2] ttl, ARGV[3] stage, ARGV[4] stage progress (or ""),
# ARGV[5] weights JSON, ARGV[6] "1" to allow leaving a terminal status, ARGV[7..] field/value pairs.
# A late write from a parallel stage must not turn a failed or cancelled project back into a live one.
_UPDATE = """
local key, channel, ttl, stage, sp = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local weights = cjson.decode(ARGV[5])
local current = redis.call('HGET', key, 'status')
local final = current == 'failed' or current == 'cancelled' or current == 'completed'
if final and ARGV[6] ~= '1' then return 0 end
for i = 7, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
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


def progress_key(project_id: str) -> str:
    return PREFIX + project_id


class ProgressStore:
    """The single writer of progress hashes. Never touches the database."""

    def __init__(self, redis, *, ttl_s: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._script = redis.register_script(_UPDATE)
        self._pending: deque[tuple[str, list]] = deque()
        self._send_lock = threading.Lock()  # one batch on the wire at a time: ticks keep their order
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()

    def update(
        self,
        project_id: str,
        *,
        stage: str | None = None,
        stage_progress: float | None = None,
        status: str | None = None,
        message: str | None = None,
        error: str | None = None,
        reset: bool = False,
        force: bool = False,
    ) -> None:
        """Stamp ``updated_at``, write the given fields, recompute ``progress`` and publish.

        Once the project is completed, failed or cancelled, only a ``force``d
        update (or one that sets such a status itself) changes the hash.
        """
        fields: dict[str, str] = {"updated_at": datetime.now(UTC).isoformat(timespec="milliseconds")}
        if status is not None:
            fields["status"] = status
        if message is not None:
            fields["message"] = message
        if error is not None:
            fields["error"] = error
        if stage is not None and stage_progress is None:
            fields["stage"] = stage
        key = progress_key(project_id)
        final = force or status in ("completed", "failed", "cancelled")
        args = [key, self.ttl_s, stage or "", "" if stage_progress is None else str(int(round(stage_progress))), _WEIGHTS,
                "1" if final else "0"]
        for name, value in fields.items():
            args += [name, value]
        if reset or final:  # on record before the caller goes on (and after every earlier tick)
            self.flush()
            if reset:
                self.redis.delete(key)
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
                log.warning("progress_not_written", error=type(exc).__name__)

    def clear_error(self, project_id: str) -> None:
        self.flush()
        self.redis.hdel(progress_key(project_id), "error")

    def get(self, project_id: str) -> dict[str, str]:
        self.flush()
        raw = self.redis.hgetall(progress_key(project_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    def subscribe(self, project_id: str):
        """A pub/sub object subscribed to the project's channel (JSON messages of the whole hash)."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(progress_key(project_id))
        return pubsub


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
