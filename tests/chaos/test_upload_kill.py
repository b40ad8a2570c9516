"""A worker SIGKILLed in the middle of a YouTube upload chunk: the next one resumes from the byte YouTube kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.chaos.conftest import QUICK_RECOVERY, record
from tests.fakes.oauth import FakeOAuth
from tests.fakes.youtube import UNIT, FakeYouTube
from tests.helpers import TWO_SEGMENT_TEXT
from ytmaker.db.models import Video
from ytmaker.pipelines import start_generation
from ytmaker.projects import ProjectOptions, create_project
from ytmaker.providers.youtube_auth import SCOPES, TokenStore

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

ACCESS, REFRESH, SECRET = "access-token-chaos", "refresh-token-chaos", "client-secret-chaos"


def test_sigkill_mid_upload_chunk_resumes_from_the_confirmed_byte_and_makes_one_video(chaos, monkeypatch):
    # given: YouTube's fake reads the first chunk slowly (a slow link), and workers
    oauth = FakeOAuth(client_secret=SECRET, refresh_token=REFRESH, access_token=ACCESS)
    with oauth, FakeYouTube(token=ACCESS) as youtube:
        # the first 512 KiB chunk crawls in; the link dies 320 KiB into it when the worker does
        youtube.slow_chunk, youtube.cut_after = {1: 0.2}, 320 * 1024
        keyring = "keyring.backends.fail.Keyring"  # the token goes to the data dir's file, which every worker reads
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", keyring)
        chaos.configure(env=dict(PYTHON_KEYRING_BACKEND=keyring), image_provider="instant", speech_provider="espeak",
                        render_quality="draft", youtube_base_url=youtube.url, youtube_token_uri=f"{oauth.url}/token",
                        youtube_chunk_size=2 * UNIT, **QUICK_RECOVERY)
        TokenStore(chaos.rt.settings.data_dir).save({"client_id": oauth.client_id, "client_secret": SECRET,
                                                     "refresh_token": REFRESH, "token_uri": f"{oauth.url}/token",
                                                     "scopes": SCOPES})
        chaos.start("rest", ["scripts", "assets", "render"])
        upload = chaos.start("upload", ["upload"])
        project = create_project(chaos.rt, TWO_SEGMENT_TEXT, ProjectOptions(publish_target="youtube"))
        start_generation(project.id, chaos.rt)

        # when: the upload worker is SIGKILLed with the chunk part-way over the wire
        def half_way() -> bool:
            if chaos.wait_all([project.id], timeout_s=0)[project.id].status in ("failed", "completed"):
                raise AssertionError(f"the project ended first: {chaos.rt.progress.get(project.id)} {youtube.log}")
            return youtube.reading >= youtube.cut_after

        chaos.wait_until(half_way, 180, "the first chunk to be cut")
        chaos.kill(upload)
        youtube.cut.set()
        (session,) = youtube.sessions.values()
        chaos.wait_until(lambda: youtube.slow_done, 60, "the fake to settle what it kept of the cut chunk")
        confirmed = len(session.data)
        log_before = len(youtube.log)
        back = datetime.now(UTC)
        chaos.start("upload", ["upload"])
        final = chaos.wait_all([project.id], timeout_s=120)[project.id]

    # then: the new worker asked where the session stood and went on from that byte; one video, the file's bytes
    after = [(method, rng) for method, _, rng in youtube.log[log_before:] if method == "PUT"]
    with chaos.rt.db.session() as session_db:
        video = session_db.scalars(select(Video).where(Video.project_id == project.id)).one()
    data = chaos.rt.path(video.path).read_bytes()
    record("sigkill-mid-upload-chunk", runs=1, passed=int(final.status == "completed"), lost=int(final.status != "completed"),
           duplicates=len(youtube.videos) - 1, orphans=chaos.orphans(), recovery_s=chaos.completed_after([project.id], back),
           notes=f"YouTube fake reading the first 512 KiB chunk at 16 KiB / 0.2 s; upload worker SIGKILLed 320 KiB "
                 f"into it; the fake kept {confirmed} bytes (whole 256 KiB units); the new worker asked ({after[0][1]}) and sent from byte "
                 f"{after[1][1].split()[1].split('-')[0]}; {len(youtube.videos)} video(s) at the fake")
    assert final.status == "completed", final.error
    assert after[0][1] == f"bytes */{len(data)}"  # where do we stand?
    assert after[1][1].startswith(f"bytes {confirmed}-")  # from the byte the fake confirmed, not from 0
    assert confirmed == UNIT  # the whole 256 KiB units of the 320 KiB that arrived: the kill did cut the chunk
    (video_id,) = youtube.videos
    assert youtube.uploaded[video_id] == data
