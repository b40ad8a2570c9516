"""Dramatiq middleware of ytmaker: retries driven by the error tree, per-stage time limits."""

from ytmaker.middleware.retries import StageRetries, backoff_ms
from ytmaker.middleware.time_limit import StageTimeLimit

__all__ = ["StageRetries", "StageTimeLimit", "backoff_ms"]
