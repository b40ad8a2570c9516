"""The renderer: its argument list exactly, then real FFmpeg renders at 320x180 checked with FFmpeg."""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from ytmaker.errors import MediaError, StageTimeout
from ytmaker.media import audio, captions
from ytmaker.media import render as media
from ytmaker.media.avatar import AvatarLayout, avatar_list
from ytmaker.media.avatar import box as avatar_box
from ytmaker.media.ffmpeg import ffmpeg_exe, query_ffmpeg, run_ffmpeg
from ytmaker.media.filters import crossfade_commands
from ytmaker.media.fonts import font_path
from ytmaker.media.motion import pan_exprs, pan_moves
from ytmaker.media.probe import probe
from ytmaker.media.subtitles import CaptionStyle, Cue, SubtitleStyle, build_cues, to_srt, to_vtt, write_subtitles
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.slides import SlideImages, headline
from ytmaker.stages.render import _with_subtitles, pick_music, uniform_stills

SMALL = (320, 180)


def _spec(tmp_path: Path, durations: list[float], **options) -> media.RenderSpec:
    segments = [media.RenderSegment(tmp_path / f"{i}.png", tmp_path / f"{i}.wav", d, f"Sentence {i}.")
                for i, d in enumerate(durations)]
    return media.RenderSpec(segments=segments, output=tmp_path / "out.mp4", quality="draft", **options)


# --- the pure builder -------------------------------------------------------------------------

def test_timeline_rounds_once_on_the_whole_video():
    plan = media.timeline([1.017, 1.017, 1.017])
    # 3.051 s -> 92 frames; per-segment rounding would have given 3 x 31 = 93.
    assert sum(plan.frames) == round(3.051 * media.FPS)
    assert plan.frames == [31, 30, 31]
    assert plan.samples == [f * media.SAMPLE_RATE // media.FPS for f in plan.frames]
    assert plan.starts_s == [0.0, round(31 / 30, 3), round(61 / 30, 3)]
    assert plan.fade_frames == 6


def test_segment_durations_add_pause_and_tail():
    assert media.segment_durations([2.0, 3.0]) == [2.0 + media.PAUSE_S, 3.0 + media.TAIL_S]


def test_args_read_stills_once_and_cut_by_frame_counts(tmp_path):
    spec = _spec(tmp_path, [2.0, 3.0, 1.5])
    args = media.build_args(spec, audio.Level(3.5))
    # One input: the soundtrack the audio pass mixed (not one per narration); the stills are read by a source filter.
    assert args[:2] == ["-i", str(tmp_path / ".out.mp4.render" / "mix.wav")]
    assert args[args.index("-filter_complex_threads") + 1] == "1"  # no pool to wake for a band's slices
    assert "-shortest" not in args and "-loop" not in args
    assert args[args.index("-t") + 1] == "6.500"
    graph = args[args.index("-filter_complex") + 1]
    chains = graph.split(";\n")
    # The stills arrive scaled (the pre-pass), held by fps; a crop pans across each, per segment, by even pixels
    # across the 96 x 54 the still is larger than the frame. Each segment but the first begins its move 12 frames
    # early (its crossfade over the pause).
    assert chains[0] == (
        f"movie=filename={tmp_path}/.out.mp4.render/stills.ffconcat:format_name=concat,fps=30,crop=960:540"
        ":x='2*floor(96*if(lt(n,60),(0.1+0.8*clip((n-0)/59,0,1)),if(lt(n,150),0.5,(0.9-0.8*clip((n-138)/56,0,1))))/2)'"
        ":y='2*floor(54*if(lt(n,60),0.5,if(lt(n,150),(0.9-0.8*clip((n-48)/101,0,1)),(0.3+0.4*clip((n-138)/56,0,1))))/2)'"
        "[outgoing]")
    # The incoming stream: each next still from 12 frames before its segment, on the same move, only those frames
    # kept; a blend enabled only there mixes them in, its weight set frame by frame by the commands sendcmd reads.
    assert chains[1:5] == [
        f"movie=filename={tmp_path}/.out.mp4.render/incoming.ffconcat:format_name=concat,fps=30,crop=960:540"
        ":x='2*floor(96*if(lt(n,138),0.5,(0.9-0.8*clip((n-138)/56,0,1)))/2)'"
        ":y='2*floor(54*if(lt(n,138),(0.9-0.8*clip((n-48)/101,0,1)),(0.3+0.4*clip((n-138)/56,0,1)))/2)'"
        ",select='if(lt(n,138),between(n,48,59),between(n,138,149))'[incoming]",
        f"[outgoing]sendcmd=f={tmp_path}/.out.mp4.render/crossfade.cmd[outgoing_timed]",
        "[outgoing_timed][incoming]blend@crossfade=all_mode=normal:all_opacity=1"
        ":enable='if(lt(n,138),between(n,48,59),between(n,138,149))'[faded]",
        "[faded]null[vout]"]
    assert media.incoming_frames([0, 60, 150], [60, 90, 45], 12) == [138, 57]
    commands = crossfade_commands([0, 60, 150], 12, 30).splitlines()
    assert len(commands) == 24 and commands[0] == "1.583333 blend@crossfade all_opacity 0.923077;"
    assert commands[11] == "1.950000 blend@crossfade all_opacity 0.076923;"  # frame 59, the last before the cut
    assert commands[12] == "4.583333 blend@crossfade all_opacity 0.923077;"
    # No loudnorm: the measured gain, then a limiter holding the peaks under -1.5 dBFS.
    assert chains[5:] == ["[0:a]volume=3.50dB,alimiter=limit=0.8414:level=false:latency=true[aout]"]
    assert args[args.index("-map"):] == [
        "-map", "[vout]", "-map", "[aout]", "-t", "6.500",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-x264-params", "8x8dct=1", "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-r", "30",
        "-c:a", "aac", "-aac_coder", "fast", "-b:a", "160k", "-ar", "48000", "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4", str(tmp_path / "out.mp4")]


def test_stills_pass_stores_each_picture_once_raw_at_the_pan_size(tmp_path):
    spec = _spec(tmp_path, [2.0, 3.0, 1.5])
    spec = dataclasses.replace(spec, segments=[spec.segments[0], spec.segments[1],
                                               dataclasses.replace(spec.segments[2], image=tmp_path / "0.png")])
    helpers = tmp_path / ".out.mp4.render"
    assert media.convert_args(spec) == [
        "-f", "concat", "-safe", "0", "-i", str(helpers / "pictures.ffconcat"),
        "-vf", "scale=1056:594:force_original_aspect_ratio=increase:flags=bicubic:out_range=tv,crop=1056:594,setsar=1,format=yuv420p,"
               "settb=1/30,setpts=round(T)",
        "-r", "30", "-c:v", "rawvideo", "-f", "segment", "-segment_format", "yuv4mpegpipe", "-segment_frames", "1",
        str(helpers / "still%04d.y4m")]
    # The third segment shows the first picture again: it is converted once and listed twice.
    assert media.raw_stills(spec) == [helpers / "still0000.y4m", helpers / "still0001.y4m", helpers / "still0000.y4m"]
    media.write_list(spec)
    assert (helpers / "pictures.ffconcat").read_text() == (
        f"ffconcat version 1.0\nfile '{tmp_path / '0.png'}'\nduration 1\nfile '{tmp_path / '1.png'}'\nduration 1\n")
    assert media.convert_args(dataclasses.replace(spec, motion=False))[7].startswith("scale=960:540:")


def test_audio_pass_mixes_measures_and_writes_the_soundtrack(tmp_path):
    narrations = [tmp_path / "0.wav", tmp_path / "1.wav"]
    args = audio.mix_args(narrations, [96000, 144000], tmp_path / "m.mp3", tmp_path / "mix.wav")
    assert args[:8] == ["-i", str(narrations[0]), "-i", str(narrations[1]), "-stream_loop", "-1", "-i", str(tmp_path / "m.mp3")]
    chains = args[args.index("-filter_complex") + 1].split(";\n")
    # Each narration padded and cut to its segment's samples, so the sound stays in step with the pictures; mono
    # until the mix.
    assert chains[0] == ("[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,"
                         "apad=whole_len=96000,atrim=end_sample=96000,asetpts=PTS-STARTPTS[a0]")
    assert chains[1].startswith("[1:a]") and "apad=whole_len=144000,atrim=end_sample=144000" in chains[1]
    assert chains[-1] == "[mix]ebur128=framelog=quiet:peak=sample[measured]"
    assert args[args.index("-map"):] == ["-map", "[measured]", "-c:a", "pcm_f32le", "-f", "wav", str(tmp_path / "mix.wav")]
    without_music = audio.mix_args(narrations, [96000, 144000], None, tmp_path / "mix.wav")
    assert "-stream_loop" not in without_music
    assert "[a0][a1]concat=n=2:v=0:a=1,aformat=channel_layouts=stereo[mix]" in without_music[without_music.index("-filter_complex") + 1]


def test_gain_brings_the_measured_loudness_to_minus_14():
    log = ("[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -23.4 LUFS\n"
           "    Threshold: -33.9 LUFS\n\n  Loudness range:\n    LRA:         2.1 LU\n    Threshold: -43.6 LUFS\n"
           "    LRA low:   -24.6 LUFS\n    LRA high:  -22.5 LUFS\n\n  Sample peak:\n    Peak:       -3.1 dBFS\n")
    assert audio.parse_integrated(log) == -23.4 and audio.parse_peak(log) == -3.1
    assert audio.gain_for(-23.4) == 9.4
    assert audio.gain_for(-9.0) == -5.0
    assert audio.gain_for(-70.0) == audio.MAX_GAIN_DB  # near silence is not boosted by 56 dB
    assert audio.gain_for(float("-inf")) == 0.0
    # The check pass corrects the gain it measured under by what the limiter took away.
    assert audio.gain_for(-14.7, current_gain_db=9.4) == 10.1
    # Then secant steps: 9.3 dB gave -18.8 LUFS, 14.1 gave -15.4, so 1.4 LU more needs about 2 dB more.
    assert audio.next_gain([(9.3, -18.8)]) == 14.1
    assert audio.next_gain([(9.3, -18.8), (14.1, -15.4)]) == 16.08
    assert audio.check_args(Path("/m.wav"), 10.1) == [
        "-i", "/m.wav", "-af", "volume=10.10dB,alimiter=limit=0.8414:level=false:latency=true,ebur128=framelog=quiet",
        "-f", "null", "-"]
    with pytest.raises(MediaError):
        audio.parse_integrated("no summary here")


def test_music_is_looped_faded_ducked_then_normalised(tmp_path):
    spec = _spec(tmp_path, [2.0, 3.0], music=tmp_path / "music.mp3")
    args = audio.mix_args([s.audio for s in spec.segments], spec.timeline.samples, spec.music, tmp_path / "mix.wav")
    assert args[args.index("-stream_loop"):args.index("-stream_loop") + 4] == ["-stream_loop", "-1", "-i", str(tmp_path / "music.mp3")]
    render_args = media.build_args(spec, audio.Level(-2.0))
    graph = args[args.index("-filter_complex") + 1] + ";\n" + render_args[render_args.index("-filter_complex") + 1]
    assert "[2:a]aresample=48000" in graph and "atrim=end_sample=240000" in graph
    assert "afade=t=in:d=1.500" in graph and "afade=t=out:st=2.500:d=2.500" in graph
    positions = [graph.index(s) for s in ("[a0][a1]concat=n=2:v=0:a=1,aformat=channel_layouts=stereo[narration]",
                                          ",asetnsamples=n=480:p=0,volume='if(isnan(t),1,",
                                          "[narration][ducked]amix=inputs=2:duration=first:normalize=0[mix]",
                                          "[mix]ebur128=", "[0:a]volume=-2.00dB,alimiter=")]
    assert positions == sorted(positions)


def _gains(expression: str, seconds: float) -> dict[float, float]:
    """``volume``'s expression as FFmpeg applies it to a constant 1.0, by the start time of each 10 ms step."""
    log = _analyse(Path("-"), "-f", "lavfi", "-i", f"aevalsrc=1:s=48000:d={seconds}",
                   "-af", f"asetnsamples=n=480:p=0,volume='{expression}':eval=frame,astats=metadata=1:reset=1,"
                          "ametadata=print:key=lavfi.astats.Overall.Max_level")
    times = [round(float(t), 2) for t in re.findall(r"pts_time:(\S+)", log)]
    return dict(zip(times, [float(v) for v in re.findall(r"Max_level=(\S+)", log)]))


def test_music_ducks_by_the_narrations_times_with_ramps(tmp_path):
    # Two 3 s segments whose narrations speak 2.0 s and 2.5 s: ducked to DUCK while they speak, full in the pause.
    gain = _gains(audio.duck_gain([0.0, 3.0], [2.0, 5.5]), 7.0)
    assert gain[0.5] == gain[1.9] == gain[3.2] == gain[5.4] == pytest.approx(audio.DUCK)
    assert gain[2.15] == pytest.approx((1 + audio.DUCK) / 2)  # half way up (DUCK_UP_S 0.3)
    assert gain[2.31] == gain[2.7] == gain[6.0] == 1.0  # the pause, at full level, and after the last narration
    assert gain[2.93] == pytest.approx(audio.DUCK + (1 - audio.DUCK) * 0.07 / audio.DUCK_DOWN_S)  # on its way down
    # A pause too short for both ramps: the music rises only as far as the next narration lets it, with no jump.
    short = _gains(audio.duck_gain([0.0, 2.2], [2.0, 4.0]), 3.0)
    levels = [short[round(1.9 + k / 100, 2)] for k in range(40)]
    assert max(levels) < 0.6 and all(abs(b - a) < 0.07 for a, b in itertools.pairwise(levels))
    # Without narration times the whole segment is ducked.
    chains = audio.mix_chains([96000, 144000], 0, 2)
    assert "(t-2.000)/0.3" in chains[3] and "(t-5.000)/0.3" in chains[3]


def test_subtitles_are_one_picture_stream_overlaid_on_their_band(tmp_path):
    style = SubtitleStyle(960, 540)
    cues = build_cues([(0.0, 2.0, "Hello there."), (2.4, 1.0, "A second, longer line of text.")], style)
    spec = _spec(tmp_path, [2.4, 1.4], captions=media.Captions(tuple(cues), font_path()))
    args = media.build_args(spec)
    assert args[:2] == ["-i", str(tmp_path / ".out.mp4.render" / "mix.wav")]
    band = captions.band_for(spec.captions, style)
    # As wide as the longest line (centred), two lines tall, its bottom at the safe margin.
    assert band.width < 960 - 2 * style.margin_x and band.x == 2 * ((960 - band.width) // 4)
    assert band.y + band.height <= 540 - style.margin_bottom and band.y + band.height > 540 - style.margin_bottom - 2
    assert band.width % 2 == band.height % 2 == band.x % 2 == band.y % 2 == 0
    chains = args[args.index("-filter_complex") + 1].split(";\n")
    # After the crossfades, on the frames that change only (tests/test_render_changes.py), then each frame again.
    assert chains[4].startswith("[faded]null,select='gt(") and chains[4].endswith(",0)'[pictures]")
    assert chains[5:8] == [f"movie=filename={tmp_path}/.out.mp4.render/captions.ffconcat:format_name=concat,"
                           "format=yuva420p[captions]",
                           f"[pictures][captions]overlay=x={band.x}:y={band.y}:format=yuv420:eof_action=pass[captioned]",
                           "[captioned]fps=30[vout]"]


def test_subtitle_pictures_cover_their_cues(tmp_path):
    cues = (Cue(0.0, 0.5, ("a",)), Cue(0.5, 1.0, ("b",)), Cue(1.2, 1.3, ("c",)))
    assert captions.cue_frames(cues, 30) == [(0, 15), (15, 30), (36, 39)]
    a, b, c, blank = (tmp_path / f"{n}.png" for n in "abc_")
    text = captions.band_list([a, b, c], blank, captions.cue_frames(cues, 30), 45, 30)
    entries = re.findall(r"file '(.*)'\nduration (\S+)", text)
    frames = [(p, round(float(d) * 30)) for p, d in entries]
    assert frames == [("a.png", 15), ("b.png", 15), ("_.png", 6), ("c.png", 3), ("_.png", 6), ("_.png", 30)]
    assert sum(n for _, n in frames[:-1]) == 45  # the last entry only closes the list


def test_subtitle_picture_is_legible_text_with_an_outline(tmp_path):
    style = SubtitleStyle(640, 360)
    cue = Cue(0.0, 1.0, ("Two lines of", "subtitle text"))
    spec = media.Captions((cue,), font_path())
    band = captions.band_for(spec, style)
    image = captions.draw_cue(cue, band, spec, style)
    assert image.size == (band.width, band.height) and image.mode == "RGBA"
    pixels = list(image.getdata())
    white = sum(1 for p in pixels if p[:3] == (255, 255, 255) and p[3] == 255)
    dark = sum(1 for p in pixels if max(p[:3]) < 40 and p[3] == 255)
    assert white > 200 and dark > 200  # fill and outline
    assert image.getpixel((0, 0))[3] == 0  # transparent around the text
    # A one-line cue sits where the second line of a two-line one goes.
    one = captions.draw_cue(Cue(0.0, 1.0, ("subtitle text",)), band, spec, style)
    assert one.getbbox()[3] == image.getbbox()[3] and one.getbbox()[1] > image.getbbox()[1]


def test_motion_off_keeps_the_picture_still(tmp_path):
    graph = media.build_filtergraph(_spec(tmp_path, [2.0], motion=False))
    assert graph.split(";\n")[0].endswith(".out.mp4.render/stills.ffconcat:format_name=concat,fps=30[vout]")


def test_list_paths_are_escaped_for_the_filtergraph(tmp_path):
    spec = _spec(Path("/data/it's:here"), [2.0])
    graph = media.build_filtergraph(spec)
    assert graph.startswith(r"movie=filename=/data/it\\\'s\\:here/.out.mp4.render/stills.ffconcat:format_name=concat")


def test_pan_expressions_stay_shallow_for_long_videos():
    starts, frames = [180 * i for i in range(300)], [180] * 300
    x = pan_exprs(starts, *pan_moves(starts, frames, 12), (192, 108))["x"]
    depth = max_depth = 0
    for char in x:
        depth += {"(": 1, ")": -1}.get(char, 0)
        max_depth = max(max_depth, depth)
    assert x.count("if(") == 299 and max_depth <= 2 * 10 + 3  # log2(300) < 9 levels of if(lt(),…)


def test_stills_are_listed_once_each_for_their_frames(tmp_path):
    spec = _spec(tmp_path, [0.5, 0.372])
    media.write_list(spec)
    text = media.list_path(spec).read_text()
    # The raw stills, once per segment: 15 frames, then 11 (rounded on the whole timeline), then the closing entry.
    # Bare names of files beside the list: what the concat demuxer reads in its safe mode.
    zero, one = "file 'still0000.y4m'\n", "file 'still0001.y4m'\n"
    assert text == ("ffconcat version 1.0\n" + zero + "duration 0.500000\n" + one + "duration 0.366667\n"
                    + one + "duration 1.000000\n")


# --- subtitles --------------------------------------------------------------------------------

def test_cues_share_the_narration_by_characters():
    style = SubtitleStyle(1920, 1080)
    cues = build_cues([(1.0, 3.0, "One two three. Four five six seven eight nine."), (5.0, 1.0, "Last.")], style)
    split = round(1.0 + 3.0 * 12 / (12 + 26), 3)  # 12 and 26 characters without spaces
    assert [(c.start_s, c.end_s, c.lines) for c in cues] == [
        (1.0, split, ("One two three.",)),
        (split, 4.0, ("Four five six seven eight nine.",)),
        (5.0, 6.0, ("Last.",)),
    ]


def test_long_sentences_wrap_to_two_lines_per_cue():
    style = SubtitleStyle(640, 360)
    text = " ".join(["word"] * 60) + "."
    cues = build_cues([(0.0, 12.0, text)], style)
    assert len(cues) > 1
    assert all(1 <= len(c.lines) <= 2 for c in cues)
    assert cues[-1].end_s == pytest.approx(12.0)
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(cues))


def test_chinese_wraps_between_characters():
    style = SubtitleStyle(640, 360)
    cues = build_cues([(0.0, 4.0, "太阳能发电在过去二十年里变得非常便宜，今天它常常是一个国家能建造的最便宜的电力。")], style)
    assert all(len(c.lines) <= 2 for c in cues)
    assert "".join("".join(c.lines) for c in cues).startswith("太阳能发电")


def test_srt_and_vtt_formats():
    style = SubtitleStyle(1920, 1080)
    cues = build_cues([(61.5, 2.0, "Hello there.")], style)
    assert to_srt(cues) == "1\n00:01:01,500 --> 00:01:03,500\nHello there.\n"
    assert to_vtt(cues) == "WEBVTT\n\n00:01:01.500 --> 00:01:03.500\nHello there.\n"


def test_chinese_subtitles_use_the_cjk_font(tmp_path):
    cjk = font_path(cjk=True)
    if cjk is None:
        pytest.skip("no CJK font installed (apt install fonts-wqy-zenhei)")
    spec = media.RenderSpec([media.RenderSegment(tmp_path / "a.png", tmp_path / "a.wav", 2.4, "太阳能很便宜。")],
                            tmp_path / "o.mp4", quality="draft")
    spec = _with_subtitles(spec, [2.0], tmp_path)
    assert spec.captions.font == cjk
    # Drawn with that font, the characters have strokes inside them (an empty box would be a hollow rectangle).
    style = SubtitleStyle(*spec.size)
    image = captions.draw_cue(spec.captions.cues[0], captions.band_for(spec.captions, style), spec.captions, style)
    box = image.getbbox()
    assert box is not None and box[2] - box[0] > style.font_size * 5


# --- slides ---------------------------------------------------------------------------------

def test_slide_headline_names_the_segment_instead_of_repeating_it():
    narration = ("The answer is mostly manufacturing. Every time the world's production of solar panels doubled, "
                 "their price fell by a fifth. Factories grew larger and manufacturing got cheaper.")
    assert headline(narration) == "Manufacturing"  # a phrase of the segment, not a keyword triple
    assert headline("太阳能很便宜，太阳能发电越来越多。") == "太阳能"  # a word, not a character pair
    assert headline("Hi.") == "Hi."


@pytest.mark.parametrize("size", [(640, 360), (360, 640)])
def test_slide_text_stays_clear_of_the_ken_burns_crop_and_the_subtitles(tmp_path, size):
    request = ImageRequest(index=1, description="", caption="Manufacturing · Production · Factories",
                           topic="Why solar power got cheap", width=size[0], height=size[1], aspect_ratio="16:9")
    SlideImages().generate(request, tmp_path / "s.png")
    image = Image.open(tmp_path / "s.png").convert("RGB")
    width, height = image.size
    white = [(x, y) for y in range(height) for x in range(width) if image.getpixel((x, y)) == (255, 255, 255)]
    assert white, "the headline is drawn"
    # Moves zoom in at most 12 % (about 8 % off a side) and subtitles sit in the lower fifth.
    assert all(0.09 * width < x < 0.91 * width and 0.08 * height < y < 0.75 * height for x, y in white)


# --- real renders -----------------------------------------------------------------------------

def _slide(path: Path, color, size=(640, 360)) -> Path:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 40):
        draw.line((x, 0, x + 100, size[1]), fill=(255, 255, 255), width=4)
    image.save(path)
    return path


def _tone(path: Path, seconds: float, freq: int) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:sample_rate=22050:duration={seconds}", str(path)], check=True)
    return path


@pytest.fixture
def assets(tmp_path):
    durations = [1.3, 0.9, 1.1]
    slides = [_slide(tmp_path / f"{i}.png", c) for i, c in enumerate([(200, 40, 40), (40, 160, 40), (40, 40, 200)])]
    tones = [_tone(tmp_path / f"{i}.wav", d, 300 + 100 * i) for i, d in enumerate(durations)]
    return slides, tones, durations


def _frame(video: Path, at_s: float) -> Image.Image:
    out = video.with_name(f"frame-{at_s}.png")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{at_s}", "-i", str(video),
                    "-frames:v", "1", str(out)], check=True)
    return Image.open(out).convert("RGB")


def test_render_small_video_with_motion_and_subtitles(tmp_path, assets):
    slides, tones, narration = assets
    durations = media.segment_durations(narration)
    spec = media.RenderSpec(
        [media.RenderSegment(s, t, d, f"Segment number {i} says hello.") for i, (s, t, d) in enumerate(zip(slides, tones, durations))],
        tmp_path / "video.mp4", quality="draft", frame_size=SMALL)
    spec = _with_subtitles(spec, narration, tmp_path)
    progress: list[float] = []
    media.render(spec, timeout_s=60, on_progress=progress.append)

    info = probe(spec.output)
    assert (info.video_codec, info.video_profile, info.audio_codec) == ("h264", "High", "aac")
    assert (info.width, info.height, info.fps, info.sample_rate) == (320, 180, 30.0, 48000)
    assert info.duration_s == pytest.approx(sum(durations), abs=0.1)
    assert progress and progress[-1] == pytest.approx(100, abs=5)
    # The helper files (lists, raw stills, the soundtrack, subtitle pictures) are gone.
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    # Motion: two frames inside the first segment differ; the fade dips between segments.
    a, b = _frame(spec.output, 0.1), _frame(spec.output, 1.2)
    assert ImageChops.difference(a, b).getbbox() is not None
    # Subtitle files: one cue per segment, starting with its narration and held over the pause after it.
    srt = (tmp_path / "subtitles.srt").read_text()
    starts = re.findall(r"(\d\d:\d\d:\d\d,\d{3}) -->", srt)
    assert starts == ["00:00:00,000", "00:00:01,700", "00:00:03,000"]
    assert (tmp_path / "subtitles.vtt").read_text().startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.700\nSegment number 0")


def test_render_vertical_with_music(tmp_path, assets):
    slides, tones, narration = assets
    music = _tone(tmp_path / "music.wav", 1.0, 880)  # shorter than the video: it loops
    durations = media.segment_durations(narration)
    spec = media.RenderSpec([media.RenderSegment(s, t, d) for s, t, d in zip(slides, tones, durations)],
                            tmp_path / "v.mp4", video_format="9:16", quality="draft", frame_size=(180, 320), music=music)
    media.render(spec, timeout_s=60)
    info = probe(spec.output)
    assert (info.width, info.height) == (180, 320)
    assert info.duration_s == pytest.approx(sum(durations), abs=0.1)


def test_broken_input_raises_media_error_with_command(tmp_path, assets):
    slides, _tones, _narration = assets
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    spec = media.RenderSpec([media.RenderSegment(slides[0], tmp_path / "bad.wav", 1.0)], tmp_path / "x.mp4",
                            quality="draft", frame_size=SMALL)
    with pytest.raises(MediaError) as caught:
        media.render(spec, timeout_s=60)
    assert caught.value.command[0] == ffmpeg_exe() and caught.value.stderr
    assert not media.list_path(spec).exists()


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("runner", [run_ffmpeg, query_ffmpeg], ids=["render", "query"])
def test_deadline_kills_ffmpeg_and_leaves_no_process(runner):
    marker = f"hang-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(StageTimeout):
        runner(["-re", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=5", "-f", "null", marker], timeout_s=1.0)
    assert time.monotonic() - started < 5
    assert _processes_with(marker) == []


def test_cancellation_stops_ffmpeg(tmp_path):
    marker = f"cancel-{uuid.uuid4().hex}"
    with pytest.raises(Exception) as caught:
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=5", "-f", "null", marker],
                   should_cancel=lambda: True)
    assert type(caught.value).__name__ == "Cancelled"
    assert _processes_with(marker) == []


def test_a_short_query_returns_what_ffmpeg_printed():
    answer = query_ffmpeg(["-version"])
    assert answer.returncode == 0 and answer.stdout.startswith("ffmpeg version")


def test_a_failed_query_carries_the_command_and_stderr_unless_failure_is_expected(tmp_path):
    missing = str(tmp_path / "missing.mp4")
    with pytest.raises(MediaError) as caught:
        query_ffmpeg(["-i", missing])
    assert caught.value.command[0] == ffmpeg_exe() and missing in caught.value.command
    assert "missing.mp4" in caught.value.stderr
    assert query_ffmpeg(["-i", missing], check=False).returncode != 0


def test_an_ffmpeg_that_cannot_start_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="cannot run FFmpeg"):
        query_ffmpeg(["-version"], exe=str(tmp_path / "no-ffmpeg"))


# --- stage helpers ----------------------------------------------------------------------------

def test_pick_music_is_stable_per_project(tmp_path):
    for name in ("b.mp3", "a.ogg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    first = pick_music(tmp_path, "project-1")
    assert first in {tmp_path / "a.ogg", tmp_path / "b.mp3"}
    assert pick_music(tmp_path, "project-1") == first
    assert pick_music(tmp_path / "b.mp3", "p") == tmp_path / "b.mp3"
    assert pick_music(None, "p") is None and pick_music(tmp_path / "missing", "p") is None


def test_stills_of_other_pixel_modes_and_sizes_each_show_for_their_whole_segment(tmp_path):
    # A grey and a paletted PNG among colour ones (your own media) made FFmpeg rebuild the stills pass's filters:
    # a picture was lost there and the video ended where that segment began.
    colour = _slide(tmp_path / "colour.png", (200, 30, 30))
    grey = tmp_path / "grey.png"
    Image.new("L", (640, 360), 128).save(grey)
    palette = tmp_path / "palette.png"
    Image.new("RGB", (400, 500), (20, 40, 220)).convert("P").save(palette)
    images = [colour, grey, palette, colour]
    segments = [media.RenderSegment(image, _tone(tmp_path / f"{i}.wav", 0.8, 300 + 50 * i), 1.2)
                for i, image in enumerate(images)]
    spec = media.RenderSpec(segments, tmp_path / "out.mp4", quality="tiny", frame_size=SMALL, motion=False)
    media.render(spec)
    assert abs(probe(spec.output).duration_s - spec.duration_s) < 0.1
    frames = query_ffmpeg(["-i", str(spec.output), "-map", "0:v", "-f", "null", "-"]).stderr
    assert int(re.findall(r"frame=\s*(\d+)", frames)[-1]) == sum(spec.timeline.frames)
    middle = [_frame(spec.output, start + 0.5).getpixel((160, 90)) for start in spec.timeline.starts_s]
    assert abs(middle[1][0] - 128) < 20 and max(middle[1]) - min(middle[1]) < 10  # grey
    assert middle[2][2] > 150 and middle[2][0] < 80  # blue
    assert middle[0][0] > 150 and middle[3][0] > 150  # the colour slide, before and after


def test_uniform_stills_redraws_mixed_sizes(tmp_path):
    a = _slide(tmp_path / "a.png", (10, 10, 10))
    b = tmp_path / "b.jpg"
    Image.new("RGB", (100, 300), (200, 0, 0)).save(b)
    assert uniform_stills([a, a], (320, 180), tmp_path / "s") == [a, a]
    fixed = uniform_stills([a, b], (320, 180), tmp_path / "s")
    assert [Image.open(p).size for p in fixed] == [(320, 180), (320, 180)]
    grey = tmp_path / "grey.png"
    Image.new("L", Image.open(a).size, 128).save(grey)
    assert [Image.open(p).mode for p in uniform_stills([a, grey], (320, 180), tmp_path / "m")] == ["RGB", "RGB"]


def test_write_subtitles_beside_the_video(tmp_path):
    style = SubtitleStyle(320, 180)
    files = write_subtitles(build_cues([(0.0, 1.0, "Hi {there}.")], style), tmp_path)
    assert files.srt == tmp_path / "subtitles.srt" and files.vtt == tmp_path / "subtitles.vtt"
    assert files.srt.read_text() == "1\n00:00:00,000 --> 00:00:01,000\nHi {there}.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["subtitles.srt", "subtitles.vtt"]


# --- what the rendered picture and sound measure ----------------------------------------------

def _analyse(video: Path, *options: str) -> str:
    """FFmpeg's log of an analysis filter run over ``video`` (nothing is written)."""
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", *options, "-f", "null", "-"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def _rms_db(video: Path, start_s: float, end_s: float, band: str) -> float:
    """RMS level (dB) of one frequency band of the soundtrack between two times."""
    log = _analyse(video, "-ss", f"{start_s}", "-t", f"{end_s - start_s}", "-i", str(video), "-vn",
                   "-af", f"{band},astats=measure_perchannel=none:measure_overall=RMS_level")
    value = re.findall(r"RMS level dB: (\S+)", log)[-1]
    return float("-inf") if value == "-inf" else float(value)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Three 3.5 s segments, each 2 s of narration (low tones) then 1.5 s of pause, over 3 kHz music."""
    folder = tmp_path_factory.mktemp("mixed")
    slides = [_slide(folder / f"{i}.png", c) for i, c in enumerate([(200, 40, 40), (40, 160, 40), (40, 40, 200)])]
    tones = [_tone(folder / f"{i}.wav", 2.0, 300 + 100 * i) for i in range(3)]
    music = _tone(folder / "music.wav", 1.5, 3000)
    spec = media.RenderSpec([media.RenderSegment(s, t, 3.5, f"Segment {i}.", narration_s=2.0)
                             for i, (s, t) in enumerate(zip(slides, tones))],
                            folder / "mixed.mp4", quality="draft", frame_size=SMALL, music=music)
    spec = _with_subtitles(spec, [2.0] * 3, folder)
    media.render(spec, timeout_s=120)
    return spec


VOICE_BAND = "lowpass=f=800,lowpass=f=800"
MUSIC_BAND = "highpass=f=2000,highpass=f=2000"


def test_no_black_frames_anywhere(mixed):
    log = _analyse(mixed.output, "-i", str(mixed.output), "-an", "-vf", "blackdetect=d=0:pix_th=0.10")
    assert "black_start" not in log  # segments crossfade: nothing dips to black, start and end included


def test_segments_crossfade_over_the_pause_into_the_picture_that_carries_on(mixed):
    # red, then green, then blue slides (with white stripes): compare each frame's mean colour.
    overlap = media.crossfade_frames(mixed.timeline) / media.FPS
    for boundary, (before, after) in zip(mixed.timeline.starts_s[1:], [((200, 40, 40), (40, 160, 40)),
                                                                      ((40, 160, 40), (40, 40, 200))]):
        def mean(at_s):
            frame = _frame(mixed.output, at_s).resize((32, 18))
            pixels = [frame.getpixel((x, y)) for y in range(18) for x in range(32)]
            return [sum(p[c] for p in pixels) / len(pixels) for c in range(3)]

        outgoing, middle, incoming = mean(boundary - overlap - 0.1), mean(boundary - overlap / 2), mean(boundary + 0.1)
        channel = next(i for i in range(3) if after[i] > before[i])  # the colour that grows
        # Before the crossfade only the outgoing slide shows, after it only the incoming one,
        # and half-way both are on screen at about half strength each: not black, not a cut.
        assert outgoing[channel] < middle[channel] < incoming[channel]
        assert abs(middle[channel] - (outgoing[channel] + incoming[channel]) / 2) < 0.25 * (incoming[channel] - outgoing[channel])
        assert sum(middle) > 0.8 * min(sum(outgoing), sum(incoming))


def _luma_by_frame(video: Path) -> list[float]:
    """Each frame's mean luma, as FFmpeg's signalstats measures it."""
    log = _analyse(video, "-i", str(video), "-an", "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YAVG")
    return [float(v) for v in re.findall(r"lavfi\.signalstats\.YAVG=(\S+)", log)]


def test_each_crossfade_frame_steps_the_incoming_picture_up_by_an_equal_weight(tmp_path):
    # Flat black, white, black stills: a frame's luma is the blend's weight, frame by frame, at both cuts.
    stills = [tmp_path / f"{i}.png" for i in range(3)]
    for path, grey in zip(stills, [0, 255, 0]):
        Image.new("RGB", SMALL, (grey,) * 3).save(path)
    tone = _tone(tmp_path / "t.wav", 0.5, 440)
    spec = media.RenderSpec([media.RenderSegment(s, tone, 1.0) for s in stills], tmp_path / "fade.mp4", quality="draft",
                            frame_size=SMALL)
    media.render(spec, timeout_s=120)
    luma = _luma_by_frame(spec.output)
    overlap, (black, white) = media.crossfade_frames(spec.timeline), (16, 235)  # limited-range video levels
    assert overlap == 12 and len(luma) == 90
    for cut, (before, after) in zip(spec.timeline.frame_starts[1:], [(black, white), (white, black)]):
        expected = [before + (after - before) * (k + 1) / (overlap + 1) for k in range(overlap)]
        assert luma[cut - overlap - 1] == pytest.approx(before, abs=1.5)  # the outgoing picture alone until then
        assert luma[cut - overlap:cut] == pytest.approx(expected, abs=2.5)  # 17 levels a step: one frame off fails
        assert luma[cut] == pytest.approx(after, abs=1.5)


def test_no_whole_frame_is_converted_on_its_way_to_the_encoder(tmp_path, monkeypatch):
    # A conversion FFmpeg inserts between filters copies the frame (the stills once came untagged, and a
    # range conversion from "unknown" to "tv" copied every frame before x264: 0.3 CPU-s a minute at 1080p).
    stills = [_slide(tmp_path / f"{i}.png", c) for i, c in enumerate([(200, 40, 40), (40, 160, 40)])]
    tones = [_tone(tmp_path / f"{i}.wav", 1.0, 300) for i in range(2)]
    spec = media.RenderSpec([media.RenderSegment(s, t, 1.5, f"Segment {i} says words.") for i, (s, t) in
                             enumerate(zip(stills, tones))], tmp_path / "v.mp4", quality="draft", frame_size=SMALL)
    spec = _with_subtitles(spec, [1.0, 1.0], tmp_path, look=CaptionStyle(mode="words"))
    monkeypatch.setenv("FFREPORT", f"file={tmp_path}/report-%p.log:level=48")
    media.render(spec, timeout_s=120)
    report = next(text for path in tmp_path.glob("report-*.log") if "libx264" in (text := path.read_text(errors="replace")))
    assert "Parsed_overlay" in report and "blend@crossfade" in report  # the report of the render with both
    conversions = re.findall(r"\] w:(\d+) h:(\d+) fmt:(\S+) .*-> w:\d+ h:\d+ fmt:(\S+)", report)
    assert conversions  # the caption pictures' own, once per picture
    assert not [c for c in conversions if (int(c[0]), int(c[1])) == SMALL], conversions


def test_music_ducks_under_the_narration(mixed):
    for start in mixed.timeline.starts_s:
        voice = _rms_db(mixed.output, start + 0.5, start + 1.8, VOICE_BAND)
        music_under_voice = _rms_db(mixed.output, start + 0.5, start + 1.8, MUSIC_BAND)
        assert voice > music_under_voice + 15  # the narration stands well clear of the music
    # The middle segment is clear of the music's fade in and out: there the ducking alone sets the level.
    start = mixed.timeline.starts_s[1]
    music_under_voice = _rms_db(mixed.output, start + 0.5, start + 1.8, MUSIC_BAND)
    music_in_pause = _rms_db(mixed.output, start + 2.8, start + 3.4, MUSIC_BAND)
    assert music_in_pause > music_under_voice + 6


def test_final_loudness_is_within_one_lu_of_minus_14_lufs(mixed):
    log = _analyse(mixed.output, "-i", str(mixed.output), "-vn", "-af", "ebur128=framelog=quiet")
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
    assert integrated == pytest.approx(media.LOUDNESS_LUFS, abs=1.0)


# --- avatar picture-in-picture ----------------------------------------------------------------

def _clip(path: Path, seconds: float) -> Path:
    """A synthetic talking head: FFmpeg's colourful test pattern."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=128x128:rate=25:duration={seconds}", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_avatar_clips_join_the_graph_as_one_stream_with_a_mask(tmp_path):
    spec = _spec(tmp_path, [2.0, 3.0], music=tmp_path / "m.wav", avatar_layout=AvatarLayout("bottom-left", circle=True))
    spec = dataclasses.replace(spec, segments=[dataclasses.replace(s, avatar=tmp_path / f"{i}.mp4")
                                               for i, s in enumerate(spec.segments)])
    args = media.build_args(spec)
    assert args[2:8] == ["-f", "concat", "-safe", "0", "-i", str(media.list_path(spec, "avatars"))]
    assert args[8:14] == ["-loop", "1", "-framerate", "30", "-i", str(media.list_path(spec, "mask"))]
    chains = args[args.index("-filter_complex") + 1].split(";\n")
    assert chains[0].endswith("[outgoing]") and chains[4] == "[faded]null[base]"  # the avatar goes over the crossfades
    assert chains[5:9] == [
        "[1:v]fps=30,scale=162:162:force_original_aspect_ratio=increase,crop=162:162,setsar=1,format=yuva420p[avatar_rgb]",
        "[2:v]format=gray,scale=162:162[avatar_mask]",
        "[avatar_rgb][avatar_mask]alphamerge[avatar]",
        "[base][avatar]overlay=x=22:y=H-h-22:eof_action=pass:format=yuv420[framed]"]
    assert chains[9] == "[framed]null[vout]"
    assert avatar_list([tmp_path / "0.mp4"], [61], 30) == (
        f"ffconcat version 1.0\nfile '{tmp_path / '0.mp4'}'\noutpoint 2.033333\nduration 2.033333\n")


def test_no_avatar_unless_every_segment_has_its_clip(tmp_path):
    spec = _spec(tmp_path, [2.0, 3.0])
    spec = dataclasses.replace(spec, segments=[dataclasses.replace(spec.segments[0], avatar=tmp_path / "0.mp4"),
                                               spec.segments[1]])
    args = " ".join(media.build_args(spec))
    assert not spec.with_avatars and "[avatar" not in args and args.count("overlay") == 0  # the crossfade is a blend


@pytest.mark.parametrize("circle", [False, True])
def test_render_with_avatar_in_the_corner(tmp_path, circle):
    grey = (128, 128, 128)
    slides = [tmp_path / f"{i}.png" for i in range(2)]
    for slide in slides:
        Image.new("RGB", (640, 360), grey).save(slide)
    tones = [_tone(tmp_path / f"{i}.wav", 1.0, 300) for i in range(2)]
    clips = [_clip(tmp_path / "a0.mp4", 0.8), _clip(tmp_path / "a1.mp4", 3.0)]  # one ends early, one is cut
    spec = media.RenderSpec([media.RenderSegment(s, t, 1.4, avatar=c) for s, t, c in zip(slides, tones, clips)],
                            tmp_path / "v.mp4", quality="draft", frame_size=SMALL,
                            avatar_layout=AvatarLayout("top-right", circle=circle))
    media.render(spec, timeout_s=60)
    assert probe(spec.output).duration_s == pytest.approx(2.8, abs=0.1)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # lists and mask removed
    side, margin = avatar_box(*SMALL)  # 54 px, 7 px from the top and the right
    left, top = SMALL[0] - margin - side, margin
    for at in (0.5, 1.1, 2.0):  # playing, holding its last frame through the pause, second clip
        frame = _frame(spec.output, at)
        centre = frame.getpixel((left + side // 2, top + side // 2))
        assert max(abs(c - g) for c, g in zip(centre, grey)) > 30, "the avatar is in the corner"
        assert max(abs(c - g) for c, g in zip(frame.getpixel((40, 140)), grey)) < 12, "the slide elsewhere"
        corner = frame.getpixel((left + 2, top + 2))
        outside_circle = max(abs(c - g) for c, g in zip(corner, grey)) < 12
        assert outside_circle == circle


def test_loudness_holds_when_the_gain_drives_peaks_into_the_limiter(tmp_path):
    # A quiet narration with loud clicks: lifting it to -14 LUFS puts the clicks far over the ceiling.
    voice = tmp_path / "peaky.wav"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "aevalsrc='0.05*sin(2*PI*300*t)+0.95*lt(mod(t\\,0.5)\\,0.005)*sin(2*PI*300*t)':s=22050:d=3", str(voice)],
                   check=True)
    slide = _slide(tmp_path / "s.png", (60, 60, 60))
    spec = media.RenderSpec([media.RenderSegment(slide, voice, 3.4)], tmp_path / "v.mp4", quality="draft", frame_size=SMALL)
    media.render(spec, timeout_s=60)
    log = _analyse(spec.output, "-i", str(spec.output), "-vn", "-af", "ebur128=framelog=quiet:peak=sample")
    assert float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1]) == pytest.approx(media.LOUDNESS_LUFS, abs=0.5)
    assert float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", log)[-1]) < 0.0  # limited: a fixed gain alone would clip


def test_the_limiter_runs_only_where_the_gain_lifts_the_peaks_over_the_ceiling(tmp_path):
    gentle = _tone(tmp_path / "gentle.wav", 2.0, 300)  # a sine: its peak sits 3 dB over its level
    peaky = tmp_path / "peaky.wav"  # quiet, with loud clicks: at -14 LUFS they would go far over the ceiling
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "aevalsrc='0.05*sin(2*PI*300*t)+0.95*lt(mod(t\\,0.5)\\,0.005)*sin(2*PI*300*t)':s=22050:d=2", str(peaky)],
                   check=True)
    for voice, limited in ((gentle, False), (peaky, True)):
        mix = tmp_path / f"{voice.stem}-mix.wav"
        level = audio.mix_and_measure([voice], [2 * media.SAMPLE_RATE], None, mix)
        assert level.limit is limited
        spec = _spec(tmp_path, [2.0])
        assert ("alimiter" in media.build_filtergraph(spec, level=level)) is limited
        log = _analyse(mix, "-i", str(mix), "-af", f"{audio.master_filters(level.gain_db, level.limit)},ebur128=framelog=quiet:peak=sample")
        assert float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1]) == pytest.approx(media.LOUDNESS_LUFS, abs=0.5)
        assert float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", log)[-1]) <= audio.PEAK_DBFS + 0.05


def test_subtitles_are_burned_in_while_their_cue_lasts_only(tmp_path):
    grey = (110, 110, 110)
    slides = [tmp_path / f"{i}.png" for i in range(2)]
    for slide in slides:
        Image.new("RGB", (640, 360), grey).save(slide)
    tones = [_tone(tmp_path / f"{i}.wav", 1.0, 300) for i in range(2)]
    durations = media.segment_durations([1.0, 1.0])
    spec = media.RenderSpec([media.RenderSegment(s, t, d, "Hello there.") for s, t, d in zip(slides, tones, durations)],
                            tmp_path / "v.mp4", quality="draft", frame_size=SMALL, motion=False)
    spec = _with_subtitles(spec, [1.0, 1.0], tmp_path)
    media.render(spec, timeout_s=60)
    band = captions.band_for(spec.captions, SubtitleStyle(*SMALL))

    def white_in_band(at_s: float) -> int:
        frame = _frame(spec.output, at_s).crop((band.x, band.y, band.x + band.width, band.y + band.height))
        return sum(1 for p in frame.getdata() if min(p) > 200)

    assert white_in_band(0.5) > 30  # the first cue, "Hello there."
    assert white_in_band(1.2) > 30  # held over the pause after it
    assert white_in_band(1.9) > 30  # the second cue
    assert white_in_band(3.05) == 0  # after the last cue's pause: the blank picture
    above = _frame(spec.output, 0.5).crop((0, 0, SMALL[0], band.y))
    assert max(max(abs(c - g) for c, g in zip(p, grey)) for p in above.getdata()) < 12  # nothing drawn above the band
