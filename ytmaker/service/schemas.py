"""The JSON the API takes and gives (also its OpenAPI schema, at /docs).

    ProjectIn      POST /projects (JSON; or multipart: the same fields as form fields, ``file`` for the text or document)
    Created        201 of POST /projects: id, status, links
    ProjectOut     GET /projects/{id}: the record, each stage, live progress, outputs, links
    ProjectPage    GET /projects: items (ProjectSummary) and next_cursor
    Error          every 4xx/5xx: {"detail": "the reason"} (422 of a malformed body: FastAPI's list of errors)

Progress fields are the progress hash's, strings as stored (``ytmaker.progress``):
status, stage, progress, stage_progress, message, updated_at, error, seq, p:<stage>.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", description="The text to narrate (UTF-8; the same limits as the CLI: YTMAKER_MAX_TEXT_BYTES). "
                                               "Markdown and HTML are read as such. Give text or url.")
    url: str | None = Field(default=None, max_length=2048, pattern=r"^[hH][tT][tT][pP][sS]?://",
                            description="A web page (or PDF, Markdown, .docx) to fetch and narrate instead of text; "
                                        "public addresses only unless YTMAKER_FETCH_ALLOW_PRIVATE")
    title: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16, description="e.g. en, zh; default: detected")
    format: str | None = Field(default=None, max_length=8, description="16:9 or 9:16")
    voice: str | None = Field(default=None, max_length=64)
    max_duration: float | None = Field(default=None, description="seconds; 0: the whole text; 9:16 default 60")
    captions: str | None = Field(default=None, max_length=16, description="words, sentences, off or auto")
    publish: str = Field(default="folder", max_length=32, description="publish target: folder or youtube")
    publish_at: str | None = Field(default=None, max_length=64,
                                   description="YouTube: when the private upload goes public (ISO 8601 with a zone, or +1d, +6h)")


class Links(BaseModel):
    self: str
    events: str
    ws: str
    cancel: str
    retry: str
    video: str
    thumbnail: str
    subtitles_srt: str
    subtitles_vtt: str


class Created(BaseModel):
    id: str
    status: str
    links: Links


class StageOut(BaseModel):
    stage: str
    status: str
    attempts: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class Publication(BaseModel):
    target: str
    status: str
    url: str | None


class Outputs(BaseModel):
    video: str | None = Field(description="URL of the video (Range requests supported), once rendered")
    duration_s: float | None
    thumbnail: str | None
    subtitles_srt: str | None
    subtitles_vtt: str | None
    publications: list[Publication]


class ProjectSummary(BaseModel):
    id: str
    title: str | None
    status: str
    error: str | None
    language: str
    format: str
    created_at: datetime
    updated_at: datetime
    progress: dict[str, str] = Field(description="the live progress hash (empty when none is kept)")


class ProjectOut(ProjectSummary):
    failed_stage: str | None
    stages: list[StageOut]
    outputs: Outputs
    links: Links


class ProjectPage(BaseModel):
    items: list[ProjectSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class Error(BaseModel):
    detail: str


class Ok(BaseModel):
    status: str
