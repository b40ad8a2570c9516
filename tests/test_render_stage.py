"""The render stage: a failed or killed render leaves no half-written video, no record and no FFmpeg."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from tests.helpers import SHORT_TEXT
from tests.test_render import _processes_with
from ytmaker import stages
from ytmaker.db.models import Video
from ytmaker.errors import Cancelled, MediaError
from ytmaker.pipelines.control import cancel_key
from ytmaker.projects import create_project


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'ytmaker.db'}"  # about files and processes, not the database: one backend


@pytest.fixture
def settings(tmp_path, database_url):
    # Real espeak narration (seconds per segment), so the draft render runs long enough to be interrupted.
    return fast_settings(tmp_path, database_url=database_url, image_provider="instant", speech_provider="espeak",
                         render_quality="draft")


@pytest.fixture
def project(rt):
    project = create_project(rt, SHORT_TEXT)
    for stage in ("script", "images", "audio", "avatars"):
        stages.stage_function(stage)(rt, project.id)
    return project


def _leftovers(folder: Path) -> list[str]:
    """Anything a render writes besides its finished video: temporary files and the stills' list."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name == "video.mp4")


def _video_row(rt, project_id):
    with rt.db.session() as session:
        return session.get(Video, project_id)


def test_a_failed_render_leaves_no_output_and_no_record(rt, project, stub_broker, tmp_path):
    # Given a music file FFmpeg cannot read,
    bad = tmp_path / "music.mp3"
    bad.write_bytes(b"this is not an mp3" * 100)
    rt.settings.music = bad
    # when the stage renders, it fails with FFmpeg's own error,
    with pytest.raises(MediaError) as caught:
        stages.stage_function("render")(rt, project.id)
    assert caught.value.stderr and str(bad) in caught.value.command
    # and leaves neither a partial video, nor a temporary file, nor a Video row.
    assert _leftovers(rt.project_dir(project.id)) == []
    assert _video_row(rt, project.id) is None


def test_a_render_killed_midway_leaves_no_output_no_record_and_no_ffmpeg(rt, project, stub_broker):
    folder = rt.project_dir(project.id)
    seen: list[str] = []

    def cancel_once_writing() -> None:
        # Cancel as soon as FFmpeg has started writing the temporary video.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            partial = [p for p in folder.glob(".video.*.tmp.mp4") if p.stat().st_size > 0]
            if partial:
                seen.append(partial[0].name)
                rt.keys.set(cancel_key(project.id), "1")
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=cancel_once_writing)
    watcher.start()
    try:
        with pytest.raises(Cancelled):
            stages.stage_function("render")(rt, project.id)
    finally:
        watcher.join()
    assert seen, "the render never started writing its temporary file"
    assert _leftovers(folder) == []
    assert _video_row(rt, project.id) is None
    assert _processes_with(str(folder)) == []  # FFmpeg's process group is gone
