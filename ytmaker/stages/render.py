"""Stage 3: one FFmpeg process composes slides, motion, subtitles, narration and music into an H.264/AAC MP4.

Subtitles are written beside the video (subtitles.srt and .vtt, for caption
upload) and burned in from the same cues.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import structlog
from PIL import Image
from sqlalchemy import delete

from ytmaker.config import Settings
from ytmaker.db.models import Asset, StageStatus, Video
from ytmaker.errors import PermanentError
from ytmaker.media import instant
from ytmaker.media import render as media
from ytmaker.media.avatar import AvatarLayout
from ytmaker.media.captions import make_captions
from ytmaker.media.fonts import font_path
from ytmaker.media.probe import probe
from ytmaker.media.subtitles import CaptionStyle
from ytmaker.pipelines import flow
from ytmaker.runtime import Runtime
from ytmaker.stages.audio import read_word_times
from ytmaker.stages.files import existing_assets, sha256, temp_path
from ytmaker.stages.footage import segment_clip
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script
from ytmaker.text import is_cjk

log = structlog.get_logger(__name__)

#: YouTube publishes square and vertical videos up to 3 minutes as Shorts (since 15 October 2024)
SHORTS_MAX_S = 180
MUSIC_SUFFIXES = {".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac", ".wav"}


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "render", project_id, _render)


def _render(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    with rt.db.single() as session:
        video = session.get(Video, project.id)
    if video is not None and rt.path(video.path).exists():
        return StageStatus.SUCCEEDED
    script = load_script(rt, project.id)
    images = existing_assets(rt, project.id, "image")
    audio = existing_assets(rt, project.id, "audio")
    count = len(script.segments)
    missing = [f"{kind} {i}" for kind, found in (("image", images), ("audio", audio)) for i in range(count) if i not in found]
    if missing:
        flow.reopen_stages(rt, project.id, {"images" if m.startswith("image") else "audio" for m in missing}, "files missing")
        raise PermanentError(f"assets missing at render time: {', '.join(missing[:5])}; run `ytmaker retry` to remake them")
    _verify(rt, [images[i] for i in range(count)] + [audio[i] for i in range(count)])
    narration_s = [(audio[i].duration_ms or 0) / 1000 for i in range(count)]
    durations = media.segment_durations(narration_s)
    final = ctx.workdir() / "video.mp4"
    tmp = temp_path(final)
    texts = [segment["narration"] for segment in script.segments]
    size = media.SIZES[(project.video_format, rt.settings.render_quality)]
    stills = uniform_stills([rt.path(images[i].path) for i in range(count)], size, ctx.workdir() / "stills")
    footage = [segment_clip(rt, rt.path(images[i].path)) for i in range(count)]  # stock or own clips (ytmaker.stages.footage)
    clips = existing_assets(rt, project.id, "avatar")
    if clips and len(clips) < count:
        log.warning("avatars_incomplete", project_id=project.id, have=len(clips), segments=count,
                    hint="the avatar is shown only when every segment has its clip")
    spec = media.RenderSpec(
        segments=[media.RenderSegment(stills[i], rt.path(audio[i].path), durations[i], texts[i], narration_s=narration_s[i],
                                      avatar=rt.path(clips[i].path) if len(clips) == count else None,
                                      clip=footage[i].clip, clip_s=footage[i].duration_s, more_clips=footage[i].more_clips)
                  for i in range(count)],
        avatar_layout=AvatarLayout(rt.settings.avatar_corner, rt.settings.avatar_circle),
        output=tmp,
        video_format=project.video_format,
        quality=rt.settings.render_quality,
        music=pick_music(rt.settings.music, project.id),
    )
    if rt.settings.subtitles:
        words = [read_word_times(rt.path(audio[i].path)) for i in range(count)]
        spec = _with_subtitles(spec, narration_s, ctx.workdir(), words, caption_style(rt.settings, project.captions))
    if project.video_format == "9:16" and spec.duration_s > SHORTS_MAX_S:
        log.warning("shorts_too_long", project_id=project.id, duration_s=spec.duration_s,
                    hint=f"YouTube publishes 9:16 videos up to {SHORTS_MAX_S // 60} minutes as Shorts; this one will be an "
                         "ordinary video (use --max-duration to shorten it)")
    ctx.report(0, f"rendering {spec.duration_s:.1f} s of video")
    try:
        if rt.settings.renderer == "instant":  # benchmarks: everything but the encode (ytmaker.media.instant)
            info = instant.render(spec)
        else:
            media.render(spec, timeout_s=ctx.remaining_s(), should_cancel=ctx.cancelled,
                         on_progress=lambda p: ctx.report(p, f"rendering: {p:.0f}%"))
            info = probe(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    with rt.db.session() as session:
        row = session.get(Video, project.id) or Video(project_id=project.id)
        row.path, row.checksum, row.duration_ms = rt.relative(final), sha256(final), round(info.duration_s * 1000)
        session.merge(row)
    return StageStatus.SUCCEEDED


def _verify(rt: Runtime, assets: list[Asset]) -> None:
    """Refuse to render from a file that changed since it was made (truncated, overwritten)."""
    for asset in assets:
        if sha256(rt.path(asset.path)) != asset.checksum:
            with rt.db.session() as session:
                session.execute(delete(Asset).where(Asset.id == asset.id))
            flow.reopen_stages(rt, asset.project_id, {"images" if asset.kind == "image" else "audio"}, "file changed on disk")
            raise PermanentError(f"{asset.kind} {asset.segment_index} was changed on disk after it was made; "
                                 "run `ytmaker retry` to remake it")


def caption_style(settings: Settings, overrides: dict | None) -> CaptionStyle:
    """The captions' mode and look: the settings' (``YTMAKER_CAPTION*``), with the project's own choices over them."""
    style = CaptionStyle(mode=settings.captions, font_size=settings.caption_font_size, color=settings.caption_color,
                         highlight_color=settings.caption_highlight_color, outline_color=settings.caption_outline_color,
                         outline=settings.caption_outline, position=settings.caption_position)
    try:
        return style.merged(overrides)
    except (ValueError, TypeError) as exc:
        raise PermanentError(f"the project's captions cannot be used: {exc}") from None


def _with_subtitles(spec: media.RenderSpec, narration_s: list[float], directory: Path,
                    words: list | None = None, look: CaptionStyle | None = None) -> media.RenderSpec:
    """Write subtitles.srt/.vtt for ``spec`` into ``directory`` and burn the same cues in (timed on ``words`` if known)."""
    texts = [s.text for s in spec.segments]
    if is_cjk(" ".join(texts)) and font_path(cjk=True) is None:
        log.warning("no_cjk_font", hint="Chinese subtitles need a CJK font: install fonts-noto-cjk or fonts-wqy-zenhei")
    plan = spec.timeline
    ends = plan.starts_s[1:] + [plan.duration_s]
    hold = [max(0.0, min(media.PAUSE_S, end - start - said)) for start, end, said in zip(plan.starts_s, ends, narration_s)]
    captions = make_captions(texts, plan.starts_s, narration_s, spec.size, directory, words, look=look, hold_s=hold)
    return dataclasses.replace(spec, captions=captions)


def uniform_stills(images: list[Path], size: tuple[int, int], directory: Path) -> list[Path]:
    """The stills, as they are when they share one format, size and pixel mode, else redrawn as RGB PNGs at ``size``.

    They reach FFmpeg as one concat stream, which cannot change codec midway; a change of size or mode (a grey
    or paletted PNG among RGB ones: your own media) rebuilds the filters, which the stills pass survives, but
    redrawn they take one path.
    """
    def kind(path: Path) -> tuple:
        with Image.open(path) as image:
            return image.format, image.size, image.mode

    kinds = {kind(path) for path in images}
    if len(kinds) == 1:
        return images
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i, path in enumerate(images):
        target = directory / f"{i:03d}.png"
        with Image.open(path) as image:
            fitted = image.convert("RGB")
            fitted.thumbnail(size)
            canvas = Image.new("RGB", size)
            canvas.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
            canvas.save(target, format="PNG", compress_level=1)
        out.append(target)
    return out


def pick_music(setting: Path | None, project_id: str) -> Path | None:
    """The music file: the setting itself, or one picked from the folder by the project's id (stable on retries)."""
    if setting is None:
        return None
    if setting.is_file():
        return setting
    if not setting.is_dir():
        log.warning("music_missing", path=str(setting))
        return None
    tracks = sorted(p for p in setting.iterdir() if p.suffix.lower() in MUSIC_SUFFIXES)
    if not tracks:
        log.warning("music_folder_empty", path=str(setting))
        return None
    return tracks[int(hashlib.sha256(project_id.encode()).hexdigest(), 16) % len(tracks)]
