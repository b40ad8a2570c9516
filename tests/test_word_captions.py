"""Word-by-word captions: the mode by format and project, one picture per word lit in the highlight colour, in the list."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from PIL import Image

from tests.conftest import fast_settings
from ytmaker.db.migrate import upgrade
from ytmaker.errors import InvalidInput
from ytmaker.media import captions as burn
from ytmaker.media import highlight
from ytmaker.media.subtitles import CaptionStyle, SubtitleStyle
from ytmaker.projects import ProjectOptions, create_project
from ytmaker.runtime import build_runtime
from ytmaker.stages.render import caption_style

TEXT = "Solar panels got cheap. Factories learned to make them at scale."
WORDS = [(m.start(), round(0.3 * k, 3)) for k, m in enumerate(re.finditer(r"\S+", TEXT))]
NARRATION_S = 0.3 * len(WORDS) + 0.2


def _captions(tmp_path, size, mode, text=TEXT, words=WORDS, narration_s=NARRATION_S):
    return burn.make_captions([text], [0.0], [narration_s], size, tmp_path, [words], look=CaptionStyle(mode=mode))


def test_auto_lights_words_in_9_16_and_shows_sentences_in_16_9(tmp_path):
    assert _captions(tmp_path, (1080, 1920), "auto").words
    assert not _captions(tmp_path, (1920, 1080), "auto").words
    off = _captions(tmp_path, (1920, 1080), "off")
    assert off.cues == () and (tmp_path / "subtitles.srt").read_text().count(" --> ") >= 2  # the sidecars still say it all


def test_every_word_has_a_mark_on_its_own_timing(tmp_path):
    captions = _captions(tmp_path, (1080, 1920), "words")
    marks = [(cue.lines[m.line][m.begin:m.end], m.start_s) for cue in captions.cues for m in cue.marks]
    assert [w for w, _ in marks] == [w.strip(".") for w in TEXT.split()]
    assert [t for _, t in marks] == [t for _, t in WORDS]


def test_chinese_lights_phrases_between_punctuation(tmp_path):
    text = "大熊猫几乎只吃竹子。竹子的营养很少，所以熊猫每天要花很多时间进食。"
    words = [(i, round(0.25 * i, 3)) for i, c in enumerate(text) if c not in "。，"]
    captions = _captions(tmp_path, (1080, 1920), "words", text, words, 0.25 * len(text))
    phrases = [cue.lines[m.line][m.begin:m.end] for cue in captions.cues for m in cue.marks]
    assert "".join(phrases) == text and all(2 <= len(p) <= 8 for p in phrases)


def test_a_chinese_phrase_is_never_cut_inside_a_word(tmp_path):
    import rjieba

    text = "每天要花十几个小时进食，吃掉十几公斤竹子。"
    words = [(i, round(0.25 * i, 3)) for i, c in enumerate(text) if c not in "。，"]  # a boundary at every character
    captions = _captions(tmp_path, (1080, 1920), "words", text, words, 0.25 * len(text))
    cuts, at = set(), 0
    for word in rjieba.cut(text):
        at += len(word)
        cuts.add(at)
    phrases = [cue.lines[m.line][m.begin:m.end] for cue in captions.cues for m in cue.marks]
    assert "".join(phrases) == text and len(phrases) >= 3
    starts = [sum(len(p) for p in phrases[:k]) for k in range(len(phrases))]  # where each phrase starts in the text
    assert all(start in cuts | {0} for start in starts), phrases  # 公斤 stays one: no phrase starts at 斤


def test_one_small_picture_per_word_lit_and_placed_over_that_word(tmp_path):
    captions = _captions(tmp_path, (540, 960), "words")
    style = captions.style((540, 960))
    files = highlight.write_words(captions, style, tmp_path, 200, 30)
    pictures = [f for f in files if re.fullmatch(r"word\d{5}\.y4m", f.name)]
    assert len(pictures) == len(WORDS)
    band = burn.band_for(captions, style)
    sizes = {_read(f).size for f in pictures}
    assert len(sizes) == 1 and next(iter(sizes))[0] < band.width / 2  # one size, a word's, not the band's
    for f in pictures:
        pixels = list(_read(f).getdata())
        lit = sum(1 for p in pixels if p[3] > 200 and p[0] > 200 and p[1] > 180 and p[2] < 90)
        white = sum(1 for p in pixels if p[3] > 200 and min(p[:3]) > 230)
        assert lit > 20 and white == 0  # the word in the highlight colour, nothing of its neighbours
    listing = highlight.list_name(tmp_path).read_text()
    listed = [line.split()[1].strip("'") for line in listing.splitlines() if line.startswith("file")]
    assert [name for name in listed if "blank" not in name] == [p.name for p in pictures]  # each word's picture, in order
    assert sum(float(d) for d in re.findall(r"duration ([\d.]+)", listing)) == pytest.approx(200 / 30 + 1, abs=0.01)
    # The overlay follows the words: at each word's first frame, the position of that word's rectangle in the band.
    chains = highlight.overlay_chains("banded", "vout", "movie=words", captions, style, 30)
    x = chains[1].split("x='")[1].split("'")[0]
    for word in highlight.lit_words(captions, style, 30):
        assert _evaluate(x, word.start) == band.x + word.box[0]


def _read(path) -> Image.Image:
    """A one-frame yuva444p YUV4MPEG picture (limited range) as RGBA."""
    header, data = path.read_bytes().split(b"\nFRAME\n", 1)
    width, height = (int(field[1:]) for field in header.split()[1:3])
    planes = [Image.frombytes("L", (width, height), data[i * width * height:(i + 1) * width * height]) for i in range(4)]
    full = [planes[0].point(lambda v: round((v - 16) * 255 / 219)),
            *(p.point(lambda v: round(128 + (v - 128) * 255 / 224)) for p in planes[1:3])]
    rgb = Image.merge("YCbCr", full).convert("RGB")
    rgb.putalpha(planes[3])
    return rgb


def _evaluate(expression: str, n: int, fps: int = 30) -> int:
    """The value of a steps() expression at frame ``n``."""
    python = re.sub(r"if\(lt\(t,([\d.]+)\),", r"_if(t < \1,", expression)
    return eval(python, {"_if": lambda c, a, b: a if c else b, "t": n / fps})  # our own expression, built by steps()


def test_style_sizes_colours_and_position_follow_the_settings_and_the_project(tmp_path):
    rt = build_runtime(fast_settings(tmp_path, captions="sentences", caption_font_size=80, caption_position="top",
                                     caption_color="#00FF00"))
    look = caption_style(rt.settings, {"mode": "words", "highlight_color": "#FF0000"})
    assert (look.mode, look.font_size, look.color, look.highlight_color, look.position) == ("words", 80, "#00FF00", "#FF0000", "top")
    style = SubtitleStyle(1920, 1080, look)
    assert style.font_size == 80 and style.band_top(100) < 1080 // 4
    assert SubtitleStyle(960, 540).font_size == 28 and SubtitleStyle(1080, 1920).font_size == 64  # defaults per format
    rt.close()


def test_a_project_keeps_its_caption_choice_and_refuses_a_bad_one(tmp_path):
    rt = build_runtime(fast_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'y.db'}"))
    upgrade(rt.db)
    try:
        project = create_project(rt, "Some prose to narrate about solar power.",
                                 ProjectOptions(captions="words", caption_style={"font_size": 72}))
        assert project.captions == {"font_size": 72, "mode": "words"}
        assert create_project(rt, "More prose about solar power.").captions is None
        with pytest.raises(InvalidInput, match="captions 'karaoke'"):
            create_project(rt, "Prose.", ProjectOptions(captions="karaoke"))
        with pytest.raises(InvalidInput, match="unknown caption setting"):
            create_project(rt, "Prose.", ProjectOptions(caption_style={"glow": 3}))
    finally:
        rt.close()


def _render_words(tmp_path, size=(360, 640)):
    """A still 9:16 video of TEXT with its words lit: the spec, with its captions."""
    from tests.test_render import _tone
    from ytmaker.media import render as media

    slide = tmp_path / "slide.png"
    Image.new("RGB", size, (40, 40, 40)).save(slide)
    tone = _tone(tmp_path / "n.wav", NARRATION_S, 300)
    spec = media.RenderSpec([media.RenderSegment(slide, tone, NARRATION_S + media.TAIL_S, TEXT)], tmp_path / "v.mp4",
                            video_format="9:16", quality="draft", frame_size=size, motion=False)
    captions = burn.make_captions([TEXT], [0.0], [NARRATION_S], size, tmp_path, [WORDS], look=CaptionStyle(mode="words"))
    spec = dataclasses.replace(spec, captions=captions)
    media.render(spec, timeout_s=60)
    return spec


def test_the_rendered_video_lights_each_word_while_it_is_said(tmp_path):
    from tests.test_render import _frame

    size = (360, 640)
    spec = _render_words(tmp_path, size)

    def lit_columns(at_s: float) -> tuple[int, int]:
        frame = _frame(spec.output, at_s)
        xs = [x for x in range(size[0]) for y in range(size[1] // 2, size[1])
              if (p := frame.getpixel((x, y)))[0] > 190 and p[1] > 160 and p[2] < 110]
        return (min(xs), max(xs)) if xs else (-1, -1)

    first, second = lit_columns(0.15), lit_columns(0.45)  # "Solar", then "panels"
    assert first[0] >= 0 and second[0] >= 0
    assert second[0] > first[1] - 4  # the highlight moved on to the next word, to its right


def test_every_frame_lights_the_word_its_timing_says_never_the_last_one_at_the_next_place(tmp_path):
    """Frame by frame: the picture and the position of the lit word change on the same frame (a frame's lag drew the
    previous word's picture over the next word's place)."""
    import subprocess

    from PIL import ImageChops

    from ytmaker.media import render as media
    from ytmaker.media.ffmpeg import ffmpeg_exe

    size = (360, 640)
    spec = _render_words(tmp_path, size)
    captions = spec.captions
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(spec.output), "-vf", f"crop={size[0]}:{size[1] // 2}:0:{size[1] // 2}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frame_bytes = size[0] * (size[1] // 2) * 3
    frames = [Image.frombytes("RGB", (size[0], size[1] // 2), raw[i:i + frame_bytes]) for i in range(0, len(raw), frame_bytes)]

    def lit(frame: Image.Image) -> Image.Image:  # the highlight colour's pixels
        r, g, b = frame.split()
        return ImageChops.multiply(ImageChops.multiply(r.point(lambda v: 255 * (v > 190)), g.point(lambda v: 255 * (v > 160))),
                                   b.point(lambda v: 255 * (v < 110)))

    marks = [(m.start_s, cue.lines[m.line][m.begin:m.end]) for cue in captions.cues for m in cue.marks]
    starts = [round(t * media.FPS) for t, _ in marks] + [round(captions.cues[-1].end_s * media.FPS)]
    checked = 0
    for k, (first, end) in enumerate(itertools.pairwise(starts)):
        if end - first < 3:
            continue
        reference = lit(frames[(first + end) // 2])  # the word's own lit picture, mid-word
        lit_pixels = sum(1 for v in reference.getdata() if v)
        assert lit_pixels > 20, marks[k]
        for n in range(first, min(end, len(frames))):
            differ = sum(1 for v in ImageChops.difference(lit(frames[n]), reference).getdata() if v)
            assert differ < 0.25 * lit_pixels, f"frame {n} (word {marks[k][1]!r}, frames {first}-{end - 1}): {differ} of {lit_pixels}"
            checked += 1
    assert checked > 60
