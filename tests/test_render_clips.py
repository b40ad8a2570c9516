"""Video clips as segment pictures: the clips list and graph exactly, then real renders checked frame by frame."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from ytmaker.errors import MediaError
from ytmaker.media import clips
from ytmaker.media import render as media
from ytmaker.media.ffmpeg import ffmpeg_exe, query_ffmpeg, run_ffmpeg, spill_graphs
from ytmaker.media.probe import probe

SMALL = (320, 180)


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def make_clip(path: Path, colors: list[str], piece_s: float, size: str, fps: int, *, tone: bool = True) -> Path:
    """An H.264 clip of solid ``colors`` in turn, ``piece_s`` each, with a loud 1 kHz tone (which must never be heard)."""
    inputs, labels = [], ""
    for n, color in enumerate(colors):
        inputs += ["-f", "lavfi", "-i", f"color=c={color}:s={size}:r={fps}:d={piece_s}"]
        labels += f"[{n}:v]"
    graph = f"{labels}concat=n={len(colors)}:v=1:a=0,format=yuv420p[v]"
    audio = ["-f", "lavfi", "-i", f"sine=frequency=1000:duration={piece_s * len(colors)}"] if tone else []
    maps = ["-map", "[v]"] + (["-map", f"{len(colors)}:a", "-c:a", "aac"] if tone else [])
    # the time base clips are taken in at (ytmaker.media.clips.normalize_args), keeping the tone to prove it is never heard
    _ffmpeg(*inputs, *audio, "-filter_complex", graph, *maps, "-c:v", "libx264", "-preset", "ultrafast",
            "-video_track_timescale", str(clips.TIMESCALE), str(path))
    return path


def still(path: Path, color: tuple[int, int, int]) -> Path:
    Image.new("RGB", (640, 360), color).save(path)
    return path


def quiet(path: Path, seconds: float) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"anullsrc=r=22050:cl=mono:d={seconds}", str(path))
    return path


def frame(video: Path, at_s: float) -> tuple[int, int, int]:
    out = video.with_name(f"frame-{at_s}.png")
    _ffmpeg("-ss", f"{at_s}", "-i", str(video), "-frames:v", "1", str(out))
    with Image.open(out) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def nth_frame(video: Path, n: int) -> tuple[int, int, int]:
    """The middle pixel of frame ``n`` exactly (seeking by time may land a frame off at a cut)."""
    out = video.with_name(f"frame-n{n}.png")
    _ffmpeg("-i", str(video), "-vf", f"select=eq(n\\,{n})", "-frames:v", "1", str(out))
    with Image.open(out) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def near(pixel, color, tolerance=60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color))


def test_the_clips_list_loops_a_short_clip_cuts_a_long_one_and_holds_a_frame_for_stills(tmp_path):
    listing = clips.clips_list([[], [(Path("clip0000.mp4"), 0.5)], [(Path("clip0001.mp4"), 9.0)]], [30, 36, 45], 30)

    assert listing == (
        "ffconcat version 1.0\n"
        "file 'clip0000.mp4'\noutpoint 0.033333\nduration 1.000000\n"  # a still segment: any frame, its length
        "file 'clip0000.mp4'\noutpoint 0.500000\nduration 0.500000\n"  # 1.2 s from a 0.5 s clip: looped ...
        "file 'clip0000.mp4'\noutpoint 0.500000\nduration 0.500000\n"
        "file 'clip0000.mp4'\noutpoint 0.200000\nduration 0.200000\n"  # ... and cut
        "file 'clip0001.mp4'\noutpoint 1.500000\nduration 1.500000\n"  # a long clip: cut at the segment's end
        "file 'clip0000.mp4'\noutpoint 0.033333\nduration 1.000000\n")
    assert clips.clip_windows([0, 30, 66], [30, 36, 45], [False, True, True]) == "between(n,30,65)+between(n,66,110)"


def test_the_clips_list_plays_joined_clips_in_turn_and_loops_them_only_when_short_together():
    first, second = Path("clip0000.mp4"), Path("clip0001.mp4")
    listing = clips.clips_list([[(first, 1.0), (second, 2.0)], [], [(first, 0.4), (second, 0.5)]], [60, 15, 45], 30)

    assert listing.splitlines()[1:] == [
        "file 'clip0000.mp4'", "outpoint 1.000000", "duration 1.000000",  # 2 s: the first whole ...
        "file 'clip0001.mp4'", "outpoint 1.000000", "duration 1.000000",  # ... then the second, cut at the end
        "file 'clip0000.mp4'", "outpoint 0.033333", "duration 0.500000",  # a still
        "file 'clip0000.mp4'", "outpoint 0.400000", "duration 0.400000",  # 1.5 s from 0.9 s of clips: both ...
        "file 'clip0001.mp4'", "outpoint 0.500000", "duration 0.500000",
        "file 'clip0000.mp4'", "outpoint 0.400000", "duration 0.400000",  # ... then both again, in the same order,
        "file 'clip0001.mp4'", "outpoint 0.200000", "duration 0.200000",  # cut
        "file 'clip0000.mp4'", "outpoint 0.033333", "duration 1.000000"]


def test_the_graph_overlays_the_clips_before_the_crossfade_and_maps_no_clip_sound(tmp_path):
    segments = [media.RenderSegment(tmp_path / "0.png", tmp_path / "0.wav", 1.0),
                media.RenderSegment(tmp_path / "1.png", tmp_path / "1.wav", 1.2, clip=tmp_path / "c.mp4", clip_s=3.0)]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", quality="draft")
    graph = media.build_filtergraph(spec)
    listing = str(media.list_path(spec, "clips"))
    # scaled as the stills are for the pan, the middle cut out: where the poster's held pan shows it
    assert (f"movie=filename={listing}:format_name=concat,setpts=PTS-0.5/(30*TB),"  # half a frame early: no ties
            "scale=1056:594:force_original_aspect_ratio=increase:flags=bicubic,crop=960:540,setsar=1,format=yuv420p[clips]") in graph
    pan = graph.split("[stills]")[0]
    assert "if(lt(n,30),(0.1+0.8*clip((n-0)/29,0,1)),0.5)" in pan  # the clip segment's poster holds still, centred
    assert "[stills][clips]overlay=format=yuv420:eof_action=pass:enable='between(n,30,65)'[clipped]" in graph
    assert graph.index("[clipped]") < graph.index("[outgoing]")  # the clip fades out like a still
    args = media.build_args(spec)
    assert args.count("-i") == 1 and args[args.index("-map") + 1: args.index("-map") + 4] == ["[vout]", "-map", "[aout]"]


def test_when_every_segment_has_a_clip_the_clips_are_the_picture_with_no_stills_under_them(tmp_path):
    # nothing of the stills would show: no stills stream and no overlay (which copied every frame, then the clip over it)
    segments = [media.RenderSegment(tmp_path / f"{i}.png", tmp_path / f"{i}.wav", 1.0, clip=tmp_path / f"{i}.mp4", clip_s=2.0)
                for i in range(2)]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", quality="draft")
    graph = media.build_filtergraph(spec)
    assert (f"movie=filename={media.list_path(spec, 'clips')}:format_name=concat,"
            "scale=1056:594:force_original_aspect_ratio=increase:flags=bicubic,crop=960:540,setsar=1,format=yuv420p,fps=30"
            "[clipped]") in graph
    assert "[stills]" not in graph and "[clips]" not in graph and f"{media.list_path(spec)}:" not in graph
    assert graph.index("[clipped]") < graph.index("[outgoing]")  # the posters still crossfade in over the clips


def test_a_render_plays_clips_looped_and_cut_scaled_to_the_frame_and_muted(tmp_path):
    loop = make_clip(tmp_path / "loop.mp4", ["red", "blue"], 0.3, "640x360", 25)  # 0.6 s, shorter than its segment
    tall = make_clip(tmp_path / "tall.mp4", ["lime", "yellow"], 2.0, "180x320", 60)  # portrait, longer than its segment
    segments = [
        media.RenderSegment(still(tmp_path / "0.png", (128, 0, 128)), quiet(tmp_path / "0.wav", 1.0), 1.4),
        media.RenderSegment(still(tmp_path / "1.png", (255, 0, 0)), quiet(tmp_path / "1.wav", 1.5), 1.9,
                            clip=loop, clip_s=0.6),
        media.RenderSegment(still(tmp_path / "2.png", (0, 255, 0)), quiet(tmp_path / "2.wav", 1.0), 1.8,
                            clip=tall, clip_s=4.0),
    ]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", frame_size=SMALL, quality="tiny")
    media.render(spec)

    info = probe(spec.output)
    assert abs(info.duration_s - spec.duration_s) < 0.1 and (info.width, info.height) == SMALL
    start = spec.timeline.starts_s
    assert near(frame(spec.output, 0.5), (128, 0, 128))  # the still segment
    assert near(frame(spec.output, start[1] + 0.15), (255, 0, 0))  # the clip: red ...
    assert near(frame(spec.output, start[1] + 0.45), (0, 0, 255))  # ... then blue ...
    assert near(frame(spec.output, start[1] + 0.75), (255, 0, 0))  # ... and red again: looped
    assert near(frame(spec.output, start[2] + 0.5), (0, 255, 0))  # the portrait clip fills the landscape frame
    assert near(frame(spec.output, start[2] + 1.7), (0, 255, 0))  # cut before its yellow half
    volume = query_ffmpeg(["-i", str(spec.output), "-af", "volumedetect", "-vn", "-f", "null", "-"]).stderr
    assert "max_volume: -91" in volume or "max_volume: -inf" in volume  # the clips' 1 kHz tone is not in the mix
    assert not media.helper_dir(spec).exists()


def test_a_picture_that_stops_early_fails_the_render_instead_of_a_video_with_sound_over_nothing(tmp_path):
    good = make_clip(tmp_path / "good.mp4", ["red"], 1.0, "320x180", 25)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:400])  # a clip cut off in its header: the clips stream ends at it
    segments = [media.RenderSegment(still(tmp_path / f"{i}.png", (0, 0, 255)), quiet(tmp_path / f"{i}.wav", 1.0), 1.4,
                                    clip=clip, clip_s=1.0) for i, clip in enumerate([good, broken])]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", frame_size=SMALL, quality="tiny")
    with pytest.raises(MediaError, match=f"the render wrote \\d+ of the video's {sum(spec.timeline.frames)} frames") as failed:
        media.render(spec)
    assert f"Impossible to open {broken}" in str(failed.value)  # the clip as given, not its link in the helper folder
    assert not media.helper_dir(spec).exists()


def test_a_render_plays_joined_clips_one_after_another_and_loops_them_only_when_short_together(tmp_path):
    orange = make_clip(tmp_path / "orange.mp4", ["orange"], 0.7, "640x360", 25)
    cyan = make_clip(tmp_path / "cyan.mp4", ["cyan"], 2.0, "180x320", 60)  # another size, rate and orientation
    red = make_clip(tmp_path / "red.mp4", ["red"], 0.4, "640x360", 30, tone=False)
    blue = make_clip(tmp_path / "blue.mp4", ["blue"], 0.4, "320x180", 24, tone=False)
    segments = [  # each poster is its first clip's first frame, as a footage provider draws it
        media.RenderSegment(still(tmp_path / "0.png", (255, 165, 0)), quiet(tmp_path / "0.wav", 1.5), 1.9,
                            clip=orange, clip_s=0.7, more_clips=((cyan, 2.0),)),
        media.RenderSegment(still(tmp_path / "1.png", (255, 0, 0)), quiet(tmp_path / "1.wav", 1.2), 1.6,
                            clip=red, clip_s=0.4, more_clips=((blue, 0.4),)),
    ]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", frame_size=SMALL, quality="tiny")
    media.render(spec)

    start = spec.timeline.starts_s
    assert abs(probe(spec.output).duration_s - spec.duration_s) < 0.1
    # the first segment (0-1.9 s, its crossfade from 1.5 s): 0.7 s of orange, then the portrait clip, cut at the end
    assert [near(frame(spec.output, t), (255, 165, 0)) for t in (0.1, 0.6, 0.8)] == [True, True, False]
    assert all(near(frame(spec.output, t), (0, 255, 255)) for t in (0.8, 1.4))
    # the second: 0.8 s of clips in 1.6 s: red, blue, red, blue
    colours = [frame(spec.output, start[1] + t) for t in (0.2, 0.6, 1.0, 1.4)]
    assert [near(c, (255, 0, 0)) for c in colours] == [True, False, True, False]
    assert [near(c, (0, 0, 255)) for c in colours] == [False, True, False, True]
    # the cuts on their frames: orange to cyan at 0.7 s (frame 21), and the second segment's first frame its own clip,
    # not the 60 fps clip before it again (the overlay took that one when the two frames had the same time)
    assert near(nth_frame(spec.output, 20), (255, 165, 0)) and near(nth_frame(spec.output, 21), (0, 255, 255))
    assert near(nth_frame(spec.output, spec.timeline.frame_starts[1]), (255, 0, 0))
    volume = query_ffmpeg(["-i", str(spec.output), "-af", "volumedetect", "-vn", "-f", "null", "-"]).stderr
    assert "max_volume: -91" in volume or "max_volume: -inf" in volume  # the orange and cyan clips' tone is not in the mix


@pytest.mark.parametrize("fmt", ["9:16"])
def test_a_vertical_render_crops_a_landscape_clip_to_cover(tmp_path, fmt):
    wide = make_clip(tmp_path / "wide.mp4", ["orange"], 1.0, "640x360", 30, tone=False)
    segments = [media.RenderSegment(still(tmp_path / "0.png", (0, 0, 0)), quiet(tmp_path / "0.wav", 0.8), 1.2,
                                    clip=wide, clip_s=1.0)]
    spec = media.RenderSpec(segments, tmp_path / "v.mp4", video_format=fmt, quality="tiny", frame_size=(90, 160))
    media.render(spec)
    assert near(frame(spec.output, 0.6), (255, 165, 0)) and (probe(spec.output).width, probe(spec.output).height) == (90, 160)


def test_taking_a_clip_in_keeps_its_video_only_at_the_shared_time_base_converting_other_codecs(tmp_path):
    source = tmp_path / "in.mov"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=24:d=1", "-f", "lavfi", "-i", "sine=d=1", "-c:v", "mjpeg",
            "-c:a", "pcm_s16le", str(source))
    assert clips.normalize_args(source, tmp_path / "a.mp4", codec="h264") == [
        "-i", str(source), "-map", "0:v:0", "-c:v", "copy", "-an", "-sn", "-dn", "-video_track_timescale", "90000",
        "-movflags", "+faststart", "-f", "mp4", str(tmp_path / "a.mp4")]
    _ffmpeg(*clips.normalize_args(source, tmp_path / "b.mp4", codec="mjpeg", max_size=(320, 180)))
    info = probe(tmp_path / "b.mp4")
    assert info.video_codec == "h264" and info.audio_codec is None and (info.width, info.height) == (320, 180)
    assert "90k tbn" in query_ffmpeg(["-i", str(tmp_path / "b.mp4")], check=False).stderr


def test_a_filter_graph_too_long_for_one_argument_is_read_from_a_file(tmp_path):
    # a 10-minute video's word highlights make a graph over Linux's 128 KiB limit on one argument
    long_value = "a" * 180_000
    args = ["-filter_complex", f"testsrc2=s=64x36:r=5:d=0.4,metadata=mode=add:key=k:value={long_value}[v]",
            "-map", "[v]", "-f", "null", "-"]
    spilled = spill_graphs(args, str(tmp_path))
    assert spilled[:2] == ["-/filter_complex", str(tmp_path / "graph0.txt")] and spilled[2:] == args[2:]
    assert (tmp_path / "graph0.txt").read_text() == args[1]
    assert spill_graphs(["-filter_complex", "null"], str(tmp_path)) == ["-filter_complex", "null"]
    run_ffmpeg(args)  # would be E2BIG as an argument
