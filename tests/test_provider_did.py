"""D-ID avatars against a fake talks API: started from our audio, followed by delayed messages."""

from __future__ import annotations

import time
from datetime import timedelta

import dramatiq
import httpx
import pytest
from sqlalchemy import select

from tests.conftest import fast_settings
from tests.fakes.did import VIDEO, FakeDID, failure
from tests.fakes.server import Reply
from ytmaker import recovery, stages
from ytmaker.db.models import Asset, Project, StageRun
from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable, QuotaExceeded
from ytmaker.pipelines import control
from ytmaker.projects import create_project
from ytmaker.providers.did import DIDClient
from ytmaker.stages import avatars


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: what these tests check (the D-ID protocol) does not depend on the database;
    the pipeline, recovery, batch, schedule and quota tests run on both (these PostgreSQL copies cost 36 s a run)."""
    return f"sqlite:///{tmp_path / 'ytmaker.db'}"


TEXT = " ".join(f"Sentence number {i} talks about a different topic entirely, with words {i}." for i in range(12))


@pytest.fixture
def did():
    with FakeDID() as server:
        yield server


@pytest.fixture
def settings(tmp_path, database_url, did):
    return fast_settings(tmp_path, database_url=database_url, speech_provider="instant", avatar_provider="did",
                         did_api_key=did.key, did_base_url=did.url, did_source_url="https://example.org/presenter.jpg",
                         did_poll_first_s=0.05, did_poll_max_s=0.2)


@pytest.fixture
def project(rt):
    """A project with its script and narration made; images claimed elsewhere, so render stays out of the way."""
    project = create_project(rt, TEXT)
    stages.stage_function("script")(rt, project.id)
    stages.stage_function("audio")(rt, project.id)
    assert stage_status(rt, project.id, "images") == "queued"  # claimed, never run here: render stays out of the way
    rt.broker.flush_all()  # the follow-ups the script sent: each test runs the avatars stage itself
    return project


def client(did, *, key=None, timeout_s=5.0) -> DIDClient:
    """A D-ID client on its own HTTP client, as the registry builds it."""
    return DIDClient(api_key=key or did.key, client=httpx.Client(base_url=did.url, timeout=timeout_s))


def stage_status(rt, project_id, stage="avatars") -> str:
    with rt.db.session() as session:
        return session.get(StageRun, (project_id, stage)).status


def project_status(rt, project_id) -> str:
    with rt.db.session() as session:
        return session.get(Project, project_id).status


def wait_until(predicate, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def avatar_assets(rt, project_id) -> list[Asset]:
    with rt.db.session() as session:
        return list(session.scalars(select(Asset).where(Asset.project_id == project_id, Asset.kind == "avatar")
                                    .order_by(Asset.segment_index)))


def test_talks_are_made_from_our_audio_and_followed_by_delayed_messages(rt, project, did, stub_broker, stub_worker):
    status = stages.stage_function("avatars")(rt, project.id)

    assert status == "running"  # handed over: no thread waits on D-ID
    segments = len(stages.script.load_script(rt, project.id).segments)
    assert segments >= 2 and len(did.talk_requests) == segments and len(did.audios) == segments
    wait_until(lambda: stage_status(rt, project.id) == "succeeded")

    assets = avatar_assets(rt, project.id)
    assert [a.segment_index for a in assets] == list(range(segments))
    assert all(rt.path(a.path).read_bytes() == VIDEO and a.duration_ms == 2500 for a in assets)
    with rt.db.session() as session:
        audio = session.scalars(select(Asset).where(Asset.project_id == project.id, Asset.kind == "audio")
                                .order_by(Asset.segment_index)).all()
    uploaded = list(did.audios.values())
    assert uploaded == [rt.path(a.path).read_bytes() for a in audio]  # each talk says its own segment
    for body, url in zip(did.talk_requests, did.audios, strict=True):
        assert body["source_url"] == "https://example.org/presenter.jpg"
        assert body["script"] == {"type": "audio", "audio_url": url}
    assert all(count >= did.polls_to_finish for count in did.gets.values())
    assert all("authorization" not in headers for headers in did.downloads)  # pre-signed URL: no key sent there
    talks = avatars.started_talks(rt, project.id)
    assert [(i, t.talk_id, t.status) for i, t in sorted(talks.items())] == [(i, f"tlk_{i + 1}", "done") for i in range(segments)]


def test_a_rejected_talk_fails_the_project_with_d_ids_reason(rt, project, did, stub_broker, stub_worker):
    did.outcome[2] = {"status": "rejected", "error": {"kind": "FaceError", "description": "No face detected in the image"}}

    stages.stage_function("avatars")(rt, project.id)
    stub_broker.join("assets", fail_fast=False)
    wait_until(lambda: project_status(rt, project.id) == "failed")  # the stage fails first, then the project

    with rt.db.session() as session:
        final = session.get(Project, project.id)
    assert final.status == "failed" and final.failed_stage == "avatars"
    assert "No face detected" in final.error and "rejected" in final.error


def test_text_talks_use_d_ids_voice(rt, project, did, stub_broker, stub_worker):
    rt.settings.did_script = "text"

    stages.stage_function("avatars")(rt, project.id)
    wait_until(lambda: stage_status(rt, project.id) == "succeeded")

    script = stages.script.load_script(rt, project.id)
    assert did.audios == {}
    assert [b["script"]["input"] for b in did.talk_requests] == [s["narration"] for s in script.segments]
    assert did.talk_requests[0]["script"]["provider"] == {"type": "microsoft", "voice_id": "en-US-JennyNeural"}


def test_a_d_id_outage_while_polling_is_waited_out(rt, project, did, stub_broker, stub_worker):
    stages.stage_function("avatars")(rt, project.id)
    did.refuse.extend([failure(503, "ServiceUnavailable", "try later")] * 3)

    wait_until(lambda: stage_status(rt, project.id) == "succeeded")

    assert len(avatar_assets(rt, project.id)) == len(did.talk_requests)


def test_without_a_provider_the_stage_is_skipped(tmp_path, database_url):
    import fakeredis

    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import build_runtime

    runtime = build_runtime(fast_settings(tmp_path, database_url=database_url, speech_provider="instant"),
                            redis=fakeredis.FakeRedis())
    upgrade(runtime.db)
    try:
        project = create_project(runtime, TEXT)
        stages.stage_function("script")(runtime, project.id)
        assert stages.stage_function("avatars")(runtime, project.id) == "skipped"
    finally:
        runtime.close()


def test_the_key_is_sent_as_given_and_a_rejected_key_is_a_credentials_error(did, tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF....WAVE")

    assert client(did).upload_audio(audio).startswith("s3://")
    with pytest.raises(CredentialsRejected, match="YTMAKER_DID_API_KEY") as caught:
        client(did, key="wrong-key-123").upload_audio(audio)
    assert "wrong-key-123" not in str(caught.value)


def test_5xx_is_transient_with_retry_after(did, tmp_path):
    did.refuse.append(failure(503, "ServiceUnavailable", "busy").__class__(503, b'{"kind":"x"}', {"Retry-After": "7"}))

    with pytest.raises(ProviderUnavailable) as caught:
        client(did).talk("tlk_1")
    assert caught.value.retry_after == 7


def test_the_key_never_reaches_logs_or_progress(rt, project, did, stub_broker, stub_worker, capfd):
    did.outcome[1] = {"status": "error", "error": {"kind": "InternalError", "description": "render failed"}}

    stages.stage_function("avatars")(rt, project.id)
    wait_until(lambda: project_status(rt, project.id) == "failed")  # the stage fails first, then the project

    captured = capfd.readouterr()
    with rt.db.session() as session:
        error = session.get(Project, project.id).error
    assert "render failed" in error
    for trace in (captured.out, captured.err, str(rt.progress.get(project.id)), error):
        assert did.key not in trace


def test_after_redis_is_lost_a_re_drive_polls_the_same_talks_instead_of_paying_for_new_ones(rt, project, did, stub_broker):
    status = stages.stage_function("avatars")(rt, project.id)  # talks started; the first check waits in the broker
    assert status == "running"
    segments = len(stages.script.load_script(rt, project.id).segments)
    paid = [t.talk_id for _, t in sorted(avatars.started_talks(rt, project.id).items())]
    assert len(paid) == segments == len(did.talk_requests)

    # Redis goes away with everything in it: the delayed checks, the poll chain, the progress hash.
    stub_broker.flush_all()
    rt.keys.delete(avatars.chain_key(project.id))  # the poll chain (kept in Redis in distributed mode)
    with rt.db.session() as session:  # and the worker that ran the stage is gone: its heartbeat is old
        run = session.get(StageRun, (project.id, "avatars"))
        run.heartbeat_at = run.heartbeat_at - timedelta(seconds=rt.settings.stage_lease_s + 5)
    assert (project.id, "avatars") in recovery.redrive(rt, older_than_s=3600)
    worker = dramatiq.Worker(stub_broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        wait_until(lambda: stage_status(rt, project.id) == "succeeded")
    finally:
        worker.stop()

    assert len(did.talk_requests) == segments and len(did.audios) == segments  # nothing paid twice
    assert sorted(did.gets) == sorted(paid) and all(did.gets[t] >= did.polls_to_finish for t in paid)
    assert [a.segment_index for a in avatar_assets(rt, project.id)] == list(range(segments))
    assert {t.status for t in avatars.started_talks(rt, project.id).values()} == {"done"}


def test_a_failed_talk_is_replaced_by_a_new_one_when_the_project_is_retried(rt, project, did, stub_broker, stub_worker):
    did.outcome[1] = {"status": "error", "error": {"kind": "InternalError", "description": "render failed"}}
    stages.stage_function("avatars")(rt, project.id)
    wait_until(lambda: project_status(rt, project.id) == "failed")  # the stage fails first, then the project
    assert avatars.started_talks(rt, project.id)[0].status == "error"
    first = len(did.talk_requests)

    control.retry_project(rt, project.id)
    wait_until(lambda: stage_status(rt, project.id) == "succeeded")

    talks = avatars.started_talks(rt, project.id)
    assert len(did.talk_requests) == first + 1  # only the failed segment's talk is started again
    assert talks[0].talk_id == f"tlk_{first + 1}" and {t.status for t in talks.values()} == {"done"}


@pytest.mark.parametrize("reply, expected, match", [
    (failure(402, "InsufficientCreditsError", "not enough credits"), QuotaExceeded, "out of credits"),
    (failure(403, "PermissionError", "the plan does not include talks"), CredentialsRejected, "plan does not include"),
    (failure(400, "ValidationError", "source_url is not an image"), InvalidInput, "source_url is not an image"),
])
def test_refusals_are_permanent(did, reply, expected, match):
    did.refuse.append(reply)

    with pytest.raises(expected, match=match):
        client(did).create_talk(source_url="https://example.org/p.jpg", text="Hi.")
    assert did.talk_requests == []


def test_a_429_is_transient_with_its_retry_after(did):
    did.refuse.append(Reply.json(429, {"kind": "TooManyRequestsError", "description": "slow down"}, **{"Retry-After": "12"}))

    with pytest.raises(ProviderUnavailable, match="429") as caught:
        client(did).talk("tlk_1")
    assert caught.value.retry_after == 12


@pytest.mark.parametrize("status", [200, 201])
def test_malformed_json_is_transient(did, status):
    did.refuse.append(Reply(status, b'{"id": "tlk_', {"Content-Type": "application/json"}))

    with pytest.raises(ProviderUnavailable, match="malformed JSON"):
        client(did).create_talk(source_url="https://example.org/p.jpg", text="Hi.")


def test_a_slow_answer_past_the_timeout_is_transient(did):
    did.refuse.append(Reply(200, b"{}", {}, delay_s=1.0))

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="in time"):
        client(did, timeout_s=0.2).talk("tlk_1")
    assert time.monotonic() - started < 0.9


def test_a_check_that_times_out_while_polling_is_waited_out(rt, project, did, stub_broker, stub_worker):
    rt.settings.did_timeout_s = 0.3
    stages.stage_function("avatars")(rt, project.id)
    did.refuse.extend([Reply(200, b"{}", {}, delay_s=0.8), Reply(200, b"{not json", {})])

    wait_until(lambda: stage_status(rt, project.id) == "succeeded")

    assert len(avatar_assets(rt, project.id)) == len(did.talk_requests)


@pytest.mark.parametrize("outcome, expected", [
    (httpx.Response(503, json={"kind": "ServiceUnavailable", "description": "busy"}, headers={"Retry-After": "4"}),
     ProviderUnavailable),
    (httpx.Response(403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
     CredentialsRejected),
    (httpx.ReadError("connection reset"), ProviderUnavailable),
])
def test_a_failed_result_download_leaves_no_file_behind(tmp_path, outcome, expected):
    def handler(request):
        assert "authorization" not in request.headers  # a pre-signed URL: the key stays home
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    out = tmp_path / "avatar.mp4"
    did = DIDClient(api_key="did-key-1", client=httpx.Client(transport=httpx.MockTransport(handler)))

    with pytest.raises(expected) as caught:
        did.download("https://results.d-id.test/tlk_1.mp4?signature=abc", out)

    assert list(tmp_path.iterdir()) == []
    if isinstance(outcome, httpx.Response) and outcome.status_code == 503:
        assert caught.value.retry_after == 4
