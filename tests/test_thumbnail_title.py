"""The thumbnail's title: legible at YouTube's 168x94, at most three lines, over the picture that matches it."""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from ytmaker.media.fonts import load_font
from ytmaker.media.thumbnail import (
    MAX_LINES,
    MIN_CAP_PX,
    MIN_CJK_PX,
    MIN_CONTRAST,
    SIZE,
    SMALL_SIZE,
    VERTICAL_SIZE,
    backdrop,
    compose,
    make_thumbnail,
    title_layout,
)
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.slides import SlideImages
from ytmaker.stages.thumbnail import rank_segments, slide_background

TITLES = ["Why solar power got cheap", "How the humble shipping container quietly rebuilt the entire world economy",
          "大熊猫为什么只吃竹子", "大熊猫是中国特有的动物，主要生活在四川、陕西和甘肃的山区"]


def _wcag(rgb: tuple[float, ...]) -> float:
    """WCAG's relative luminance of an sRGB colour (0-255 channels), computed here independently of the module."""
    def linear(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _slide_with_text(size: tuple[int, int]) -> Image.Image:
    """The worst picture for a title: bright, with big black text of its own across the middle and bottom."""
    height = size[1]
    image = Image.new("RGB", size, (235, 235, 225))
    draw = ImageDraw.Draw(image)
    font = load_font(height // 9)
    for row in range(3, 9):
        draw.text((20, row * height // 10), "Panels · Inverters · Grid " * 3, font=font, fill=(10, 10, 10))
    return image


PICTURES = {
    "white": lambda size: Image.new("RGB", size, (255, 255, 255)),
    "noise": lambda size: Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)),
    "slide with text": _slide_with_text,
}


@pytest.mark.parametrize("picture", PICTURES)
@pytest.mark.parametrize("title", TITLES)
def test_the_title_reads_at_168x94_high_enough_and_in_contrast(title, picture):
    # Given a picture (blank white, noise, or bright with text of its own) and a title,
    frame = PICTURES[picture](SIZE)
    layout = title_layout(title, SIZE)
    # when the thumbnail is shown at YouTube's smallest size,
    shown = compose(frame, title).resize(SMALL_SIZE, Image.Resampling.LANCZOS)
    behind = backdrop(frame, layout).resize(SMALL_SIZE, Image.Resampling.LANCZOS)
    ink = ImageChops.difference(shown, behind).convert("L").point(lambda v: 255 if v > 60 else 0)
    # then each line's letters stand at least so many pixels high there,
    scale = SMALL_SIZE[0] / SIZE[0]
    least = MIN_CJK_PX if "熊" in title else MIN_CAP_PX
    assert layout.cap_height() * scale >= least
    for i in range(len(layout.lines)):
        top = round((layout.top + i * layout.line_height) * scale)
        band = ink.crop((0, top, SMALL_SIZE[0], round(top + layout.line_height * scale)))
        rows = [y for y in range(band.height) if band.crop((0, y, band.width, y + 1)).getbbox()]
        # (the least itself: a line of Noto Sans CJK set at the floor, whose 国 is 12.1 px, leaves 12 rows of ink; a font
        # whose characters overshoot 国's box, as WenQuanYi's do, leaves more)
        assert rows and rows[-1] - rows[0] + 1 >= least, f"line {i} is {len(rows)} px high"
    # and the title's white has at least MIN_CONTRAST (WCAG) against the brightest of what is behind its letters.
    text_pixels = [shown.getpixel((x, y)) for y in range(ink.height) for x in range(ink.width) if ink.getpixel((x, y))]
    back_pixels = [behind.getpixel((x, y)) for y in range(ink.height) for x in range(ink.width) if ink.getpixel((x, y))]
    title_white = sorted(_wcag(p) for p in text_pixels)[int(0.9 * len(text_pixels))]
    brightest_behind = sorted(_wcag(p) for p in back_pixels)[int(0.95 * len(back_pixels))]
    assert (title_white + 0.05) / (brightest_behind + 0.05) >= MIN_CONTRAST


def test_the_picture_is_dimmed_behind_the_title_only_as_much_as_needed():
    # A dark picture needs no more than the constant dimming; a white one is darkened a lot more.
    title = "Why solar power got cheap"
    layout = title_layout(title)
    box = layout.box
    dark = backdrop(Image.new("RGB", SIZE, (40, 40, 40)), layout).crop(box)
    white = backdrop(Image.new("RGB", SIZE, (255, 255, 255)), layout).crop(box)
    assert ImageStat.Stat(dark.convert("L")).mean[0] > 25
    assert ImageStat.Stat(white.convert("L")).mean[0] < 110


def test_the_pictures_own_text_is_blurred_away_behind_the_title():
    # Given a slide whose text runs under where the title goes,
    frame = _slide_with_text(SIZE)
    layout = title_layout("Why solar power got cheap")
    # when it becomes the backdrop, the sharp edges of its letters are gone there.
    def edges(image: Image.Image) -> float:
        return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES).crop(layout.box)).mean[0]

    assert edges(backdrop(frame, layout)) < edges(frame) / 10


@pytest.mark.parametrize("title", [
    "The surprisingly long and winding story of how a tiny metal box standardised global trade forever and ever",
    "为什么大熊猫几乎只吃竹子？一只成年熊猫每天要花十几个小时进食，吃掉十几公斤竹子，然后找一个舒服的地方睡觉",
])
@pytest.mark.parametrize("size", [SIZE, VERTICAL_SIZE])
def test_a_long_title_takes_three_lines_within_the_frame_and_ends_in_an_ellipsis(title, size):
    layout = title_layout(title, size)
    assert len(layout.lines) == MAX_LINES
    assert layout.lines[-1].endswith("…") and not layout.lines[-1].endswith((" …", "the…"))
    left, top, right, bottom = layout.box
    assert left >= 0 and right <= size[0] and top >= 0 and bottom <= size[1]


def test_a_short_title_is_set_larger_than_a_long_one_and_on_fewer_lines():
    medium = "How the shipping container rebuilt the world economy"
    short, long = title_layout("Solar, explained"), title_layout(medium)
    assert len(short.lines) == 1 and short.font.size > long.font.size and len(long.lines) > 1
    assert " ".join(long.lines) == medium  # nothing cut when it fits


def test_a_chinese_title_breaks_after_its_commas_not_inside_a_word():
    layout = title_layout(TITLES[3])
    assert layout.lines == ["大熊猫是中国特有的动物，", "主要生活在四川、", "陕西和甘肃的山区"]


def test_an_english_title_is_balanced_over_its_lines():
    layout = title_layout("Why solar power got cheap")
    assert layout.lines == ["Why solar power", "got cheap"]


# --- the picture that matches the title ------------------------------------------------------------

SEGMENTS = [
    {"narration": "Twenty years ago electricity cost a lot, and coal plants were everywhere.", "image_description": "x"},
    {"narration": "Solar power got cheaper as factories grew and solar panels became thinner.", "image_description": "x"},
    {"narration": "The sun sets every evening, so batteries are the next big story.", "image_description": "x"},
]


def test_the_segment_that_shares_the_titles_phrases_is_picked_not_the_last():
    assert rank_segments("Why solar power got cheap", SEGMENTS) == [1]


def test_a_segments_headline_counts_and_ties_keep_every_candidate():
    segments = [{**s, "headline": "Batteries"} if i == 0 else s for i, s in enumerate(SEGMENTS)]
    assert rank_segments("Why batteries are next", segments) == [0, 2]  # 0 by its headline, 2 by its narration
    assert rank_segments("Knitting for beginners", SEGMENTS) == [0, 1, 2]  # nothing shared: all, the most detailed wins
    assert rank_segments("大熊猫吃竹子", [{"narration": "熊猫宝宝很小。"}, {"narration": "大熊猫几乎只吃竹子。"}]) == [1]


def test_under_offline_slides_the_thumbnail_takes_the_slides_background_without_its_words(tmp_path):
    segment = {"narration": "Solar power got cheap.", "image_description": "An illustration of solar panels."}
    slide = tmp_path / "slide.png"
    SlideImages().generate(ImageRequest(2, segment["image_description"], "Solar panels", "Why solar power got cheap",
                                        1280, 720, "16:9"), slide)
    background = slide_background("Why solar power got cheap", 2, segment, "16:9", tmp_path)
    with Image.open(slide) as drawn, Image.open(background) as bare:
        assert drawn.getpixel((5, 5)) == bare.getpixel((5, 5))  # the same gradient: the same slide's palette
        band = (160, 250, 1120, 420)  # where the slide sets its headline, in white
        assert max(ImageStat.Stat(drawn.crop(band).convert("L")).extrema[0]) > 240
        assert max(ImageStat.Stat(bare.crop(band).convert("L")).extrema[0]) < 120


@pytest.mark.parametrize("size", [SIZE, VERTICAL_SIZE])
def test_a_title_over_a_plain_background_is_centred_and_over_a_picture_set_low(size):
    low, centred = title_layout("How the bicycle reshaped the city", size), title_layout("How the bicycle reshaped the city",
                                                                                       size, centred=True)
    assert low.lines == centred.lines and low.font.size == centred.font.size
    top, bottom = centred.box[1], centred.box[3]
    assert abs((top + bottom) / 2 - size[1] / 2) < 0.05 * size[1]
    assert low.box[3] > size[1] * 0.7


def test_the_thumbnail_is_made_from_the_still_it_is_given(tmp_path):
    # Given the matching segment's plain red still (the stage passes only the matching ones),
    red = tmp_path / "red.png"
    Image.new("RGB", (1920, 1080), (200, 30, 30)).save(red)
    out = tmp_path / "t.jpg"
    make_thumbnail(tmp_path / "unused.mp4", 10.0, "Solar", out, stills=[red])
    # the thumbnail's top (above the title) is that red, softened and darkened.
    with Image.open(out) as image:
        r, g, b = ImageStat.Stat(image.crop((0, 0, 1280, 200))).mean
    assert r > 120 and g < 40 and b < 40
