"""Markdown read as ytmaker text: what is said aloud, and what never is (code, tables, images, HTML, front matter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ytmaker.errors import InvalidInput
from ytmaker.sources.markdown import as_sentence, from_markdown, join_lines
from ytmaker.text import sections

# The shape of the bug: this project's README, whose fenced diagram was narrated box by box
README_LIKE = """\
# ytmaker

[![build](https://img.shields.io/badge/build-passing-green.svg)](https://ci.example.com) [![pypi](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/x)

ytmaker turns a piece of text into a narrated video and publishes it.
It is a [Dramatiq](https://dramatiq.io) actor pipeline: each stage is an actor on its own queue.

```
generate_script ─┬─ generate_images  ─┐
   (scripts)     ├─ generate_audio   ─┼─ render_video ── upload_to_youtube
                 └─ generate_avatars ─┘
```

## On a fresh machine

Make a video from the example:

```sh
python3 -m venv .venv && .venv/bin/pip install -e '.[test]'
```

<img src="docs/img/frame.jpg" alt="a frame" height="200">

| command | what it does |
|---|---|
| `ytmaker make FILE` | create a project and make its video |
"""


def test_a_readme_with_a_fenced_diagram_reads_its_prose_and_not_its_diagram() -> None:
    source = from_markdown(README_LIKE)

    assert source.kind == "markdown"
    assert source.title == "ytmaker"
    assert source.text == (
        "# ytmaker\n\n"
        "ytmaker turns a piece of text into a narrated video and publishes it. "
        "It is a Dramatiq actor pipeline: each stage is an actor on its own queue.\n\n"
        "# On a fresh machine\n\n"
        "Make a video from the example:"
    )
    for unspoken in ("─", "generate_script", "pip install", "<img", "frame.jpg", "build", "shields", "ytmaker make FILE", "|", "https://"):
        assert unspoken not in source.text


def test_the_projects_own_readme_has_no_diagram_or_table_left() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    source = from_markdown(readme.read_text(encoding="utf-8"))

    assert source.title == "ytmaker" and source.text.startswith("# ytmaker\n\n")
    assert not any(c in source.text for c in "─┬┼┘│")
    assert "```" not in source.text and "<img" not in source.text


def test_indented_code_an_image_html_blocks_and_comments_are_not_read() -> None:
    text = """\
Before the code.

    def hidden():
        return "indented code"

![a chart of prices](chart.png) After the image.

<!-- a note to the editor -->

<div class="banner">Subscribe now</div>

After the HTML, with an inline <!-- remark --> comment and <b>bold</b> tag,<br>and a break.
"""
    assert from_markdown(text).text == (
        "Before the code.\n\nAfter the image.\n\nAfter the HTML, with an inline comment and bold tag, and a break."
    )


def test_yaml_front_matter_gives_the_title_and_is_not_read() -> None:
    text = '---\ntitle: "Why bridges sway"\nauthor: Ann\ntags: [wind, steel]\n---\n\nBridges move in the wind.\n'
    source = from_markdown(text)

    assert source.title == "Why bridges sway"
    assert source.text == "# Why bridges sway\n\nBridges move in the wind."


def test_toml_front_matter_is_dropped_and_an_h1_equal_to_its_title_is_not_repeated() -> None:
    text = '+++\ntitle = "Tides"\ndate = 2026-01-02\n+++\n# Tides\n\nThe moon pulls the sea.\n'
    assert from_markdown(text).text == "# Tides\n\nThe moon pulls the sea."


def test_a_first_h1_is_the_title_and_every_heading_level_is_a_hash_line() -> None:
    text = "Intro sentence.\n\nTitle Here\n==========\n\n## Part *one*\n\nText.\n\n#### Deep `level`\n\nMore text.\n"
    source = from_markdown(text)

    assert source.title == "Title Here"
    assert source.text == "# Title Here\n\nIntro sentence.\n\n# Part one\n\nText.\n\n# Deep level\n\nMore text."
    assert [s.heading for s in sections(source.text)] == ["Title Here", "Part one", "Deep level"]


def test_a_document_opening_on_an_h2_has_no_title() -> None:
    source = from_markdown("## Overview\n\nText.\n\n# Appendix\n\nMore.\n")

    assert source.title is None
    assert source.text == "# Overview\n\nText.\n\n# Appendix\n\nMore."


def test_link_text_is_kept_and_urls_autolinks_and_bare_urls_are_dropped() -> None:
    text = ("Read [the guide](https://example.com/guide \"Guide\") first, or see <https://example.com/faq> and "
            "https://example.com/bare (www.example.org). Mail <team@example.com> or [https://example.com](https://example.com).")
    assert from_markdown(text).text == "Read the guide first, or see and. Mail or."


def test_emphasis_marks_go_and_inline_code_stays_as_text() -> None:
    text = "Some **bold**, *italic*, __strong__, ~~struck~~ and `inline code` words.\\\nA hard break."
    assert from_markdown(text).text == "Some bold, italic, strong, struck and inline code words. A hard break."


def test_list_items_are_sentences_nested_ones_included() -> None:
    text = """\
What you need:

- a kettle
- water, cold!
- tea leaves:
  1. green
  2. black tea
- [x] a cup

Then wait.
"""
    assert from_markdown(text).text == (
        "What you need:\n\na kettle.\nwater, cold!\ntea leaves:\ngreen.\nblack tea.\na cup.\n\nThen wait."
    )


def test_chinese_list_items_end_with_a_chinese_full_stop_and_chinese_lines_join_without_a_space() -> None:
    text = "# 竹子\n\n竹子生长很快，\n在中国南方很常见。\n\n- 可以建房子\n- 可以做筷子，\n- 熊猫吃竹子。\n"
    source = from_markdown(text)

    assert source.title == "竹子"
    assert source.text == "# 竹子\n\n竹子生长很快，在中国南方很常见。\n\n可以建房子。\n可以做筷子。\n熊猫吃竹子。"


def test_blockquotes_are_read_as_paragraphs_and_tables_inside_lists_are_dropped() -> None:
    text = "> A quoted\n> thought.\n>\n> Another one.\n\n- item\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n"
    assert from_markdown(text).text == "A quoted thought.\n\nAnother one.\n\nitem."


def test_markdown_with_nothing_to_say_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match="nothing to narrate"):
        from_markdown("```\ncode only\n```\n\n| a |\n|---|\n| 1 |\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("an item", "an item."), ("done.", "done."), ("really?", "really?"), ('he said "go."', 'he said "go."'),
    ("a list,", "a list."), ("喝茶", "喝茶。"), ("喝茶，", "喝茶。"), ("好！", "好！"), ("", ""),
])
def test_as_sentence(text: str, expected: str) -> None:
    assert as_sentence(text) == expected


def test_join_lines_puts_a_space_between_words_and_none_between_cjk_characters() -> None:
    assert join_lines("one\ntwo\n  three") == "one two three"
    assert join_lines("中文\n句子\nEnglish\n中文") == "中文句子 English 中文"
