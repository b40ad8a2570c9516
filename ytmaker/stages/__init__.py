"""The stages as plain functions of (runtime, project id): testable without a broker.

One module per stage of the table (``ytmaker.graph``), each with
``run(rt, project_id)``; it holds its own fan-out or polling. Each one is
idempotent: a repeated call finds its records and files and does only what
is missing. Shared machinery: ``runner`` (lease, progress, hand-over),
``files`` (temporary names, asset records), ``heartbeats``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ytmaker.db.models import StageStatus
from ytmaker.graph import STAGES
from ytmaker.runtime import Runtime

#: a stage module's ``run``: the stage's final status, or None when the project is no longer live
StageFunction = Callable[[Runtime, str], StageStatus | None]


def stage_function(name: str) -> StageFunction:
    """``ytmaker.stages.<name>.run``, imported on first use (a worker loads only the stages it runs)."""
    if name not in STAGES:
        raise KeyError(f"no stage {name!r}; the stages are {', '.join(STAGES)}")
    run: StageFunction = importlib.import_module(f"{__name__}.{name}").run
    return run


__all__ = ["StageFunction", "stage_function"]
