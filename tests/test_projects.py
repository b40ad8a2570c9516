"""Creating projects: bad input gets a clear error and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ytmaker.db.models import Project
from ytmaker.errors import InvalidInput
from ytmaker.media import fonts
from ytmaker.projects import ProjectOptions, create_project


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: what these tests check (validating a project's text and options) does not depend on the database;
    the pipeline, recovery, batch, schedule and quota tests run on both (these PostgreSQL copies cost 36 s a run)."""
    return f"sqlite:///{tmp_path / 'ytmaker.db'}"


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


@pytest.mark.parametrize(("text", "language"), [
    ("Bees dance to tell the others where the flowers are, and the hive follows them to the field.", "en"),
    ("Die Bienen tanzen, um den anderen zu zeigen, wo die Blumen sind, und der Stock folgt ihnen auf das Feld.", "de"),
    ("Las abejas bailan para decir a las otras dónde están las flores, y la colmena las sigue hasta el campo.", "es"),
    ("蜜蜂用舞蹈告诉同伴花在哪里，整个蜂群就会跟着它们飞到田野里去。", "zh"),
])
def test_without_a_language_the_texts_own_is_the_projects(rt, text, language):
    assert create_project(rt, text).language == language


def test_an_asked_for_language_wins_over_the_texts(rt):
    chinese = "蜜蜂用舞蹈告诉同伴花在哪里，整个蜂群就会跟着它们飞到田野里去。"
    assert create_project(rt, chinese, ProjectOptions(language="yue")).language == "yue"
    rt.settings.language = "en"  # YTMAKER_LANGUAGE
    assert create_project(rt, chinese).language == "en"


def test_a_language_espeak_cannot_voice_is_refused_before_anything_is_stored(rt):
    khmer = "ព្រះអាទិត្យគឺជាផ្កាយដែលនៅជិតផែនដីបំផុត។ វាផ្តល់ថាមពលដល់ជីវិតនៅលើភពផែនដីរបស់យើង។"
    with pytest.raises(InvalidInput, match=r"no voice for language 'km'; it voices: .*\bcmn\b"):
        create_project(rt, khmer)
    with pytest.raises(InvalidInput, match="no voice for language 'tlh'"):
        create_project(rt, "Some text.", ProjectOptions(language="tlh"))
    assert stored(rt) == 0


def test_another_speech_provider_or_a_named_voice_is_not_held_to_espeaks_languages(rt):
    rt.settings.renderer = "instant"  # Khmer glyphs are not this test's concern
    assert create_project(rt, "Some text.", ProjectOptions(language="km", voice="en-us")).language == "km"
    rt.settings.speech_provider = "google"
    assert create_project(rt, "Some text.", ProjectOptions(language="km")).language == "km"


def test_an_edge_language_without_a_default_voice_is_refused_before_anything_is_stored(rt):
    rt.settings.speech_provider = "edge"
    with pytest.raises(InvalidInput, match="no default Edge voice for language 'tlh'; choose one with --voice"):
        create_project(rt, "Some text.", ProjectOptions(language="tlh"))
    assert stored(rt) == 0
    assert create_project(rt, "Some text.", ProjectOptions(language="tlh", voice="en-GB-SoniaNeural")).language == "tlh"


def test_a_text_no_font_can_draw_is_refused_naming_what_to_install(rt, monkeypatch, tmp_path):
    # Given no system font and no bundled font,
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(fonts, "LATIN_CANDIDATES", [str(tmp_path / "absent.ttf")])
    monkeypatch.setattr(fonts, "CJK_CANDIDATES", [str(tmp_path / "absent.ttc")])
    monkeypatch.setattr(fonts, "BUNDLED", ("ytmaker_no_such_font_package", "absent.ttc"))
    fonts.font_path.cache_clear()
    try:
        # then Chinese is refused before anything is stored, and plain English still goes through.
        with pytest.raises(InvalidInput, match="noto-cjk-sans-otc"):
            create_project(rt, "蜜蜂用舞蹈告诉同伴花在哪里，整个蜂群就会跟着它们飞到田野里去。")
        assert stored(rt) == 0
        assert create_project(rt, "Bees dance to tell the others where the flowers are.").language == "en"
    finally:
        fonts.font_path.cache_clear()
