"""Per-stage time limits from configuration, read when each message starts.

Dramatiq's TimeLimit reads one limit per actor at declaration (default 10
minutes, which would kill long renders); this reads the stage's configured
limit for every message, so tests and deployments can change it without
re-declaring actors. Subprocesses get their own deadline (see media.ffmpeg).
"""

from __future__ import annotations

from dramatiq.middleware import TimeLimit


class StageTimeLimit(TimeLimit):
    def before_process_message(self, broker, message):
        stage = broker.get_actor(message.actor_name).options.get("stage")
        if stage and "time_limit" not in message.options:
            from ytmaker.runtime import get_runtime

            message.options["time_limit"] = get_runtime().settings.policy(stage).time_limit_ms
        return super().before_process_message(broker, message)
