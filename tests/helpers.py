"""Shared test helpers: short texts, flaky providers, counting rows, waiting on a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from ytmaker.db.models import Asset, Publication, StageRun, Video
from ytmaker.errors import PermanentError, ProviderUnavailable

SHORT_TEXT = (
    "Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb. "
    "The angle of the dance points to the food, and its length tells the distance."
)

#: two segments with the offline script writer, so a stage can be caught between its first and its last asset
TWO_SEGMENT_TEXT = (
    SHORT_TEXT + " Scouts compare dances before the swarm moves. The best site wins the vote. Then the swarm flies."
)

T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout_s: float, interval_s: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy or ``timeout_s`` passed; return its last value.

    What tests wait on instead of sleeping: the deadline is generous, the wait is as short as the condition allows.
    """
    deadline = time.monotonic() + timeout_s
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(interval_s)
    return value


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.05) -> T:
    """:func:`eventually`, failing with a TimeoutError that names ``what`` if the condition never held."""
    value = eventually(condition, timeout_s, interval_s)
    if not value:
        raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
    return value


class Flaky:
    """Wraps a real provider; its first ``failures`` calls raise ``error`` instead."""

    def __init__(self, inner, failures: int, error: Exception | None = None) -> None:
        self.inner, self.failures, self.calls = inner, failures, 0
        self.error = error or ProviderUnavailable("HTTP 503 from the provider")

    def __getattr__(self, name):
        target = getattr(self.inner, name)

        def call(*args, **kwargs):
            self.calls += 1
            if self.calls <= self.failures:
                raise self.error
            return target(*args, **kwargs)

        return call


class Rejecting:
    """A provider whose every call is refused permanently (e.g. a rejected key)."""

    def __init__(self, message: str = "API key rejected (HTTP 401)") -> None:
        self.message, self.calls = message, 0

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls += 1
            raise PermanentError(self.message)

        return call


def counts(rt, project_id: str) -> dict[str, int]:
    with rt.db.session() as session:
        def count(model, *where):
            return session.scalar(select(func.count()).select_from(model).where(*where))

        return {
            "images": count(Asset, Asset.project_id == project_id, Asset.kind == "image"),
            "audio": count(Asset, Asset.project_id == project_id, Asset.kind == "audio"),
            "videos": count(Video, Video.project_id == project_id),
            "publications": count(Publication, Publication.project_id == project_id),
            "stage_runs": count(StageRun, StageRun.project_id == project_id),
        }


def attempts(rt, project_id: str) -> dict[str, int]:
    with rt.db.session() as session:
        return {r.stage: r.attempts for r in session.scalars(select(StageRun).where(StageRun.project_id == project_id))}
