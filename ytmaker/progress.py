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
of the same name, for live consumers. Updates run one Lua script, so a tick
is one round trip and parallel asset stages cannot interleave half-written
figures.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
        if reset:
            self.redis.delete(key)
        args = [key, self.ttl_s, stage or "", "" if stage_progress is None else str(int(round(stage_progress))), json.dumps(STAGE_WEIGHTS),
                "1" if force or status in ("completed", "failed", "cancelled") else "0"]
        for name, value in fields.items():
            args += [name, value]
        self._script(keys=[key], args=args)

    def clear_error(self, project_id: str) -> None:
        self.redis.hdel(progress_key(project_id), "error")

    def get(self, project_id: str) -> dict[str, str]:
        raw = self.redis.hgetall(progress_key(project_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    def subscribe(self, project_id: str):
        """A pub/sub object subscribed to the project's channel (JSON messages of the whole hash)."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(progress_key(project_id))
        return pubsub


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
