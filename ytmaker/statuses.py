"""The statuses of projects and stage runs, apart from the ORM: the stage table and processes that
never touch the database (a metrics exposition fork) import them without loading SQLAlchemy."""

from __future__ import annotations

import enum


class ProjectStatus(enum.StrEnum):
    QUEUED = "queued"
    SCRIPT_GENERATING = "script_generating"
    ASSETS_GENERATING = "assets_generating"
    RENDERING = "rendering"
    THUMBNAIL_GENERATING = "thumbnail_generating"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_PROJECT_STATUSES


TERMINAL_PROJECT_STATUSES = frozenset({ProjectStatus.COMPLETED, ProjectStatus.FAILED, ProjectStatus.CANCELLED})


class StageStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def done(self) -> bool:
        return self in (StageStatus.SUCCEEDED, StageStatus.SKIPPED)
