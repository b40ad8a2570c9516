"""Stage functions called directly, without a broker, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest

from tests.helpers import SHORT_TEXT, Flaky, attempts, counts
from ytmaker import stages
from ytmaker.db.models import Asset, Project, Script, StageRun, Video
from ytmaker.errors import InvalidInput, ProjectNotFound, ProviderUnavailable
from ytmaker.media.probe import probe
from ytmaker.projects import create_project


@pytest.fixture
def project(rt):
    return create_project(rt, SHORT_TEXT)


def run_all(rt, project_id):
    for name in ("script", "images", "audio", "avatars", "render", "thumbnail", "upload"):
        stages.stage_function(name)(rt, project_id)


def test_every_stage_runs_without_a_broker_and_ends_in_a_playable_video(rt, project, stub_broker):
    run_all(rt, project.id)

    with rt.db.session() as session:
        script = session.get(Script, project.id)
        video = session.get(Video, project.id)
        final = session.get(Project, project.id)
        audio = session.query(Asset).filter_by(project_id=project.id, kind="audio").all()
    assert final.status == "completed"
    assert len(script.segments) >= 1
    assert script.title.startswith("Honeybees talk by dancing")
    info = probe(rt.path(video.path))
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert (info.width, info.height) == (960, 540)
    narration = sum(a.duration_ms for a in audio) / 1000
    assert narration > 3
    assert abs(info.duration_s - narration) < 0.4 + 0.8 * len(audio) + 0.5  # narration plus pauses
    published = list((rt.data_dir / "published").iterdir())
    assert len(published) == 1 and (published[0] / "metadata.json").exists()
    assert rt.progress.get(project.id)["status"] == "completed"


def test_running_every_stage_twice_changes_nothing(rt, project, stub_broker):
    run_all(rt, project.id)
    before = counts(rt, project.id)
    tries = attempts(rt, project.id)
    with rt.db.session() as session:
        video_path = rt.path(session.get(Video, project.id).path)
    mtime = os.stat(video_path).st_mtime_ns

    run_all(rt, project.id)

    assert counts(rt, project.id) == before
    assert attempts(rt, project.id) == tries
    assert os.stat(video_path).st_mtime_ns == mtime
    assert len(list((rt.data_dir / "published").iterdir())) == 1


def test_a_failed_image_is_retried_without_redoing_the_images_that_succeeded(rt, stub_broker):
    text = " ".join(f"Sentence number {i} talks about a different topic entirely, with words {i}." for i in range(24))
    project = create_project(rt, text)
    stages.stage_function("script")(rt, project.id)
    real = rt.providers.images

    class FailOnThird:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def generate(self, request, out):
            self.calls.append(request.index)
            if request.index == 2 and self.calls.count(2) == 1:
                raise ProviderUnavailable("HTTP 503")
            return real.generate(request, out)

    provider = FailOnThird()
    rt.providers.images = provider
    with pytest.raises(ProviderUnavailable):
        stages.stage_function("images")(rt, project.id)
    assert provider.calls == [0, 1, 2]

    stages.stage_function("images")(rt, project.id)

    with rt.db.session() as session:
        segments = len(session.get(Script, project.id).segments)
        assert segments > 3  # images after the failed one, to show the retry goes on past it
        # the first attempt stopped at 2; the retry starts again at 2 and makes every image after it, once
        assert provider.calls == [0, 1, 2, *range(2, segments)]
        assert session.query(Asset).filter_by(project_id=project.id, kind="image").count() == segments
        assert session.get(StageRun, (project.id, "images")).attempts == 2


def test_a_wrong_project_id_is_a_clear_permanent_error(rt):
    with pytest.raises(InvalidInput, match="not a project id"):
        stages.stage_function("script")(rt, "../../etc/passwd")
    with pytest.raises(ProjectNotFound, match="no project with id"):
        stages.stage_function("script")(rt, "7b0c3c1e-5a43-4a4e-9a55-2d0f2c1f7d00")


def test_transient_provider_failure_propagates_as_transient(rt, project):
    stages.stage_function("script")(rt, project.id)
    rt.providers.speech = Flaky(rt.providers.speech, failures=1)
    with pytest.raises(ProviderUnavailable):
        stages.stage_function("audio")(rt, project.id)
    with rt.db.session() as session:
        assert session.get(StageRun, (project.id, "audio")).status == "queued"  # lease released for the retry
        assert session.query(Asset).filter_by(project_id=project.id, kind="audio").count() == 0
