"""Creating projects, with input checked before anything is stored (and reading them: ``ytmaker.db.projects``).

Checking a new project needs the fonts, the voices and the caption style
(Pillow, espeak-ng); the workers, which only load projects, import
``ytmaker.db.projects`` and never this module.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ytmaker.db.models import Project, ProjectStatus, new_id
from ytmaker.db.projects import check_project_id, get_project, list_projects, load_project, project_view, stage_runs
from ytmaker.errors import InvalidInput
from ytmaker.language import detect_language
from ytmaker.media.fonts import check_drawable
from ytmaker.media.subtitles import CaptionStyle
from ytmaker.pipelines.flow import send_new, store_new
from ytmaker.providers.espeak import check_language
from ytmaker.providers.prompts import TEMPLATES
from ytmaker.runtime import Runtime
from ytmaker.sources.plain import decode_text
from ytmaker.text import clean

FORMATS = ("16:9", "9:16")
#: a 9:16 video is this long unless asked otherwise (short-video feeds favour 60-90 s)
SHORT_VIDEO_S = 60.0
#: shortest length that still holds a segment of narration
MIN_DURATION_S = 10.0
TARGETS = ("folder", "youtube")
#: the language of a text whose language cannot be told (Latin letters matching no known language's common words)
FALLBACK_LANGUAGE = "en"


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
    #: burned-in captions: "words", "sentences", "off" or "auto"; None: the settings' (YTMAKER_CAPTIONS)
    captions: str | None = None
    #: caption style overrides, the fields of ytmaker.media.subtitles.CaptionStyle (font_size, color, ...)
    caption_style: dict | None = None
    #: when YouTube makes the video public: ISO 8601 with a time zone, or an offset from now such as +1d, +6h, +30m
    publish_at: str | None = None
    #: where the text was fetched from (ytmaker.sources.Source.url): the video's description credits it
    source_url: str | None = None


def create_project(rt: Runtime, raw: bytes | str, options: ProjectOptions = ProjectOptions(), *,
                   owner_token_id: int | None = None, start: bool = False,
                   before_store: Callable[[str], object] | None = None) -> Project:
    """Validate the text and options and store a new project in status ``queued`` (``owner_token_id``: the API token's).

    ``start``: and start making it, as ``start_generation`` would: its first stage's claim is stored with it,
    atomically, and no read follows (``ytmaker.pipelines.flow.store_new``). ``before_store(project_id)`` runs
    once the project is valid (a person's media into its folder); if it or the storing fails, nothing is
    stored and the project's folder is removed.
    """
    project = prepare_project(rt, raw, options, owner_token_id=owner_token_id)
    project.id = new_id()
    try:
        if before_store is not None:
            before_store(project.id)
        claimed = store_new(rt, project, claim=start)
    except BaseException:
        if before_store is not None:
            shutil.rmtree(rt.project_dir(project.id), ignore_errors=True)
        raise
    if start:
        send_new(rt, project.id, claimed)
    return project


def prepare_project(rt: Runtime, raw: bytes | str, options: ProjectOptions = ProjectOptions(), *,
                    owner_token_id: int | None = None, now: datetime | None = None) -> Project:
    """The project ``create_project`` stores, validated but not stored (batches check every row before storing any)."""
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
    language = project_language(rt, content, options)
    if rt.settings.renderer == "ffmpeg":  # the instant renderer draws no text
        check_drawable(f"{content}\n{options.title or ''}")
    captions = _caption_choice(options)
    # Titles are kept as typed (path separators and shell characters are harmless: files are named by slug and id).
    title = "".join(c for c in options.title if c.isprintable())[:100].strip() if options.title else None
    project = Project(
        content=content,
        title=title or None,
        language=language,
        voice=options.voice or "",
        video_format=video_format,
        publish_target=options.publish_target,
        prompt_template=options.prompt_template,
        llm_model=options.llm_model or rt.settings.llm_model,
        max_duration_s=max_duration_s or None,
        captions=captions,
        status=ProjectStatus.QUEUED,
        publish_at=publish_time(options.publish_at, rt.settings.youtube_privacy, now=now),
        owner_token_id=owner_token_id,
        source_url=options.source_url[:2048] if options.source_url else None,
    )
    return project


_OFFSET = re.compile(r"^\+(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def publish_time(value: str | None, privacy: str, *, now: datetime | None = None) -> str | None:
    """``publish_at`` as YouTube's publishAt (UTC), an offset such as ``+1d`` counted from ``now``; None stays None."""
    if not value or not value.strip():
        return None
    from ytmaker.providers.youtube import check_publish_at

    now = now or datetime.now(UTC)
    offset = _OFFSET.match(value.strip())
    if offset:
        amount, unit = int(offset.group(1)), offset.group(2)
        value = (now + timedelta(**{_UNITS[unit]: amount})).isoformat()
    return check_publish_at(value, privacy, now=now)


def project_language(rt: Runtime, content: str, options: ProjectOptions) -> str:
    """--language, else YTMAKER_LANGUAGE, else the text's own (majority) language; refused when espeak-ng cannot voice it."""
    language = (options.language or rt.settings.language).strip() or detect_language(clean(content)) or FALLBACK_LANGUAGE
    if not (options.voice or rt.settings.voice):  # a named voice needs no language; else the provider's must exist
        if rt.settings.speech_provider == "espeak":
            check_language(language)
        elif rt.settings.speech_provider == "edge":
            from ytmaker.providers.edge import voice_for

            voice_for(language)
    return language


def _caption_choice(options: ProjectOptions) -> dict | None:
    """The project's caption overrides as stored, or InvalidInput naming what is wrong with them."""
    choice = {**(options.caption_style or {}), **({"mode": options.captions} if options.captions else {})}
    if not choice:
        return None
    try:
        CaptionStyle().merged(choice)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc)) from None
    return choice


__all__ = ["ProjectOptions", "check_project_id", "create_project", "decode_text", "get_project", "list_projects",
           "load_project", "prepare_project", "project_language", "project_view", "publish_time", "stage_runs"]
