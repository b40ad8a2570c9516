"""YouTube chapters in the description, from the text's headings, at the render's own times."""

from __future__ import annotations

import json
import re

from tests.test_stages import run_all
from ytmaker.projects import create_project
from ytmaker.stages.chapters import chapters

SEGMENTS = [{"narration": "Bicycles.", "headline": "Bicycles"},
            {"narration": "In 1885 the Rover was built.", "headline": "Rover"},
            {"narration": "Roads before cars. Cyclists asked for smooth roads.", "headline": "Roads before cars"},
            {"narration": "Who rides today? Cities such as Copenhagen.", "headline": "Who rides today?"},
            {"narration": "走进城市。今天的城市有很多自行车。", "headline": "走进城市"}]


def test_a_chapter_starts_where_a_segment_says_its_heading_first_and_youtube_rules_hold():
    assert chapters("Bicycles", SEGMENTS, [0.0, 2.5, 14.2, 31.0, 75.9], 130.0) == [
        "0:00 Bicycles", "0:14 Roads before cars", "0:31 Who rides today?", "1:15 走进城市"]  # not "Rover": not said first
    # a section 5.8 s after the one before stays in it; a title card alone gives 0:00 to the first section
    assert chapters("Bicycles", SEGMENTS, [0.0, 2.5, 14.2, 20.0, 75.9], 130.0) == [
        "0:00 Bicycles", "0:14 Roads before cars", "1:15 走进城市"]
    assert chapters("Bicycles", SEGMENTS, [0.0, 1.0, 1.0, 31.0, 75.9], 130.0) == [
        "0:00 Roads before cars", "0:31 Who rides today?", "1:15 走进城市"]
    assert chapters("Bicycles", SEGMENTS, [0.0, 2.5, 14.2, 31.0, 75.9], 80.0) == [  # the last under 10 s
        "0:00 Bicycles", "0:14 Roads before cars", "0:31 Who rides today?"]
    assert chapters("Bicycles", SEGMENTS[:3], [0.0, 2.5, 14.2], 60.0) == []  # two chapters: YouTube shows none
    assert chapters("Bicycles", SEGMENTS, [0.0, 2.5, 14.2, 31.0, 3700.0], 3800.0)[-1] == "1:01:40 走进城市"


SECTION = ("{} was a topic people argued about for many years in towns and villages across the whole country, "
           "and the newspapers of the time printed long letters from readers who wanted to be heard on it.")
TEXT = "# Cycling\n\n" + "\n\n".join(f"## {h}\n\n{SECTION.format(h)} {SECTION.format('It')}"
                                    for h in ("Roads before cars", "Freedom on two wheels", "The comeback"))


def test_a_text_with_headings_is_published_with_its_chapters_at_the_subtitles_times(rt, stub_broker):
    project = create_project(rt, TEXT)
    run_all(rt, project.id)
    folder = next((rt.data_dir / "published").iterdir())
    description = json.loads((folder / "metadata.json").read_text())["description"]
    marks = re.findall(r"^(\d+):(\d\d) (.+)$", description, re.MULTILINE)
    # "# Cycling" is the title card alone (1 s): the first section's chapter starts at 0:00
    assert [m[2] for m in marks] == ["Roads before cars", "Freedom on two wheels", "The comeback"]
    assert marks[0][:2] == ("0", "00")
    assert description.rstrip().endswith("Made with ytmaker.")  # the chapters sit before it
    assert description.startswith("Roads before cars was a topic")  # the opening prose, not the heading said alone
    srt = (rt.path(f"projects/{project.id}") / "subtitles.srt").read_text()
    for minutes, seconds, heading in marks[1:]:
        start = re.search(r"(\d\d):(\d\d):(\d\d),\d{3} --> .*\n" + re.escape(heading) + r"\.", srt)
        assert start, heading
        assert int(start[1]) * 3600 + int(start[2]) * 60 + int(start[3]) == int(minutes) * 60 + int(seconds)
