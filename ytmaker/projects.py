"""Creating and reading projects, with input checked before anything is stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ytmaker.db.models import Project, ProjectStatus, StageRun
from ytmaker.errors import InvalidInput, ProjectNotFound
from ytmaker.providers.prompts import TEMPLATES
from ytmaker.runtime import Runtime
from ytmaker.text import clean, units

FORMATS = ("16:9", "9:16")
#: a 9:16 video is this long unless asked otherwise (short-video feeds favour 60-90 s)
SHORT_VIDEO_S = 60.0
#: shortest length that still holds a segment of narration
MIN_DURATION_S = 10.0
TARGETS = ("folder", "youtube")


@dataclass(frozen=True)
class ProjectOptions:
    title: str | None = None
    language: str | None = None
    video_format: str | None = None
    voice: str | None = None
    publish_target: str = "folder"
    prompt_template: str = "default"
    llm_model: str | None = None
    #: seconds; None: the format's default (9:16: SHORT_VIDEO_S), 0: as long as the text
    max_duration_s: float | None = None


def decode_text(raw: bytes | str, max_bytes: int) -> str:
    """The text of ``raw``, or InvalidInput saying what is wrong with it."""
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise InvalidInput(f"the text is {size:,} bytes; the limit is {max_bytes:,} (YTMAKER_MAX_TEXT_BYTES). "
                           "Split it into several videos or shorten it")
    if isinstance(raw, bytes):
        if b"\0" in raw:
            raise InvalidInput("the input looks binary (it contains NUL bytes); give ytmaker a text file")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the text is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and try again") from None
    else:
        try:  # a str can still carry lone surrogates (bytes smuggled through surrogateescape); the database refuses them
            raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput(f"the text is not valid UTF-8 (character {exc.start}); save it as UTF-8 and try again") from None
    if not raw.strip() or units(clean(raw)) == 0:
        raise InvalidInput("the text is empty; give ytmaker some prose to narrate")
    return raw


def create_project(rt: Runtime, raw: bytes | str, options: ProjectOptions = ProjectOptions()) -> Project:
    """Validate the text and options and store a new project in status ``queued``."""
    content = decode_text(raw, rt.settings.max_text_bytes)
    video_format = options.video_format or rt.settings.video_format
    if video_format not in FORMATS:
        raise InvalidInput(f"format {video_format!r} is not one of {', '.join(FORMATS)}")
    if options.publish_target not in TARGETS:
        raise InvalidInput(f"publish target {options.publish_target!r} is not one of {', '.join(TARGETS)}")
    if options.prompt_template not in TEMPLATES:
        raise InvalidInput(f"prompt template {options.prompt_template!r} is not one of {', '.join(sorted(TEMPLATES))}")
    max_duration_s = options.max_duration_s
    if max_duration_s is None:
        max_duration_s = SHORT_VIDEO_S if video_format == "9:16" else 0
    if max_duration_s and not MIN_DURATION_S <= max_duration_s <= 24 * 3600:
        raise InvalidInput(f"max duration {max_duration_s:g} s is out of range: give at least {MIN_DURATION_S:g} s, "
                           "or 0 for the whole text")
    # Titles are kept as typed (path separators and shell characters are harmless: files are named by slug and id).
    title = "".join(c for c in options.title if c.isprintable())[:100].strip() if options.title else None
    project = Project(
        content=content,
        title=title or None,
        language=(options.language or rt.settings.language).strip() or "en",
        voice=options.voice or "",
        video_format=video_format,
        publish_target=options.publish_target,
        prompt_template=options.prompt_template,
        llm_model=options.llm_model or rt.settings.llm_model,
        max_duration_s=max_duration_s or None,
        status=ProjectStatus.QUEUED,
    )
    with rt.db.session() as session:
        session.add(project)
    return project


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


def list_projects(rt: Runtime, limit: int = 50) -> list[Project]:
    with rt.db.single() as session:
        return list(session.scalars(select(Project).order_by(Project.created_at.desc()).limit(limit)))


def stage_runs(rt: Runtime, project_id: str) -> list[StageRun]:
    with rt.db.single() as session:
        return list(session.scalars(select(StageRun).where(StageRun.project_id == project_id)))
