"""SQLAlchemy 2.x models. Works on SQLite and PostgreSQL.

Unique constraints are the idempotency guards: a redelivered message that
tries to insert a second asset, video, publication or stage run for the same
key fails the insert instead of duplicating work.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ytmaker.statuses import TERMINAL_PROJECT_STATUSES, ProjectStatus, StageStatus

__all__ = ["TERMINAL_PROJECT_STATUSES", "ApiToken", "Asset", "AvatarTalk", "Base", "Batch", "BatchRow", "Project",
           "ProjectStatus", "Publication", "QuotaUse", "RowProject", "ScheduleRun", "Script", "StageRun",
           "StageStatus", "Thumbnail", "Video"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    content: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    voice: Mapped[str] = mapped_column(String(64), default="")
    prompt_template: Mapped[str] = mapped_column(String(64), default="default")
    llm_model: Mapped[str] = mapped_column(String(64), default="gemini-2.5-flash")
    video_format: Mapped[str] = mapped_column(String(8), default="16:9")
    publish_target: Mapped[str] = mapped_column(String(32), default="folder")
    #: the longest video asked for (seconds); None: as long as the text
    max_duration_s: Mapped[float | None] = mapped_column(Float)
    #: burned-in captions: {"mode": "words", "font_size": 64, ...} (ytmaker.media.subtitles.CaptionStyle); None: the settings'
    captions: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32), default=ProjectStatus.QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    failed_stage: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: when YouTube makes the upload public (ISO 8601, UTC; the video stays private until then); None: the settings'
    publish_at: Mapped[str | None] = mapped_column(String(32))
    #: the API token that created the project (ytmaker.service); None: the CLI, or a server without tokens
    owner_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"), index=True)
    #: the page or document the text was fetched from (ytmaker.sources); the description credits it
    source_url: Mapped[str | None] = mapped_column(String(2048))


class ApiToken(Base):
    """An HTTP API token (``ytmaker token create``): only its SHA-256 is stored; revoked ones are kept, refused."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Script(Base):
    __tablename__ = "scripts"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(JSON)
    #: [{"narration": str, "image_description": str}, ...]
    segments: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("project_id", "kind", "segment_index", name="uq_asset_segment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | audio | avatar
    segment_index: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to the data dir
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 hex
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    warning: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Video(Base):
    __tablename__ = "videos"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Thumbnail(Base):
    __tablename__ = "thumbnails"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("project_id", "target", name="uq_publication_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | published
    remote_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    #: resumable-upload session, saved before the first byte so a retry resumes it
    session_uri: Mapped[str | None] = mapped_column(String(2000))
    #: the caption track uploaded for the video, so a retry after a crash never adds a second one
    caption_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class AvatarTalk(Base):
    """A talk started at the avatar provider (D-ID) for one segment: paid for, so never started twice.

    Kept in the database, not Redis, so a re-drive after Redis was lost polls
    the same talks instead of paying for new ones. ``status`` is the
    provider's last answer (created, started, done, error, rejected).
    """

    __tablename__ = "avatar_talks"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    segment_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    talk_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StageRun(Base):
    """One row per (project, stage): the stage's record and the fan-in's ground truth.

    Inserting the row is the claim to enqueue the stage, so a stage is
    enqueued once however many predecessors finish at the same time.
    """

    __tablename__ = "stage_runs"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=StageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


class Batch(Base):
    """One run of ``ytmaker batch FILE``: its rows are ``BatchRow``s, each pointing at the project it made or found."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(Text)  # the batch file or folder, resolved; or api:<token>:<name>
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    #: the API token that sent it (ytmaker.service); None: the CLI, or a server without tokens
    owner_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"), index=True)


class BatchRow(Base):
    __tablename__ = "batch_rows"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: made (a new project), done (finished before), resumed (retried from its failed stage), running
    action: Mapped[str] = mapped_column(String(16))


class RowProject(Base):
    """A batch row's identity (its file's path and its content) and the one project ever made for it.

    The primary key makes a row's project unique however often, and however
    concurrently, the same file is run.
    """

    __tablename__ = "row_projects"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))


class ScheduleRun(Base):
    """A schedule's run for one due time: the primary key makes it once, however many schedulers tick.

    ``file`` is claimed before its project is made and moved to ``done/``
    after, so a crash in between is finished by the next tick (``ytmaker.schedules``).
    """

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule", "file_key", name="uq_schedule_file"),)

    schedule: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    #: the text file taken from the schedule's folder; None: the folder was empty
    file: Mapped[str | None] = mapped_column(Text)
    #: the file's name and a hash of its content: a file is used once
    file_key: Mapped[str | None] = mapped_column(String(80))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    #: claimed, created (the project exists), moved (the file is in done/), empty
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuotaUse(Base):
    """What today's YouTube uploads reserved of a daily quota bucket (``insert`` calls, shared ``units``): ytmaker.quota."""

    __tablename__ = "quota_use"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # the Pacific-time date, YYYY-MM-DD
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
