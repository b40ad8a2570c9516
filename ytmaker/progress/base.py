"""What every progress store does: the protocols, the hash's key and the rules both stores share."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

PREFIX = "ytmaker:progress:"

#: Statuses only a ``force``d update (or one that sets such a status itself) leaves.
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def progress_key(project_id: str) -> str:
    """The project's hash, and the channel its snapshots are published on."""
    return PREFIX + project_id


class Subscription(Protocol):
    """Snapshots of one project's hash, each published after a change."""

    def get(self, timeout_s: float) -> dict[str, str] | None:
        """The next snapshot (the whole hash), or None if none came within ``timeout_s``."""

    def close(self) -> None:
        """Stop receiving; later snapshots are not kept."""


@dataclass(frozen=True)
class Change:
    """One update, as both stores apply it."""

    fields: dict[str, str]  # plain fields, ``updated_at`` included
    stage: str | None  # with ``figure``: the stage whose progress changes
    figure: str | None  # the stage's progress, a whole number
    final: bool  # may change a completed, failed or cancelled project
    reset: bool  # drop the hash first


class ProgressStore(ABC):
    """The single writer of progress hashes. Never touches the database.

    ``update`` is the same for every store (it stamps the time and decides
    what changes); a store applies the change (``_apply``) and reads it back.
    """

    def update(self, project_id: str, *, stage: str | None = None, stage_progress: float | None = None,
               status: str | None = None, message: str | None = None, error: str | None = None,
               reset: bool = False, force: bool = False) -> None:
        """Stamp ``updated_at``, write the given fields, recompute ``progress`` and publish.

        Once the project is completed, failed or cancelled, only a ``force``d
        update (or one that sets such a status itself) changes the hash.
        ``reset`` drops the hash first.
        """
        fields = changed_fields(stage=stage, stage_progress=stage_progress, status=status, message=message, error=error)
        figure = None if stage_progress is None or not stage else percent(stage_progress)
        self._apply(project_id, Change(fields, stage, figure, leaves_terminal(status=status, force=force), reset))

    @abstractmethod
    def _apply(self, project_id: str, change: Change) -> None:
        """Write ``change`` and publish the hash (unless the terminal rule refuses it)."""

    @abstractmethod
    def flush(self) -> None:
        """Put every update made so far on record."""

    @abstractmethod
    def clear_error(self, project_id: str) -> None:
        """Remove the ``error`` field (not published: the update that follows is)."""

    @abstractmethod
    def get(self, project_id: str) -> dict[str, str]:
        """The whole hash, after this process's own updates; empty if there is none."""

    def get_many(self, project_ids: list[str]) -> list[dict[str, str]]:
        """``get`` of each project, in order (a store that can reads them in one round trip)."""
        return [self.get(project_id) for project_id in project_ids]

    @abstractmethod
    def subscribe(self, project_id: str) -> Subscription:
        """Snapshots published from now on."""


def changed_fields(*, stage: str | None, stage_progress: float | None, status: str | None, message: str | None,
                   error: str | None) -> dict[str, str]:
    """The plain fields an update writes; ``stage`` here only when it comes without a figure."""
    fields = {"updated_at": datetime.now(UTC).isoformat(timespec="milliseconds")}
    if status is not None:
        fields["status"] = str(status)
    if message is not None:
        fields["message"] = message
    if error is not None:
        fields["error"] = error
    if stage is not None and stage_progress is None:
        fields["stage"] = stage
    return fields


def leaves_terminal(*, status: str | None, force: bool) -> bool:
    """Whether an update may change a completed, failed or cancelled project."""
    return force or status in TERMINAL_STATUSES


def settled(fields: Mapping[str, str], status: str, error: str | None) -> dict[str, str]:
    """A progress hash with the database's word on whether the project is over: the hash may be lost, expired or
    behind, or another process's (the embedded store lives in the process that ran the project)."""
    out = dict(fields)
    if status in TERMINAL_STATUSES and out.get("status") != status:
        out.update(status=status, **({"error": error} if error else {}))
        if status == "completed":
            out["progress"] = "100"
    out.setdefault("status", status)
    return out


def percent(stage_progress: float) -> str:
    """A stage's figure as stored: a whole number."""
    return str(round(stage_progress))


def overall(weights: Mapping[str, int], fields: Mapping[str, str]) -> str:
    """The project's percentage: each stage's ``p:<stage>`` by its weight; 100 once completed."""
    if fields.get("status") == "completed":
        return "100"
    total = 0.0
    for name, weight in weights.items():
        try:
            p = float(fields.get("p:" + name, "0"))
        except ValueError:
            p = 0.0
        total += weight * p / 100
    return str(math.floor(total + 0.5))
