"""One greedy wrapper (ytmaker.text.wrap) for thumbnails, slides and subtitles."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ytmaker.media.draw import fit, text_width, wrap_lines
from ytmaker.media.fonts import load_font
from ytmaker.providers.slides import SEPARATOR, _wrap_phrases
from ytmaker.text import wrap


def test_latin_breaks_between_words():
    assert wrap("the quick brown fox jumps", 10, len) == ["the quick", "brown fox", "jumps"]


def test_a_word_wider_than_the_line_gets_a_line_of_its_own():
    assert wrap("a extraordinarily b", 5, len) == ["a", "extraordinarily", "b"]


def test_chinese_breaks_between_characters_but_not_before_closing_punctuation():
    assert wrap("太阳能发电很便宜", 3, len) == ["太阳能", "发电很", "便宜"]
    assert wrap("太阳能，发电。", 3, len) == ["太阳能，", "发电。"]


def test_a_separator_is_the_only_break():
    assert wrap("Solar · Panels · Prices", 16, len, separator=SEPARATOR) == ["Solar · Panels", "Prices"]


def test_nothing_to_wrap_is_no_lines():
    assert wrap("", 10, len) == [] and wrap("   ", 10, len) == []


def test_cut_lines_end_in_an_ellipsis():
    assert fit(["one", "two,", "three"], 2) == ["one", "two…"]
    assert fit(["one", "two"], 2) == ["one", "two"]


def test_drawn_lines_fit_the_width_in_english_and_chinese():
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    for text, cjk in (("Why solar power got so cheap in only twenty years", False),
                      ("为什么太阳能发电在过去二十年里变得这么便宜", True)):
        font = load_font(60, cjk=cjk)
        lines = wrap_lines(draw, text, font, 500, 10)
        assert len(lines) > 1
        assert all(draw.textlength(line, font=font) <= 500 for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_headline_breaks_between_its_phrases_first():
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = load_font(40)
    headline = "Manufacturing · Production · Factories"
    width = int(text_width(draw, font)("Manufacturing · Production")) + 2

    assert _wrap_phrases(draw, headline, font, width) == ["Manufacturing · Production", "Factories"]
    assert _wrap_phrases(draw, "Manufacturing", font, 10) == ["Manufacturing"]
