"""`ytmaker doctor`: each stage's provider and each dependency, usable or not, with what to do."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest
from typer.testing import CliRunner

from tests.conftest import fast_settings
from ytmaker.cli import app
from ytmaker.doctor import check_media, check_services, check_stages, run_checks
from ytmaker.providers.youtube_auth import TokenStore


@pytest.fixture(autouse=True)
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def by_name(checks):
    return {check.what: check for check in checks}


def test_the_offline_defaults_are_usable_and_the_command_exits_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")

    result = CliRunner().invoke(app, ["doctor"])

    assert result.exit_code == 0, result.output
    for name in ("script", "images", "audio", "avatars", "upload", "ffmpeg", "font", "redis", "database"):
        assert f"\n│ {name} " in result.output or f"│ {name}" in result.output
    assert "NO" not in result.output


def test_missing_keys_and_an_unreachable_redis_fail_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("YTMAKER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YTMAKER_SCRIPT_PROVIDER", "gemini")
    monkeypatch.setenv("YTMAKER_REDIS_URL", "redis://:hunter2secret@127.0.0.1:1/0")
    monkeypatch.setenv("COLUMNS", "250")

    result = CliRunner().invoke(app, ["doctor"])

    assert result.exit_code == 1
    assert "YTMAKER_GEMINI_API_KEY" in result.output
    assert "not usable: script, redis" in result.output
    assert "hunter2secret" not in result.output


def test_keys_present_make_the_real_providers_usable(tmp_path):
    settings = fast_settings(tmp_path, script_provider="gemini", gemini_api_key="k" * 20, image_provider="stability",
                             stability_api_key="s" * 20, speech_provider="google", google_tts_api_key="g" * 20)

    checks = by_name(check_stages(settings))

    assert [checks[n].ok for n in ("script", "images", "audio")] == [True, True, True]
    assert checks["script"].provider == "gemini" and checks["images"].provider == "stability"


def test_youtube_needs_the_stored_authorisation(tmp_path):
    settings = fast_settings(tmp_path, publisher="youtube")

    before = by_name(check_stages(settings))["upload"]
    TokenStore(settings.data_dir).save({"client_id": "c", "client_secret": "s", "refresh_token": "r" * 20})
    after = by_name(check_stages(settings))["upload"]

    assert before.blocking and "ytmaker auth youtube" in before.detail
    assert after.ok


def test_publish_at_without_private_is_reported(tmp_path):
    settings = fast_settings(tmp_path, publisher="youtube", youtube_privacy="public",
                             youtube_publish_at="2099-01-01T00:00:00Z")
    TokenStore(settings.data_dir).save({"client_id": "c", "client_secret": "s", "refresh_token": "r" * 20})

    upload = by_name(check_stages(settings))["upload"]

    assert upload.blocking and "needs privacy 'private'" in upload.detail


def test_did_needs_a_key_and_a_presenter_image(tmp_path):
    settings = fast_settings(tmp_path, avatar_provider="did", did_api_key="d" * 20)

    avatars = by_name(check_stages(settings))["avatars"]

    assert avatars.blocking and "YTMAKER_DID_SOURCE_URL" in avatars.detail and "DID_API_KEY" not in avatars.detail


def test_a_broken_ffmpeg_and_a_missing_cjk_font_for_chinese_are_blocking(tmp_path):
    settings = fast_settings(tmp_path, language="zh")

    checks = by_name(check_media(settings, ffmpeg=lambda: str(tmp_path / "no-ffmpeg"),
                                 font=lambda cjk=False: None if cjk else "/fonts/latin.ttf"))

    assert checks["ffmpeg"].blocking and "install ffmpeg" in checks["ffmpeg"].detail
    assert checks["font (CJK)"].blocking and "fonts-noto-cjk" in checks["font (CJK)"].detail
    assert checks["font"].ok


def test_a_missing_cjk_font_is_only_a_warning_for_english(tmp_path):
    checks = by_name(check_media(fast_settings(tmp_path), font=lambda cjk=False: None if cjk else "/f.ttf"))

    assert not checks["font (CJK)"].ok and not checks["font (CJK)"].blocking


def test_an_unreachable_database_is_blocking(tmp_path):
    settings = fast_settings(tmp_path, database_url="postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=2")

    database = by_name(check_services(settings))["database"]

    assert database.blocking and "YTMAKER_DATABASE_URL" in database.detail and ":pw@" not in database.provider


def test_run_checks_covers_stages_media_and_services(tmp_path):
    names = [check.what for check in run_checks(fast_settings(tmp_path))]

    assert names == ["script", "images", "audio", "avatars", "upload", "ffmpeg", "font", "font (CJK)", "redis", "database"]


@pytest.mark.parametrize("stage, settings_values, variable", [
    ("script", {"script_provider": "gemini"}, "YTMAKER_GEMINI_API_KEY"),
    ("images", {"image_provider": "stability"}, "YTMAKER_STABILITY_API_KEY"),
    ("audio", {"speech_provider": "google"}, "YTMAKER_GOOGLE_TTS_API_KEY"),
    ("images", {"image_provider": "stability", "stability_api_key": "   "}, "YTMAKER_STABILITY_API_KEY"),
])
def test_each_real_provider_without_its_key_is_blocking_and_names_the_variable(tmp_path, stage, settings_values, variable):
    checks = by_name(check_stages(fast_settings(tmp_path, **settings_values)))

    assert checks[stage].blocking and variable in checks[stage].detail
    assert [name for name, check in checks.items() if check.blocking] == [stage]
