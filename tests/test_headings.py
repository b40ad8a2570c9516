"""Titles and headings in the offline writer, the length it keeps, and the title card a slide draws."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from PIL import Image

from ytmaker import text
from ytmaker.media.pacing import SPEECH_MARGIN, video_seconds
from ytmaker.providers.base import ImageRequest, ScriptRequest
from ytmaker.providers.espeak import EspeakSpeech, find_voice
from ytmaker.providers.offline_writer import OfflineScriptWriter
from ytmaker.providers.slides import SlideImages

EXAMPLES = Path(__file__).parent.parent / "examples"


def write(content: str, *, title: str | None = None, language: str = "en", max_duration_s: float | None = None,
          max_segments: int = 40):
    request = ScriptRequest(content=content, title=title, language=language, prompt_template="default", model="m",
                            max_segments=max_segments, max_duration_s=max_duration_s)
    return OfflineScriptWriter().write(request, lambda p, m: None)


BODY = ("Owls hunt at night with silent wings. Their feathers have soft fringes that break up the noise of the air.\n\n"
        "Their eyes face forward and cannot move, so an owl turns its whole head to look around.")


@pytest.mark.parametrize("heading", ["Why owls fly silently", "# Why owls fly silently", "## Why owls fly silently ##"])
def test_a_first_heading_is_the_title_said_on_its_own_and_not_run_into_the_first_sentence(heading):
    draft = write(f"{heading}\n\n{BODY}")

    assert draft.title == "Why owls fly silently"
    title, first = draft.segments[0], draft.segments[1]
    assert title.narration == "Why owls fly silently." and title.headline == "Why owls fly silently"
    assert first.narration.startswith("Owls hunt at night")
    assert "silently Owls" not in " ".join(s.narration for s in draft.segments)


def test_a_markdown_heading_needs_no_blank_line_and_a_given_title_wins_over_it():
    draft = write("# Owls\nOwls hunt at night with silent wings.", title="Night hunters")
    assert draft.title == "Night hunters"
    assert draft.segments[0].narration == "Night hunters."
    assert draft.segments[1].narration.startswith("Owls. Owls hunt at night")  # the heading now opens a section


def test_later_headings_start_a_segment_and_are_its_headline():
    content = f"Owls\n\n{BODY}\n\n## Where owls live\n\nBarn owls nest in old barns and church towers."
    draft = write(content)
    narrations = [s.narration for s in draft.segments]
    assert narrations[-1] == "Where owls live. Barn owls nest in old barns and church towers."
    assert draft.segments[-1].headline == "Where owls live"
    assert text.sections(content)[-1] == text.Section("Where owls live", "Barn owls nest in old barns and church towers.")


def test_a_short_line_with_a_full_stop_or_at_the_end_is_prose_not_a_heading():
    assert text.sections("It was late.\n\nThe owl woke up.")[0].heading is None
    assert text.sections("The owl woke up.\n\nThe end")[-1].heading is None
    assert text.sections("- a list item\n\nMore text.")[0].heading is None


def test_a_text_without_heading_gets_a_short_title_shown_not_said():
    draft = write(BODY)
    assert draft.title == "Owls hunt at night with silent wings"
    assert draft.segments[0].narration.startswith("Owls hunt at night")  # not said twice
    assert draft.segments[0].headline == draft.title  # the first slide is the title card


def test_a_long_first_sentence_gives_a_keyphrase_title():
    long = ("The extraordinary and thoroughly documented migratory behaviour of the arctic tern takes it from pole to pole "
            "every year. Arctic terns see more daylight than any other animal.")
    draft = write(long)
    assert len(draft.title) <= 60 and draft.title.lower().startswith("arctic tern")


def test_a_long_first_clause_is_cut_where_the_sentence_turns_at_a_conjunction():
    draft = write("Solar panels got cheap because factories learned to make them at an enormous scale. "
                  "Every doubling of production cut the price by a fifth.")
    assert draft.title == "Solar panels got cheap"


def test_chinese_without_heading_gets_a_title_of_its_first_clause_not_its_first_sentence():
    draft = write((EXAMPLES / "pandas-zh.txt").read_text(encoding="utf-8"), language="zh")
    assert draft.title == "大熊猫是中国特有的动物"
    assert len(draft.title) <= 16


def test_chinese_heading_is_the_title_and_a_long_first_clause_gives_a_keyphrase():
    draft = write("熊猫的一天\n\n熊猫每天吃很多竹子。吃饱以后它们睡觉。", language="zh")
    assert draft.title == "熊猫的一天" and draft.segments[0].narration == "熊猫的一天。"
    assert draft.segments[1].narration == "熊猫每天吃很多竹子。吃饱以后它们睡觉。"
    long = "在四川和陕西的高山竹林里生活着一种黑白相间的大熊猫它们每天都要吃很多竹子。大熊猫喜欢竹子。"
    assert write(long, language="zh").title == "大熊猫"


def test_a_long_chinese_first_clause_that_says_what_a_thing_is_gives_that_thing_as_title():
    draft = write("丝绸之路是古代连接中国与地中海世界的贸易网络。张骞出使西域，中国的丝绸运往罗马。"
                  "中国的瓷器也运往西方，中国的茶叶更是远销各地。", language="zh")
    assert draft.title == "丝绸之路"  # not 中国, the most frequent word
    assert "中国" in draft.tags and "丝绸之路" in draft.tags  # 丝绸之路 is a set phrase (l), now a noun
    assert not any(tag.startswith("运往") for tag in draft.tags)  # a verb jieba tags as a noun is not a tag


def test_a_length_keeps_the_opening_and_the_most_central_parts_in_text_order():
    # Paragraphs of 21-25 words: each is a segment of its own (about 8-10 s of speech).
    topic = ("Solar panels turn sunlight into electricity on {}. Cheap solar panels and cheap electricity storage now power "
             "homes, schools and factories.")
    aside = "My cousin {} once visited a museum of old clocks in the mountains and bought a wooden whistle shaped like a bird."
    paragraphs = ["Cities are changing how they get their electricity. More of it comes from solar panels every year, and less of it "
                  "from coal.", aside.format("Ann"), topic.format("rooftops"), aside.format("Bo"), topic.format("farms"),
                  aside.format("Cy")]
    content = "\n\n".join(paragraphs)
    whole = write(content)
    short = write(content, max_duration_s=30)

    assert len(whole.segments) == 6 and "Shortened" not in whole.description
    kept = [s.narration for s in short.segments]
    assert kept[0] == paragraphs[0]  # the opening
    assert kept[1:] == [paragraphs[2], paragraphs[4]]  # the central ones, in text order
    assert video_seconds([text.speech_seconds(n) * SPEECH_MARGIN for n in kept]) <= 30  # pauses and tail counted
    assert "Shortened to about" in short.description and "3 of the text's 6 parts" in short.description


def test_the_length_counts_the_spoken_title_and_keeps_at_least_the_opening():
    draft = write("# A title that is said\n\n" + BODY, max_duration_s=5)
    assert [s.narration for s in draft.segments][:2] == ["A title that is said.", BODY.split("\n\n")[0]]
    assert len(draft.segments) == 2


@pytest.mark.parametrize(("name", "language", "limit"), [("solar-power.txt", "en", 60), ("pandas-zh.txt", "zh", 60)])
def test_the_examples_fit_their_length_in_text_order(name, language, limit):
    content = (EXAMPLES / name).read_text(encoding="utf-8")
    whole = write(content, language=language)
    short = write(content, language=language, max_duration_s=30)
    order = [s.narration for s in whole.segments]
    assert [order.index(s.narration) for s in short.segments] == sorted(order.index(s.narration) for s in short.segments)
    assert video_seconds([text.speech_seconds(s.narration) * SPEECH_MARGIN for s in short.segments]) <= 30
    assert len(short.segments) < len(whole.segments)


def test_a_length_holds_for_the_speech_espeak_makes_pauses_and_tail_included(tmp_path):
    # A 9:16 video defaults to 60 s. The tea text's three parts were estimated at 59.4 s with their pauses, and
    # came out 61.3 s long: espeak spoke 2.5 % slower than the estimate, and the last pause is the 0.8 s tail.
    content = ("茶起源于中国，已经有几千年的历史。最早人们把茶叶当作药物，后来才慢慢变成日常饮品。唐朝时，陆羽写了《茶经》，"
               "第一次系统地记录了种茶、制茶和饮茶的方法。宋朝流行点茶，人们把茶叶磨成粉，用热水冲调，还会比赛谁的茶沫更白更细。"
               "明朝以后，散茶逐渐取代了茶饼，泡茶的方式一直沿用到今天。茶叶也沿着丝绸之路和海上航线传到世界各地，英国人的下午茶、"
               "日本的茶道，都和中国茶有着密切的关系。今天，中国仍然是世界上最大的产茶国，绿茶、红茶、乌龙茶和普洱茶各有各的味道。")
    draft = write(content, language="zh", max_duration_s=60)
    speech = EspeakSpeech()
    said = []
    for i, segment in enumerate(draft.segments):
        speech.synthesize(segment.narration, language="zh", voice=find_voice("zh"), out=tmp_path / f"{i}.wav")
        with wave.open(str(tmp_path / f"{i}.wav")) as audio:
            said.append(audio.getnframes() / audio.getframerate())
    assert video_seconds(said) <= 60, said
    assert "内容已缩短为约" in draft.description


def test_speech_time_matches_espeak_on_the_examples():
    # Measured with ytmaker.providers.espeak: the solar text's body takes 54.6 s, the pandas text 66.6 s.
    solar = (EXAMPLES / "solar-power.txt").read_text(encoding="utf-8").split("\n\n", 1)[1]
    pandas = (EXAMPLES / "pandas-zh.txt").read_text(encoding="utf-8")
    assert text.speech_seconds(solar) == pytest.approx(54.6, rel=0.1)
    assert text.speech_seconds(pandas) == pytest.approx(66.6, rel=0.1)


@pytest.mark.parametrize("size", [(640, 360), (360, 640)])
def test_the_opening_slide_whose_headline_is_the_title_is_a_title_card(tmp_path, size):
    card = ImageRequest(index=0, description="d", caption="Why solar power got cheap", topic="Why solar power got cheap",
                        width=size[0], height=size[1], aspect_ratio="16:9")
    slide = ImageRequest(index=0, description="d", caption="Electricity", topic="Why solar power got cheap",
                         width=size[0], height=size[1], aspect_ratio="16:9")
    assert card.title_card and not slide.title_card
    assert not ImageRequest(index=1, description="d", caption="T", topic="T", width=9, height=9, aspect_ratio="16:9").title_card
    SlideImages().generate(card, tmp_path / "card.png")
    SlideImages().generate(slide, tmp_path / "slide.png")

    def white_rows(path):
        image = Image.open(path).convert("RGB")
        return {y for y in range(image.height) for x in range(0, image.width, 2) if image.getpixel((x, y)) == (255, 255, 255)}

    card_rows, slide_rows = white_rows(tmp_path / "card.png"), white_rows(tmp_path / "slide.png")
    assert card_rows, "the title is drawn"
    assert len(card_rows) > len(slide_rows)  # the title, large and in several words, against a one-word headline
    assert max(card_rows) < 0.75 * size[1]  # above the subtitles


def test_a_shortened_chinese_text_says_so_in_chinese():
    content = (EXAMPLES / "pandas-zh.txt").read_text(encoding="utf-8")
    short = write(content, language="zh", max_duration_s=30)
    assert "内容已缩短为约" in short.description and "Shortened" not in short.description
