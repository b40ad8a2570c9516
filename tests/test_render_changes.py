"""The render composites only the frames that change (ytmaker.media.changes): the same video, frame for frame.

Each case renders the graph ``build_args`` gives and the same graph with the selection taken out, with real
FFmpeg, and compares every decoded frame; a ``showinfo`` after the selection reports which frames it kept.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from ytmaker.media import render as media
from ytmaker.media.audio import mix_and_measure
from ytmaker.media.changes import caption_changes
from ytmaker.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from ytmaker.media.subtitles import CaptionStyle
from ytmaker.stages.render import _with_subtitles

SIZE = (320, 180)
TEXTS = ["One two three four five six seven.", "Eight nine ten eleven twelve.", "Thirteen fourteen fifteen."]


def _slide(path: Path, colour: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (640, 360), colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 24):  # fine stripes: a move of two pixels changes the frame
        draw.line((x, 0, x + 90, 360), fill=(255, 255, 255), width=3)
    image.save(path)
    return path


def _tone(path: Path, seconds: float) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate=22050:duration={seconds}", str(path)], check=True)
    return path


def _spec(tmp_path: Path, *, motion: bool) -> media.RenderSpec:
    narration = [1.6, 1.2, 1.0]
    colours = [(180, 40, 40), (40, 140, 40), (40, 40, 180)]
    segments = [media.RenderSegment(_slide(tmp_path / f"{i}.png", c), _tone(tmp_path / f"{i}.wav", n), d, text, narration_s=n)
                for i, (c, n, d, text) in enumerate(zip(colours, narration, media.segment_durations(narration), TEXTS))]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", quality="draft", frame_size=SIZE, motion=motion)
    return _with_subtitles(spec, narration, tmp_path, look=CaptionStyle(mode="words"))


def _decoded(video: Path) -> list[str]:
    """Each frame's MD5, decoded."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


def _render_both(spec: media.RenderSpec, tmp_path: Path, monkeypatch) -> tuple[list[str], list[str], list[bool]]:
    """The frames of the render as built and without its selection, and the selection's verdict on each frame."""
    media.write_list(spec)
    run_ffmpeg(media.convert_args(spec))
    level = mix_and_measure([s.audio for s in spec.segments], spec.timeline.samples, None, media.mix_path(spec),
                           spoken_s=[s.narration_s for s in spec.segments])
    args = media.build_args(spec, level)
    at = args.index("-filter_complex") + 1
    graph = args[at]
    assert graph.count(",select='gt(") == 1 and graph.endswith("[captioned]fps=30[vout]" + graph[graph.index(";\n[0:a]"):])
    selection = re.search(r",select='gt\([^']*'", graph)
    assert selection
    whole = graph.replace(selection[0], "").replace("[captioned]fps=30[vout]", "[captioned]null[vout]")
    # showinfo, which passes frames on untouched, reports each frame the selection kept (one log call a frame: a
    # select's own report of a frame takes two calls, which other threads' messages can come between)
    shown = graph.replace(selection[0], selection[0] + ",showinfo")
    monkeypatch.setenv("FFREPORT", f"file={tmp_path}/report.log:level=32")
    run_ffmpeg([*args[:at], shown, *args[at + 1:]])
    report = (tmp_path / "report.log").read_text(errors="replace")
    monkeypatch.delenv("FFREPORT")
    every = tmp_path / "every.mp4"
    run_ffmpeg([*args[:at], whole, *args[at + 1:-1], str(every)])
    total = sum(spec.timeline.frames)
    shown_frames = {int(pts) for pts in re.findall(r"\[Parsed_showinfo_\d+ @ \S+\] n:\s*\d+ pts:\s*(\d+)", report)}
    kept = [n in shown_frames for n in range(total)]
    return _decoded(spec.output), _decoded(every), kept


@pytest.mark.parametrize("motion", [True, False])
def test_compositing_only_the_frames_that_change_makes_the_same_video(tmp_path, monkeypatch, motion):
    spec = _spec(tmp_path, motion=motion)
    selected, every, kept = _render_both(spec, tmp_path, monkeypatch)
    total = sum(spec.timeline.frames)
    assert len(selected) == len(every) == total
    assert selected == every  # frame for frame
    assert kept[0] and kept[-1]
    changes = caption_changes(spec.captions, spec.size, media.FPS)  # type: ignore[arg-type]
    assert len(changes) > 10 and all(kept[f] for f in changes if f < total)
    # Not every frame differs from the one before: the selection is worth having.
    assert sum(kept) < (0.8 if motion else 0.5) * total


def test_a_talking_head_is_composited_on_every_frame(tmp_path):
    spec = _spec(tmp_path, motion=True)
    spec = dataclasses.replace(spec, segments=[dataclasses.replace(s, avatar=tmp_path / f"{i}.mp4") for i, s in enumerate(spec.segments)])
    graph = media.build_filtergraph(spec, 0, avatar_input=1)
    assert "select='gt(" not in graph and "[captioned]" not in graph and graph.count("[vout]") == 1
