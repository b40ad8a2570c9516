"""Dramatiq middleware of ytmaker: retries driven by the error tree, per-stage time limits, recovery.

None of it imports the pipeline: what it needs comes through its
constructor (``ytmaker.worker`` wires it).
"""

from ytmaker.middleware.recovery import RecoveryLoop
from ytmaker.middleware.retries import StageRetries, backoff_ms
from ytmaker.middleware.time_limit import StageTimeLimit

__all__ = ["RecoveryLoop", "StageRetries", "StageTimeLimit", "backoff_ms"]
