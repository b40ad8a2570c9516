"""Per-stage time limits from configuration, read when each message starts.

Dramatiq's TimeLimit reads one limit per actor at declaration (default 10
minutes, which would kill long renders); this reads the stage's configured
limit for every message, so tests and deployments can change it without
re-declaring actors. Subprocesses get their own deadline (see media.ffmpeg).
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import TimeLimit

from ytmaker.middleware.retries import PolicyOf, StageOf


class StageTimeLimit(TimeLimit):
    def __init__(self, *, stage_of: StageOf, policy: PolicyOf) -> None:
        super().__init__()
        self.stage_of, self.policy = stage_of, policy

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        found = self.stage_of(message.actor_name)
        if found is not None and "time_limit" not in message.options:
            message.options["time_limit"] = self.policy(found[0]).time_limit_ms
        super().before_process_message(broker, message)
