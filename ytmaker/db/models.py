"""SQLAlchemy 2.x models. Works on SQLite and PostgreSQL.

Unique constraints are the idempotency guards: a redelivered message that
tries to insert a second asset, video, publication or stage run for the same
key fails the insert instead of duplicating work.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ytmaker.statuses import TERMINAL_PROJECT_STATUSES, ProjectStatus, StageStatus

__all__ = ["TERMINAL_PROJECT_STATUSES", "Asset", "AvatarTalk", "Base", "Project", "ProjectStatus", "Publication", "Script",
           "StageRun", "StageStatus", "Thumbnail", "Video"]


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
