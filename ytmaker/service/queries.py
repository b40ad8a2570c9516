"""Reading and removing projects for the API: the caller's own only, pages by cursor, the files recorded for them."""

from __future__ import annotations

import base64
import functools
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Select, String, and_, bindparam, literal_column, null, or_, select, true, union_all

from ytmaker.db.models import Project, Publication, Script, StageRun, Thumbnail, Video
from ytmaker.db.projects import check_project_id
from ytmaker.errors import InvalidInput, ProjectNotFound
from ytmaker.graph import STAGES
from ytmaker.runtime import Runtime
from ytmaker.service.tokens import Caller
from ytmaker.statuses import ProjectStatus

API = "/api/v1"
#: the subtitle files the render stage writes beside the recorded video (ytmaker.media.subtitles.write_subtitles)
SUBTITLES = {"srt": "subtitles.srt", "vtt": "subtitles.vtt"}


def owned_project(rt: Runtime, caller: Caller, project_id: str) -> Project:
    """The project if the caller may see it; ProjectNotFound otherwise (another token's project does not exist for it)."""
    try:
        canonical = check_project_id(project_id)
    except InvalidInput:
        raise ProjectNotFound(str(project_id)[:80]) from None
    with rt.db.single() as session:
        project = session.get(Project, canonical)
    if project is None or not caller.may_see(project.owner_token_id):
        raise ProjectNotFound(canonical)
    return project


def links(project_id: str) -> dict[str, str]:
    """The project's URLs (schemas.Links)."""
    base = f"{API}/projects/{project_id}"
    return {"self": base, "events": f"{base}/events", "ws": f"{base}/ws", "cancel": f"{base}/cancel",
            "retry": f"{base}/retry", "video": f"{base}/video", "thumbnail": f"{base}/thumbnail",
            "subtitles_srt": f"{base}/subtitles.srt", "subtitles_vtt": f"{base}/subtitles.vtt"}


# The polled reads in Core, each statement built once: a project, its script's title, its outputs, its stage runs and
# its publications are one round trip (one row per stage run or publication), with no ORM objects to load; the
# text (``content``) is never read.
_P, _S, _V, _T = Project.__table__, Script.__table__, Video.__table__, Thumbnail.__table__
_RUN, _PUB = StageRun.__table__, Publication.__table__
_ID = bindparam("project_id", type_=String())
_SUMMARY = (_P.c.id, _P.c.title, _P.c.status, _P.c.error, _P.c.language, _P.c.video_format, _P.c.created_at,
            _P.c.updated_at, _P.c.owner_token_id, _S.c.title.label("script_title"))
_CHILDREN = union_all(  # kind 's': a stage run; 'p': a publication (pos: its id, for a stable order)
    select(literal_column("'s'").label("kind"), _RUN.c.stage.label("name"), _RUN.c.status.label("child_status"),
           _RUN.c.attempts, _RUN.c.error.label("child_error"), _RUN.c.started_at, _RUN.c.finished_at,
           null().label("url"), null().label("pos")).where(_RUN.c.project_id == _ID),
    select(literal_column("'p'"), _PUB.c.target, _PUB.c.status, null(), null(), null(), null(), _PUB.c.url, _PUB.c.id)
    .where(_PUB.c.project_id == _ID),
).subquery("children")
_DETAIL = (select(*_SUMMARY, _P.c.failed_stage, _V.c.path.label("video_path"), _V.c.duration_ms,
                  _T.c.path.label("thumbnail_path"), *_CHILDREN.c)
           .select_from(_P.outerjoin(_S, _S.c.project_id == _P.c.id).outerjoin(_V, _V.c.project_id == _P.c.id)
                        .outerjoin(_T, _T.c.project_id == _P.c.id).outerjoin(_CHILDREN, true()))
           .where(_P.c.id == _ID))
_STAGE_ORDER = {name: i for i, name in enumerate(STAGES)}


def summary(row: Any, progress: dict[str, str]) -> dict[str, Any]:
    """schemas.ProjectSummary of a row of _SUMMARY's columns. ``title``: the one asked for, else the script's once it
    is written (what the page and the list show)."""
    return {"id": row.id, "title": row.title or row.script_title, "status": row.status, "error": row.error,
            "language": row.language, "format": row.video_format, "created_at": row.created_at,
            "updated_at": row.updated_at, "progress": progress}


def project_out(rt: Runtime, caller: Caller, project_id: str) -> dict[str, Any]:
    """schemas.ProjectOut of a project the caller may see (ProjectNotFound otherwise), as plain values: the route
    sends it as it is (the model would validate it once more, and it is built from the database's own types)."""
    try:
        canonical = check_project_id(project_id)
    except InvalidInput:
        raise ProjectNotFound(str(project_id)[:80]) from None
    with rt.db.reader() as connection:
        rows = connection.execute(_DETAIL, {"project_id": canonical}).all()
    if not rows or not caller.may_see(rows[0].owner_token_id):
        raise ProjectNotFound(canonical)
    head = rows[0]
    runs = sorted((r for r in rows if r.kind == "s"), key=lambda r: _STAGE_ORDER.get(r.name, len(_STAGE_ORDER)))
    publications = sorted((r for r in rows if r.kind == "p"), key=lambda r: r.pos)
    base = links(canonical)
    root = rt.data_dir  # resolved on each use (rt.path too): once here
    video = root / head.video_path if head.video_path is not None else None
    outputs = {
        "video": base["video"] if video is not None and video.is_file() else None,
        "duration_s": head.duration_ms / 1000 if head.video_path is not None else None,
        "thumbnail": base["thumbnail"] if head.thumbnail_path is not None and (root / head.thumbnail_path).is_file() else None,
        **{f"subtitles_{kind}": base[f"subtitles_{kind}"] if video is not None and _inside(root, video.parent / name) is not None
           else None for kind, name in SUBTITLES.items()},
        # a folder publication's URL is a path on this server: not for clients
        "publications": [{"target": p.name, "status": p.child_status,
                          "url": p.url if p.url and p.url.startswith("https://") else None} for p in publications],
    }
    stages = [{"stage": r.name, "status": r.child_status, "attempts": r.attempts, "error": r.child_error,
               "started_at": r.started_at, "finished_at": r.finished_at} for r in runs]
    return {**summary(head, rt.progress.get(canonical)), "failed_stage": head.failed_stage, "stages": stages,
            "outputs": outputs, "links": base}


def recorded_file(rt: Runtime, project_id: str, name: str) -> Path | None:
    """A file recorded for the project (``video``, ``thumbnail``, ``subtitles.srt|vtt``), inside the data dir, or None.

    Paths come from the database only (subtitles: the fixed names beside the recorded video); nothing a
    request says is joined into them.
    """
    with rt.db.single() as session:
        row = session.get(Thumbnail, project_id) if name == "thumbnail" else session.get(Video, project_id)
    if row is None:
        return None
    path = rt.path(row.path)
    if name.startswith("subtitles."):
        path = path.parent / SUBTITLES[name.removeprefix("subtitles.")]
    return _inside(rt.data_dir, path)


def _inside(data_dir: Path, path: Path) -> Path | None:
    """``path`` resolved, if it is a file inside the data dir (a recorded path is trusted no further than that)."""
    if not path.is_file():  # one stat; resolving walks every component of the path
        return None
    path = path.resolve()  # is_file followed any link already: the resolved path is that file
    return path if path.is_relative_to(data_dir) else None


def encode_cursor(project: Any) -> str:
    """The cursor after ``project`` (anything with its ``created_at`` and ``id``)."""
    return base64.urlsafe_b64encode(f"{project.created_at.isoformat()}|{project.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, project_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), check_project_id(project_id)
    except (ValueError, UnicodeDecodeError, InvalidInput):
        raise InvalidInput("cursor is not one this server gave (use next_cursor as it came)") from None


@functools.cache
def _page_query(*, status: bool, owner: bool, cursor: bool) -> Select[Any]:
    """GET /projects's statement for the filters asked for (built once each; their values are bound)."""
    query = (select(*_SUMMARY).select_from(_P.outerjoin(_S, _S.c.project_id == _P.c.id))
             .order_by(_P.c.created_at.desc(), _P.c.id.desc()).limit(bindparam("limit", type_=Integer())))
    if status:
        query = query.where(_P.c.status == bindparam("status"))
    if owner:
        query = query.where(_P.c.owner_token_id == bindparam("owner"))
    if cursor:
        stamp, last_id = bindparam("stamp", type_=_P.c.created_at.type), bindparam("last_id", type_=String())
        query = query.where(or_(_P.c.created_at < stamp, and_(_P.c.created_at == stamp, _P.c.id < last_id)))
    return query


def page(rt: Runtime, caller: Caller, *, status: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
    """schemas.ProjectPage of the caller's projects, newest first, ``limit`` at a time (as plain values: see project_out)."""
    if status is not None and status not in set(ProjectStatus):
        raise InvalidInput(f"status {status!r} is not one of {', '.join(ProjectStatus)}")
    values: dict[str, Any] = {"limit": limit + 1, "status": status, "owner": caller.token_id}
    if cursor:
        values["stamp"], values["last_id"] = decode_cursor(cursor)
    query = _page_query(status=status is not None, owner=not caller.admin, cursor=bool(cursor))
    with rt.db.reader() as connection:
        rows = connection.execute(query, values).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [summary(row, progress) for row, progress in zip(rows, rt.progress.get_many([row.id for row in rows]), strict=True)]
    return {"items": items, "next_cursor": encode_cursor(rows[-1]) if more else None}


def delete_project(rt: Runtime, project: Project) -> None:
    """Remove a finished project's records and its working folder (a published copy is the publisher's, kept)."""
    if not ProjectStatus(project.status).terminal:
        raise InvalidInput(f"project {project.id} is {project.status}; cancel it first, then delete it")
    with rt.db.session() as session:
        row = session.get(Project, project.id)
        if row is not None:
            session.delete(row)
    directory = rt.project_dir(project.id).resolve()
    if directory.is_relative_to(rt.data_dir) and directory.is_dir():
        shutil.rmtree(directory, ignore_errors=True)
