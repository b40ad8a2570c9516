"""Numbers, dates and units rewritten as people say them, and the way back to the written offsets."""

from __future__ import annotations

import pytest

from ytmaker.spoken.numbers import normalise
from ytmaker.spoken.offsets import rewrite


@pytest.mark.parametrize(("written", "said"), [
    ("It rose 3.5%.", "It rose three point five percent."),
    ("It cost $2 billion.", "It cost two billion dollars."),
    ("Top speed in km/h.", "Top speed in kilometres per hour."),
    ("It runs at 120 km/h.", "It runs at one hundred and twenty kilometres per hour."),
    ("We counted 1,234,567 ants.", "We counted one million two hundred and thirty-four thousand five hundred and sixty-seven ants."),
    ("Pi is 3.14.", "Pi is three point one four."),
    ("The 1st and the 22nd.", "The first and the twenty-second."),
    ("In 1999 the hive grew.", "In nineteen ninety-nine the hive grew."),
    ("In 1987, 2004 and 2019 it grew.", "In nineteen eighty-seven, two thousand and four and twenty nineteen it grew."),
    ("We met 2019 people.", "We met two thousand and nineteen people."),  # a quantity, not a year
    ("From 1990-1995 it slept.", "From nineteen ninety to nineteen ninety-five it slept."),
    ("In the 1990s and the 80s.", "In the nineteen nineties and the eighties."),
    ("Meet at 9:30 or 9:05 or 9:00.", "Meet at nine thirty or nine oh five or nine o'clock."),
    ("Aged 10-20.", "Aged ten to twenty."),
    ("It weighs 1 kg, or 2 kg with 5 GB and 3 cm at 25 °C.",
     "It weighs one kilogram, or two kilograms with five gigabytes and three centimetres at twenty-five degrees Celsius."),
    ("It fell to -5°C.", "It fell to minus five degrees Celsius."),
    ("It cost $3.50, then $1.", "It cost three dollars and fifty cents, then one dollar."),
    ("On 4 July 1776.", "On the fourth of July seventeen seventy-six."),
    ("Released 2020-10-01.", "Released October first, twenty twenty."),
    ("The score was 3-2; use 5G, A4 and v3.0.1.", "The score was 3-2; use 5G, A4 and v3.0.1."),  # left to the engine
])
def test_english(written, said):
    assert normalise(written, "en").text == said


@pytest.mark.parametrize(("written", "said"), [
    ("2000年", "二零零零年"),  # a year, digit by digit
    ("两千多年前：2000多年前", "两千多年前：两千多年前"),  # a duration, counted
    ("增长了3.5%。", "增长了百分之三点五。"),
    ("投资$2 billion。", "投资二十亿美元。"),
    ("时速120km/h。", "时速一百二十公里每小时。"),
    ("单位是km/h。", "单位是公里每小时。"),
    ("共1,000人，12000人，10086人。", "共一千人，一万两千人，一万零八十六人。"),
    ("第3名，3rd。", "第三名，第三。"),
    ("9:30出发，2:00到。", "九点三十分出发，两点到。"),
    ("10-20人，10%-20%。", "十到二十人，百分之十到百分之二十。"),
    ("2个人，2公斤，2年级。", "两个人，两公斤，二年级。"),
    ("温度-5°C，25℃。", "温度零下五摄氏度，二十五摄氏度。"),
    ("2020-10-01发布，耗资¥100万。", "二零二零年十月一日发布，耗资一百万元。"),
    ("２０００年，５０％，编号007。", "二零零零年，百分之五十，编号零零七。"),  # full-width digits
])
def test_chinese(written, said):
    assert normalise(written, "zh").text == said


def test_a_text_without_numbers_or_a_language_without_rules_is_returned_as_written():
    for text, language in [("Bees swarm.", "en"), ("蜜蜂。", "zh"), ("Il y a 3 chats.", "fr")]:
        spoken = normalise(text, language)
        assert spoken.text == text and spoken.original(3) == 3


def test_spoken_offsets_lead_back_to_the_written_word():
    written = "In 1999 we paid $2 billion, 3.5% more."
    spoken = normalise(written, "en")
    for word, source in [("nineteen", "1999"), ("ninety-nine", "1999"), ("two", "$2 billion"), ("dollars", "$2 billion"),
                         ("three", "3.5%"), ("percent", "3.5%"), ("we", "we"), ("more", "more")]:
        assert spoken.original(spoken.text.index(word)) == written.index(source), word
    assert spoken.original(len(spoken.text) - 1) == len(written) - 1  # the final full stop


def test_chinese_offsets_lead_back_too():
    written = "2000年，GDP增长了3.5%。"
    spoken = normalise(written, "zh")
    assert spoken.text == "二零零零年，GDP增长了百分之三点五。"
    assert spoken.original(spoken.text.index("年")) == written.index("年")
    assert spoken.original(spoken.text.index("GDP")) == written.index("GDP")
    assert spoken.original(spoken.text.index("点")) == written.index("3.5%")


def test_rewrite_keeps_copied_pieces_character_for_character():
    spoken = rewrite("ab12cd", [(2, 4, "twelve")])
    assert spoken.text == "abtwelvecd"
    assert [spoken.original(i) for i in range(len(spoken.text))] == [0, 1, 2, 2, 2, 2, 2, 2, 4, 5]
