"""Provider protocols: one or two methods each, a real and an offline implementation per stage.

Implementations translate their own failures into :mod:`ytmaker.errors` at this boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ytmaker.script import ScriptDraft

Report = Callable[[float, str], None]  # (stage progress 0-100, message)


@dataclass(frozen=True)
class ScriptRequest:
    content: str
    title: str | None
    language: str
    prompt_template: str
    model: str
    max_segments: int
    #: keep whole segments up to about this many seconds of narration (None: the whole text)
    max_duration_s: float | None = None


@dataclass(frozen=True)
class ImageRequest:
    index: int
    description: str
    caption: str  # the line shown on an offline slide
    topic: str  # the video's title, for the slide's header
    width: int
    height: int
    aspect_ratio: str

    #: the segment's narration and the video's language: what stock footage is searched by, and for how long
    narration: str = ""
    language: str = "en"

    @property
    def title_card(self) -> bool:
        """The opening picture whose headline is the video's title: drawn as a title card (the title, large)."""
        return self.index == 0 and self.caption.strip() == self.topic.strip()


@dataclass(frozen=True)
class PublishRequest:
    project_id: str
    title: str
    description: str
    tags: list[str]
    language: str
    video: Path
    thumbnail: Path | None
    #: A resumable upload's session saved by an earlier attempt, and how to save a new one
    #: (before its first byte, so a retry or a crashed worker resumes instead of starting over).
    session_uri: str | None = None
    save_session: Callable[[str], None] | None = None
    #: The caption track an earlier attempt uploaded (none: upload, unless one is found there), and how to record it.
    caption_id: str | None = None
    save_caption: Callable[[str], None] | None = None
    #: the project's own publish time (ISO 8601, UTC), over the publisher's default
    publish_at: str | None = None
    #: the video has realistic synthetic media (YouTube's ``containsSyntheticMedia``); None: the publisher's default
    synthetic: bool | None = None


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str


class ScriptWriter(Protocol):
    def write(self, request: ScriptRequest, report: Report) -> ScriptDraft: ...


class ImageProvider(Protocol):
    def generate(self, request: ImageRequest, out: Path) -> str | None:
        """Write an image to ``out``; return a warning to record on the asset, if any."""


@dataclass(frozen=True)
class Footage:
    """What a footage provider gives for a segment beside its poster still: a clip (or a few in turn), and whom to credit."""

    clip: Path | None  # H.264 at the shared time base (ytmaker.media.clips.normalize_args); None: the still only
    duration_s: float | None = None
    credit: str = ""  # lines for the video's description, one per author ("Video by Jane Doe on Pexels: https://...")
    warning: str | None = None
    #: clips played after ``clip`` within the segment, each with its length: stock clips joined when none alone is long enough
    more_clips: tuple[tuple[Path, float], ...] = ()


class FootageProvider(Protocol):
    def footage(self, request: ImageRequest, out: Path) -> Footage:
        """Write the segment's poster still to ``out`` (PNG, the request's size); return its clip and credit."""


#: When each word of a narration starts: (character offset in its text, seconds into the audio).
WordTimes = list[tuple[int, float]]


class SpeechProvider(Protocol):
    def synthesize(self, text: str, *, language: str, voice: str, out: Path) -> WordTimes | None:
        """Write the narration of ``text`` to ``out`` as WAV; return its word timings when the engine gives them."""


class Publisher(Protocol):
    target: str

    def publish(self, request: PublishRequest) -> PublishResult: ...

    def close(self) -> None:
        """Release what the publisher holds (its HTTP connections); the upload stage calls it after each publish."""

