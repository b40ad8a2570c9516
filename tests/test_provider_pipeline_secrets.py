"""A whole pipeline on Gemini, Stability AI and Google TTS (fakes), with keys set: no key leaks anywhere."""

from __future__ import annotations

import io
import logging
import time

import fakeredis
import pytest
import structlog
from sqlalchemy import select

from tests.conftest import fast_settings
from tests.fakes.gemini import VALID_SCRIPT, FakeGemini
from tests.fakes.google_tts import MS_PER_BYTE, FakeTextToSpeech
from tests.fakes.stability import FakeStability, moderation
from ytmaker import stages
from ytmaker.db.migrate import upgrade
from ytmaker.db.models import Asset, Base, Project, Script
from ytmaker.errors import CredentialsRejected
from ytmaker.pipelines import flow
from ytmaker.projects import create_project, load_project
from ytmaker.runtime import build_runtime, set_runtime

GEMINI_KEY = "AIzaSECRET-gemini-5f1e2d3c4b5a"
STABILITY_KEY = "sk-SECRET-stability-9a8b7c6d5e"
TTS_KEY = "AIzaSECRET-tts-0f9e8d7c6b5a4"
KEYS = (GEMINI_KEY, STABILITY_KEY, TTS_KEY)
TEXT = "Honeybees talk by dancing. The angle of the dance points to the food."


@pytest.fixture
def fakes():
    with FakeGemini(GEMINI_KEY) as gemini, FakeStability(STABILITY_KEY) as stability, \
            FakeTextToSpeech(TTS_KEY) as tts:
        yield gemini, stability, tts


@pytest.fixture
def logs():
    """Everything logged: structlog events as emitted (before any masking) and stdlib logging at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        yield lambda: stream.getvalue() + "\n" + "\n".join(repr(e) for e in events)
    root.removeHandler(handler)
    root.setLevel(level)


def runtime(tmp_path, fakes, *, gemini_key=GEMINI_KEY):
    gemini, stability, tts = fakes
    settings = fast_settings(
        tmp_path, database_url=f"sqlite:///{tmp_path / 'ytmaker.db'}", render_quality="tiny",
        script_provider="gemini", gemini_api_key=gemini_key, gemini_base_url=gemini.url,
        image_provider="stability", stability_api_key=STABILITY_KEY, stability_base_url=stability.url,
        speech_provider="google", google_tts_api_key=TTS_KEY, google_tts_base_url=tts.url,
        provider_quick_max_wait_s=1.0,
        image_fanout="off",  # the stages are called one after another here, without a worker for the parts
    )
    rt = build_runtime(settings, redis=fakeredis.FakeRedis())
    upgrade(rt.db)
    set_runtime(rt)
    return rt


def everything_stored(rt) -> str:
    """Every row of every table, every progress and Redis value, every file written: as one text."""
    parts = []
    with rt.db.session() as session:
        for table in Base.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in session.execute(select(table))]
    for key in rt.redis.keys("*") if rt.redis is not None else []:  # no Redis in embedded mode
        kind = rt.redis.type(key)
        if kind == b"hash":
            parts.append(repr(rt.redis.hgetall(key)))
        elif kind == b"string":
            parts.append(repr(rt.redis.get(key)))
        elif kind == b"zset":
            parts.append(repr(rt.redis.zrange(key, 0, -1)))
    for path in rt.data_dir.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_a_full_run_on_the_real_clients_completes_and_no_key_appears_in_logs_progress_or_database(
        tmp_path, fakes, logs, stub_broker):
    gemini, stability, tts = fakes
    stability.fail(moderation())  # the first image is refused: a slide with a warning instead
    rt = runtime(tmp_path, fakes)
    try:
        project = create_project(rt, TEXT)
        for name in ("script", "images", "audio", "avatars", "render", "thumbnail", "upload"):
            stages.stage_function(name)(rt, project.id)

        with rt.db.session() as session:
            final = session.get(Project, project.id)
            script = session.get(Script, project.id)
            assets = {(a.kind, a.segment_index): a for a in session.scalars(select(Asset).where(Asset.project_id == project.id))}
        assert final.status == "completed"
        assert script.title == VALID_SCRIPT["title"]
        assert "moderation" in assets[("image", 0)].warning and assets[("image", 1)].warning is None
        for i, segment in enumerate(VALID_SCRIPT["segments"]):
            assert assets[("audio", i)].duration_ms == MS_PER_BYTE * len(segment["narration"].encode())
        assert len(gemini.calls()) == 1 and len(stability.generations()) == 2 and len(tts.syntheses()) == 2
        # The keys did travel, in headers, to their own service only.
        assert {r.headers["x-goog-api-key"] for r in gemini.calls()} == {GEMINI_KEY}
        assert {r.headers["authorization"] for r in stability.generations()} == {f"Bearer {STABILITY_KEY}"}
        assert {r.headers["x-goog-api-key"] for r in tts.syntheses()} == {TTS_KEY}

        logged, stored = logs(), everything_stored(rt)
        assert ":generateContent" in logged and "/text:synthesize" in logged  # the capture saw the calls
        assert rt.progress.get(project.id)["status"] == "completed"
        for key in KEYS:
            assert key not in logged
            assert key not in stored
    finally:
        set_runtime(None)
        rt.close()


def test_a_rejected_key_fails_the_project_with_a_message_that_does_not_carry_it(tmp_path, fakes, logs, stub_worker):
    wrong = "AIzaWRONG-gemini-0000000000"
    rt = runtime(tmp_path, fakes, gemini_key=wrong)
    try:
        project = create_project(rt, TEXT)
        with pytest.raises(CredentialsRejected) as info:
            stages.stage_function("script")(rt, project.id)
        assert wrong not in str(info.value) and "YTMAKER_GEMINI_API_KEY" in str(info.value)

        # Through the broker too: the retries middleware records the failure in the database and progress.
        other = create_project(rt, TEXT)
        flow.start_generation(other.id, rt)
        deadline = time.monotonic() + 20
        while load_project(rt, other.id).status != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        failed = load_project(rt, other.id)
        assert failed.status == "failed" and "YTMAKER_GEMINI_API_KEY" in failed.error
        assert "YTMAKER_GEMINI_API_KEY" in rt.progress.get(other.id)["error"]

        logged, stored = logs(), everything_stored(rt)
        for key in (wrong, STABILITY_KEY, TTS_KEY):
            assert key not in logged
            assert key not in stored
    finally:
        set_runtime(None)
        rt.close()
