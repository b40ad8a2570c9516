"""Creating projects: bad input gets a clear error and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ytmaker.db.models import Project
from ytmaker.errors import InvalidInput
from ytmaker.projects import ProjectOptions, create_project


def stored(rt) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Project))


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "empty"),
    (b"   \n\t  \n", "empty"),
    (b"\xff\xfe\xfa not utf8", "not valid UTF-8"),
    (b"\x00\x01\x02binary", "binary"),
    ("x" * 300_000, "limit is 200,000"),
])
def test_bad_text_is_refused_with_a_reason_and_nothing_is_stored(rt, raw, message):
    with pytest.raises(InvalidInput, match=message):
        create_project(rt, raw)
    assert stored(rt) == 0


def test_bad_options_are_refused(rt):
    with pytest.raises(InvalidInput, match="format"):
        create_project(rt, "Some text.", ProjectOptions(video_format="4:3"))
    with pytest.raises(InvalidInput, match="publish target"):
        create_project(rt, "Some text.", ProjectOptions(publish_target="ftp"))
    assert stored(rt) == 0


def test_a_valid_project_keeps_its_options(rt):
    project = create_project(rt, "Emoji 🐝 and עברית text.\n".encode(),
                             ProjectOptions(title="A/B; rm -rf *", language="he", video_format="9:16"))
    with rt.db.session() as session:
        row = session.get(Project, project.id)
    assert (row.title, row.language, row.video_format, row.status) == ("A/B; rm -rf *", "he", "9:16", "queued")
    assert row.content.startswith("Emoji 🐝")


def test_a_vertical_video_is_a_minute_unless_asked_and_a_wide_one_as_long_as_its_text(rt):
    assert create_project(rt, "Bees dance.", ProjectOptions(video_format="9:16")).max_duration_s == 60
    assert create_project(rt, "Bees dance.", ProjectOptions(video_format="9:16", max_duration_s=0)).max_duration_s is None
    assert create_project(rt, "Bees dance.", ProjectOptions(video_format="16:9")).max_duration_s is None
    assert create_project(rt, "Bees dance.", ProjectOptions(max_duration_s=90)).max_duration_s == 90


@pytest.mark.parametrize("seconds", [3, -5, 10 ** 9])
def test_a_length_out_of_range_is_refused_and_nothing_is_stored(rt, seconds):
    with pytest.raises(InvalidInput, match="max duration"):
        create_project(rt, "Bees dance.", ProjectOptions(max_duration_s=seconds))
    assert stored(rt) == 0
