"""Shared test helpers: short texts, flaky providers, counting rows."""

from __future__ import annotations

from sqlalchemy import func, select

from ytmaker.db.models import Asset, Publication, StageRun, Video
from ytmaker.errors import PermanentError, ProviderUnavailable

SHORT_TEXT = (
    "Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb. "
    "The angle of the dance points to the food, and its length tells the distance."
)


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
