"""Reading project records: by id (checked), the recent ones, a project's stage runs, all of it for a person to read."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ytmaker.db.models import Project, Publication, Script, StageRun, Thumbnail, Video
from ytmaker.errors import InvalidInput, ProjectNotFound

if TYPE_CHECKING:
    from ytmaker.runtime import Runtime


def check_project_id(project_id: str) -> str:
    """A canonical project id, or InvalidInput for anything that is not a UUID (paths included)."""
    try:
        return str(uuid.UUID(str(project_id)))
    except ValueError:
        raise InvalidInput(f"{str(project_id)[:80]!r} is not a project id (expected a UUID)") from None


def resolve_project_id(rt: Runtime, text: str) -> str:
    """The project ``text`` names: a whole id, or the start of one (``ytmaker list`` and batches show eight characters)
    that names a single project. ProjectNotFound when none starts so; InvalidInput for several, or for no id at all."""
    text = str(text).strip().lower()
    try:
        return check_project_id(text)
    except InvalidInput:
        pass
    if not re.fullmatch(r"[0-9a-f][0-9a-f-]{3,34}", text):
        raise InvalidInput(f"{text[:80]!r} is not a project id (a UUID, or at least its first four characters)")
    with rt.db.single() as session:
        found = list(session.scalars(select(Project.id).where(Project.id.startswith(text)).limit(2)))
    if len(found) > 1:
        raise InvalidInput(f"more than one project id starts with {text!r}: give more of it")
    if not found:
        raise ProjectNotFound(text)
    return found[0]


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


def project_view(rt: Runtime, project: Project) -> dict[str, Any]:
    """What a person or an agent needs of a project: its status and why it failed, its stages, live progress and files
    (``ytmaker status``, the MCP tools).

    ``title`` is the one asked for, else the script's once it is written.
    """
    runs = sorted(stage_runs(rt, project.id), key=lambda run: run.queued_at)
    with rt.db.single() as session:
        script = session.get(Script, project.id)
        video = session.get(Video, project.id)
        thumbnail = session.get(Thumbnail, project.id)
        publications = list(session.query(Publication).filter_by(project_id=project.id))
    outputs: dict[str, Any] = {}
    if video is not None:
        path = rt.path(video.path)
        outputs["video"] = str(path)
        outputs["duration_s"] = video.duration_ms / 1000
        for kind in ("srt", "vtt"):
            subtitles = path.parent / f"subtitles.{kind}"
            if subtitles.is_file():
                outputs[f"subtitles_{kind}"] = str(subtitles)
    if thumbnail is not None:
        outputs["thumbnail"] = str(rt.path(thumbnail.path))
    published = [{"target": p.target, "status": p.status, "url": p.url} for p in publications]
    return {
        "id": project.id, "title": project.title or (script.title if script else None), "status": project.status, "error": project.error,
        "failed_stage": project.failed_stage, "language": project.language, "format": project.video_format,
        "created_at": project.created_at.isoformat(), "progress": rt.progress.get(project.id),
        "stages": [{"stage": r.stage, "status": r.status, "attempts": r.attempts, "error": r.error} for r in runs],
        "outputs": outputs, "published": published,
    }
