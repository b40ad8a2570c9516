"""Reading project records: by id (checked), the recent ones, a project's stage runs."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ytmaker.db.models import Project, Script, StageRun
from ytmaker.errors import InvalidInput, ProjectNotFound

if TYPE_CHECKING:
    from ytmaker.runtime import Runtime


def check_project_id(project_id: str) -> str:
    """A canonical project id, or InvalidInput for anything that is not a UUID (paths included)."""
    try:
        return str(uuid.UUID(str(project_id)))
    except ValueError:
        raise InvalidInput(f"{str(project_id)[:80]!r} is not a project id (expected a UUID)") from None


def load_project(rt: Runtime, project_id: str) -> Project:
    """The project's record, or ProjectNotFound / InvalidInput for an id that names none."""
    project_id = check_project_id(project_id)
    with rt.db.single() as session:
        project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(project_id)
    return project


get_project = load_project


def list_projects(rt: Runtime, limit: int = 50, status: str | None = None) -> list[tuple[Project, str | None]]:
    """The newest ``limit`` projects (only those in ``status`` if given), each with the title to show: the one asked
    for, else the script's once it is written (from the text, or the LLM's)."""
    query = (select(Project, func.coalesce(Project.title, Script.title))
             .outerjoin(Script, Script.project_id == Project.id).order_by(Project.created_at.desc()).limit(limit))
    if status:
        query = query.where(Project.status == status)
    with rt.db.single() as session:
        return [(project, title) for project, title in session.execute(query)]


def stage_runs(rt: Runtime, project_id: str) -> list[StageRun]:
    with rt.db.single() as session:
        return list(session.scalars(select(StageRun).where(StageRun.project_id == project_id)))
