"""The instant renderer: the render and thumbnail stages keep their bookkeeping but skip encoding and drawing."""

from __future__ import annotations

import pytest

from tests.conftest import fast_settings
from tests.helpers import SHORT_TEXT
from ytmaker.db.migrate import upgrade
from ytmaker.db.models import Thumbnail, Video
from ytmaker.embedded import wait_for
from ytmaker.media.probe import probe
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project
from ytmaker.runtime import build_runtime, set_runtime


@pytest.fixture
def instant_rt(tmp_path, stub_broker):
    runtime = build_runtime(fast_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'y.db'}", image_provider="instant",
                                          speech_provider="instant", render_quality="tiny", renderer="instant"),
                            broker=stub_broker)
    upgrade(runtime.db)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()


def test_a_project_completes_with_a_valid_clip_and_thumbnail_recorded(instant_rt, stub_broker, stub_worker):
    rt = instant_rt
    project = create_project(rt, SHORT_TEXT)
    final = wait_for(rt, start_generation(project.id), timeout_s=60)
    assert final.status == "completed", final.error
    with rt.db.session() as session:
        video = session.get(Video, project.id)
        thumbnail = session.get(Thumbnail, project.id)
    info = probe(rt.path(video.path))  # FFmpeg can read what was recorded
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert video.duration_ms == 100
    assert rt.path(thumbnail.path).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert (rt.project_dir(project.id) / "subtitles.srt").exists()  # the stage's own work still ran
