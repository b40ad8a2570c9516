"""The YouTube publisher against a fake of the upload API and of Google's token endpoint."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import webbrowser
from datetime import UTC, datetime, timedelta

import httpx
import keyring
import keyring.backend
import keyring.backends.fail
import pytest
from sqlalchemy import select

from tests.conftest import fast_settings
from tests.fakes.oauth import FakeOAuth
from tests.fakes.youtube import UNIT, FakeYouTube, error
from tests.helpers import wait_until
from ytmaker import stages
from ytmaker.db.models import Project, Publication, Script, StageRun, Thumbnail, Video
from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable, QuotaExceeded, WaitUntil
from ytmaker.graph import STAGES
from ytmaker.projects import ProjectOptions, create_project
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.retrying import QuickRetry
from ytmaker.providers.youtube import VideoOptions, YouTubePublisher, check_publish_at
from ytmaker.providers.youtube_auth import SCOPES, AccessToken, TokenStore, authorize, load_access_token
from ytmaker.quota import reserve_upload


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: what these tests check (the upload protocol) does not depend on the database;
    the pipeline, recovery, batch, schedule and quota tests run on both (these PostgreSQL copies cost 36 s a run)."""
    return f"sqlite:///{tmp_path / 'ytmaker.db'}"


VIDEO_SIZE = 5 * UNIT + 1000


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def get_password(self, service, username):
        return self.values.get((service, username))

    def delete_password(self, service, username):
        self.values.pop((service, username), None)


@pytest.fixture(autouse=True)
def no_keyring():
    """Never touch the developer's keychain: no backend, so tokens go to the 0600 file."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def oauth():
    with FakeOAuth() as server:
        yield server


@pytest.fixture
def youtube(oauth):
    with FakeYouTube(token=oauth.access_token) as server:
        yield server


@pytest.fixture
def settings(tmp_path, database_url, youtube, oauth):
    return fast_settings(tmp_path, database_url=database_url, youtube_base_url=youtube.url,
                         youtube_token_uri=f"{oauth.url}/token", youtube_chunk_size=2 * UNIT, youtube_attempts=1)


@pytest.fixture
def authorised(settings, oauth):
    TokenStore(settings.data_dir).save({"client_id": oauth.client_id, "client_secret": oauth.client_secret,
                                        "refresh_token": oauth.refresh_token, "scopes": SCOPES})


@pytest.fixture
def project(rt, authorised):
    """A project whose video and thumbnail are made: only the upload is left."""
    project = create_project(rt, "Bees dance to tell where the flowers are.", ProjectOptions(publish_target="youtube"))
    folder = rt.project_dir(project.id)
    folder.mkdir(parents=True)
    (folder / "video.mp4").write_bytes(os.urandom(VIDEO_SIZE))
    (folder / "thumbnail.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(5000))
    with rt.db.session() as session:
        session.add(Script(project_id=project.id, title="How bees <dance>", description="Bees talk by dancing.",
                           tags=["bees", "waggle dance"], segments=[{"narration": "x", "image_description": "y"}]))
        session.add(Video(project_id=project.id, path=rt.relative(folder / "video.mp4"), checksum="0", duration_ms=1000))
        session.add(Thumbnail(project_id=project.id, path=rt.relative(folder / "thumbnail.jpg"), checksum="0"))
        for stage in STAGES[:-1]:
            session.add(StageRun(project_id=project.id, stage=stage, status="succeeded"))
    return project


def publication(rt, project_id) -> Publication:
    with rt.db.session() as session:
        return session.scalars(select(Publication).where(Publication.project_id == project_id)).one()


def chunk_ranges(youtube) -> list[str]:
    return [r for method, _, r in youtube.log if method == "PUT"]


def starts(youtube) -> int:
    return sum(1 for method, path, _ in youtube.log if method == "POST" and path.endswith("/videos"))


def test_uploads_in_chunks_with_metadata_thumbnail_and_captions(rt, project, youtube):
    (rt.project_dir(project.id) / "subtitles.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nBees.\n")

    stages.stage_function("upload")(rt, project.id)

    n = VIDEO_SIZE
    assert chunk_ranges(youtube) == [f"bytes 0-{2 * UNIT - 1}/{n}", f"bytes {2 * UNIT}-{4 * UNIT - 1}/{n}",
                                     f"bytes {4 * UNIT}-{n - 1}/{n}"]
    (video_id, resource), = youtube.videos.items()
    assert youtube.uploaded[video_id] == (rt.project_dir(project.id) / "video.mp4").read_bytes()
    assert resource["snippet"]["title"] == "How bees ‹dance›"
    assert resource["snippet"]["tags"] == ["bees", "waggle dance"]
    assert resource["snippet"]["categoryId"] == "22" and resource["snippet"]["defaultLanguage"] == "en"
    assert resource["status"]["privacyStatus"] == "private" and "publishAt" not in resource["status"]
    assert youtube.thumbnails[video_id][0] == "image/jpeg"
    assert youtube.thumbnails[video_id][1] == (rt.project_dir(project.id) / "thumbnail.jpg").read_bytes()
    (caption,) = youtube.captions
    assert caption["snippet"]["videoId"] == video_id and caption["snippet"]["language"] == "en"
    assert caption["body"].startswith(b"1\n00:00:00,000")
    row = publication(rt, project.id)
    assert (row.status, row.remote_id, row.url) == ("published", video_id, f"https://www.youtube.com/watch?v={video_id}")
    assert row.session_uri.startswith(youtube.url) and "upload_id=" in row.session_uri
    with rt.db.session() as session:
        assert session.get(Project, project.id).status == "completed"


def test_no_subtitles_means_no_caption_call(rt, project, youtube):
    stages.stage_function("upload")(rt, project.id)

    assert len(youtube.videos) == 1 and youtube.captions == []
    assert not any(path.endswith("/captions") for _, path, _ in youtube.log)


def test_an_upload_cut_off_mid_chunk_resumes_the_saved_session_on_the_next_attempt(rt, project, youtube):
    youtube.drop_on_chunk = {2}  # half of bytes 2U..4U arrive: the server keeps one whole unit

    with pytest.raises(ProviderUnavailable, match="connection to YouTube was lost"):
        stages.stage_function("upload")(rt, project.id)
    saved = publication(rt, project.id).session_uri
    assert saved and youtube.videos == {}  # the session is on record before the first byte

    youtube.log.clear()
    with rt.db.session() as session:  # as the retries middleware leaves it
        session.get(StageRun, (project.id, "upload")).status = "queued"
    stages.stage_function("upload")(rt, project.id)

    n = VIDEO_SIZE
    assert starts(youtube) == 0  # no new session: the same upload went on
    assert chunk_ranges(youtube) == [f"bytes */{n}", f"bytes {3 * UNIT}-{5 * UNIT - 1}/{n}", f"bytes {5 * UNIT}-{n - 1}/{n}"]
    (video_id,) = youtube.videos
    assert youtube.uploaded[video_id] == (rt.project_dir(project.id) / "video.mp4").read_bytes()
    assert publication(rt, project.id).session_uri == saved


def test_a_503_on_a_chunk_is_resumed_within_the_call(rt, project, youtube):
    rt.settings.youtube_attempts = 3
    youtube.status_on_chunk = {2: 503}

    stages.stage_function("upload")(rt, project.id)

    n = VIDEO_SIZE
    assert starts(youtube) == 1 and len(youtube.videos) == 1
    assert chunk_ranges(youtube) == [f"bytes 0-{2 * UNIT - 1}/{n}", f"bytes {2 * UNIT}-{4 * UNIT - 1}/{n}",
                                     f"bytes */{n}", f"bytes {2 * UNIT}-{4 * UNIT - 1}/{n}", f"bytes {4 * UNIT}-{n - 1}/{n}"]


def test_redelivered_after_success_uploads_nothing(rt, project, youtube):
    stages.stage_function("upload")(rt, project.id)
    calls = len(youtube.log)

    stages.stage_function("upload")(rt, project.id)

    assert len(youtube.log) == calls and len(youtube.videos) == 1


def test_a_worker_lost_after_the_last_chunk_finds_the_finished_video_instead_of_uploading_again(rt, project, youtube):
    stages.stage_function("upload")(rt, project.id)
    (video_id,) = youtube.videos
    with rt.db.session() as session:  # as if the worker died before recording the publication
        session.get(Publication, publication(rt, project.id).id).status = "pending"
        session.get(StageRun, (project.id, "upload")).status = "queued"
        session.get(Project, project.id).status = "uploading"
    youtube.log.clear()

    stages.stage_function("upload")(rt, project.id)

    assert starts(youtube) == 0 and chunk_ranges(youtube) == [f"bytes */{VIDEO_SIZE}"]
    assert list(youtube.videos) == [video_id] and publication(rt, project.id).remote_id == video_id


def test_quota_exceeded_waits_for_the_reset_without_spending_a_retry_or_failing(rt, project, youtube, stub_broker,
                                                                                 stub_worker):
    rt.settings.upload_max_retries = 3
    youtube.quota_exceeded("start")
    from ytmaker.actors.upload import upload_to_youtube

    upload_to_youtube.send(project.id)
    run = wait_until(lambda: _waiting_run(rt, project.id), 60, "the upload stage waiting for the quota")

    assert starts(youtube) == 1  # asked once: a retry now would only burn quota
    assert "quotaExceeded" in run.error and "resets at midnight Pacific time" in run.error
    assert run.queued_at.replace(tzinfo=UTC) - datetime.now(UTC) > timedelta(minutes=1)  # due after the reset
    with rt.db.session() as session:
        assert session.get(Project, project.id).status not in ("failed", "completed")
    assert run.attempts == 1  # the wait spent no retry ("waiting:", not "attempt 1 failed")
    with pytest.raises(WaitUntil):  # the day's budget is recorded as spent: the next upload waits without asking
        reserve_upload(rt)


def _waiting_run(rt, project_id):
    with rt.db.session() as session:
        run = session.get(StageRun, (project_id, "upload"))
        if run is not None and (run.error or "").startswith("waiting:"):
            session.expunge(run)
            return run
    return None


def test_a_spent_daily_budget_waits_before_any_request(rt, project, youtube):
    rt.settings.youtube_daily_uploads = 1
    reserve_upload(rt)  # another upload took today's one insert

    with pytest.raises(WaitUntil, match="today's YouTube upload budget is spent"):
        stages.stage_function("upload")(rt, project.id)
    assert youtube.log == []


def test_upload_limit_exceeded_is_a_quota_error(tmp_path, youtube):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    youtube.upload_limit_exceeded("start")
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url))

    with pytest.raises(QuotaExceeded, match="uploadLimitExceeded"):
        publisher.publish(PublishRequest("p", "Title", "", [], "en", video, None))


def test_a_thumbnail_youtube_refuses_is_a_warning_not_a_failed_publication(tmp_path, youtube):
    video, image = tmp_path / "v.mp4", tmp_path / "t.png"
    video.write_bytes(b"x" * 1000)
    image.write_bytes(b"\x89PNG" + b"0" * 100)
    youtube.refuse["thumbnail"] = httpx_free_error(403, "forbidden")
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url))

    result = publisher.publish(PublishRequest("p", "Title", "", [], "en", video, image))

    assert result.remote_id in youtube.videos and youtube.thumbnails == {}


def test_a_thumbnail_over_2_mb_is_sent_as_a_smaller_jpeg(tmp_path, youtube):
    from PIL import Image

    video, image = tmp_path / "v.mp4", tmp_path / "t.png"
    video.write_bytes(b"x" * 1000)
    Image.frombytes("RGB", (1920, 1080), os.urandom(1920 * 1080 * 3)).save(image)  # noise: a PNG of ~6 MB
    assert image.stat().st_size > 2 * 1024 * 1024
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url))

    result = publisher.publish(PublishRequest("p", "Title", "", [], "en", video, image))

    mime, data = youtube.thumbnails[result.remote_id]
    assert mime == "image/jpeg" and len(data) <= 2 * 1024 * 1024
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.format == "JPEG" and sent.size == (1280, 720)


def httpx_free_error(status, reason):
    from tests.fakes.youtube import error

    return error(status, reason, "The authenticated user doesn't have permissions to upload and set custom video thumbnails.")


def test_publish_at_needs_private_and_a_future_time_with_a_zone():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert check_publish_at("2030-01-02T10:00:00+01:00", "private", now=now) == "2030-01-02T09:00:00Z"
    assert check_publish_at(None, "public", now=now) is None
    with pytest.raises(InvalidInput, match="needs privacy 'private'"):
        check_publish_at("2030-01-02T10:00:00Z", "public", now=now)
    with pytest.raises(InvalidInput, match="no time zone"):
        check_publish_at("2030-01-02T10:00:00", "private", now=now)
    with pytest.raises(InvalidInput, match="in the past"):
        check_publish_at("2029-12-31T10:00:00Z", "private", now=now)
    with pytest.raises(InvalidInput, match="not an ISO 8601"):
        check_publish_at("next tuesday", "private", now=now)


def test_publish_at_is_sent_with_private_and_refused_before_any_request_otherwise(tmp_path, youtube):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    request = PublishRequest("p", "Title", "", [], "en", video, None)

    with pytest.raises(InvalidInput):
        YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                         options=VideoOptions(privacy="unlisted", publish_at=when.isoformat())).publish(request)
    assert youtube.log == []

    YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                     options=VideoOptions(privacy="private", publish_at=when.isoformat())).publish(request)
    (resource,) = youtube.videos.values()
    assert resource["status"] == {"privacyStatus": "private", "selfDeclaredMadeForKids": False,
                                  "containsSyntheticMedia": False, "publishAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_projects_own_publish_time_and_synthetic_media_are_declared(tmp_path, youtube):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                                 options=VideoOptions(privacy="private", synthetic=True))
    publisher.publish(PublishRequest("p", "Title", "", [], "en", video, None, publish_at=when.strftime("%Y-%m-%dT%H:%M:%SZ")))
    passed = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # the time passed while it was made
    publisher.publish(PublishRequest("q", "Title", "", [], "en", video, None, publish_at=passed, synthetic=False))
    first, second = youtube.videos.values()
    assert first["status"] == {"privacyStatus": "private", "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True,
                               "publishAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert second["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False, "containsSyntheticMedia": False}


def test_synthetic_media_is_declared_for_realistic_providers_only(tmp_path):
    from ytmaker.providers.youtube import declares_synthetic

    offline = fast_settings(tmp_path)
    assert not declares_synthetic(offline)
    assert declares_synthetic(fast_settings(tmp_path, image_provider="stability", stability_api_key="k"))
    assert declares_synthetic(fast_settings(tmp_path, speech_provider="edge"))
    assert declares_synthetic(fast_settings(tmp_path, youtube_synthetic="on"))
    assert not declares_synthetic(fast_settings(tmp_path, image_provider="stability", youtube_synthetic="off"))


def test_chunk_size_must_be_a_multiple_of_256_kib():
    with pytest.raises(InvalidInput, match="256 KiB"):
        YouTubePublisher(token=lambda: "t", client=httpx.Client(), chunk_size=UNIT + 1)


# -- authorisation ---------------------------------------------------------------------------


def test_a_revoked_refresh_token_says_to_authorise_again_without_the_token(settings, authorised, oauth):
    oauth.revoked = True
    token = load_access_token(TokenStore(settings.data_dir), token_uri=settings.youtube_token_uri)

    with pytest.raises(CredentialsRejected, match="ytmaker auth youtube") as caught:
        token()
    assert "invalid_grant" in str(caught.value)
    assert oauth.refresh_token not in str(caught.value) and oauth.client_secret not in str(caught.value)
    assert oauth.token_requests[-1]["grant_type"] == "refresh_token"


def test_uploading_without_authorisation_says_what_to_run(tmp_path):
    with pytest.raises(CredentialsRejected, match="ytmaker auth youtube --client-secrets"):
        load_access_token(TokenStore(tmp_path), token_uri="http://127.0.0.1:9/token")


def test_access_token_is_refreshed_once_at_the_configured_endpoint(settings, authorised, oauth):
    token = load_access_token(TokenStore(settings.data_dir), token_uri=settings.youtube_token_uri)

    assert token() == oauth.access_token and token() == oauth.access_token
    assert len(oauth.token_requests) == 1


class _FollowingBrowser(webbrowser.BaseBrowser):
    """Plays the user: opens the consent URL and follows the redirect back to the app."""

    def open(self, url, new=0, autoraise=True):
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()
        return True


@pytest.fixture
def fake_browser(monkeypatch):
    webbrowser.register("ytmaker-test", None, _FollowingBrowser("ytmaker-test"))
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake token endpoint is plain HTTP
    return "ytmaker-test"


def test_auth_flow_stores_the_refresh_token_in_a_file_only_the_user_can_read(tmp_path, oauth, fake_browser):
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps(oauth.client_secrets()))
    store = TokenStore(tmp_path / "data")

    where = authorize(secrets, store, browser=fake_browser, timeout_s=20)

    assert where == str(store.path)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert json.loads(store.path.read_text())["refresh_token"] == oauth.refresh_token
    assert set(oauth.consents[0]["scope"].split()) == set(SCOPES)
    assert oauth.consents[0]["access_type"] == "offline"
    assert isinstance(load_access_token(store, token_uri=f"{oauth.url}/token"), AccessToken)


def test_auth_flow_prefers_the_keyring(tmp_path, oauth, fake_browser):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps(oauth.client_secrets()))
    store = TokenStore(tmp_path / "data")

    assert authorize(secrets, store, browser=fake_browser, timeout_s=20) == "keyring"

    assert json.loads(backend.values[("ytmaker", "youtube")])["refresh_token"] == oauth.refresh_token
    assert not store.path.exists()
    assert store.load()["client_id"] == oauth.client_id


def test_tokens_never_reach_logs_records_or_progress(rt, project, youtube, oauth, stub_broker, stub_worker, capfd):
    youtube.status_on_chunk = {2: 503}  # a logged failure on the way
    from ytmaker.actors.upload import upload_to_youtube

    upload_to_youtube.send(project.id)
    stub_broker.join("upload", fail_fast=False)
    stub_worker.join()

    captured = capfd.readouterr()
    with rt.db.session() as session:
        final = session.get(Project, project.id)
        row = session.get(Publication, publication(rt, project.id).id)
    traces = [captured.out, captured.err, json.dumps(rt.progress.get(project.id)), final.error or "",
              row.session_uri or "", row.url or ""]
    assert "youtube_uploaded" in captured.err or final.status == "completed"
    for secret in (oauth.access_token, oauth.refresh_token, oauth.client_secret):
        assert not any(secret in trace for trace in traces), secret


# -- faults on the wire ------------------------------------------------------------------------


def reset_to_pending(rt, project_id, **publication_values):
    """As the database looks when the worker died before recording the publication."""
    with rt.db.session() as session:
        row = session.get(Publication, publication(rt, project_id).id)
        row.status = "pending"
        for name, value in publication_values.items():
            setattr(row, name, value)
        session.get(StageRun, (project_id, "upload")).status = "queued"
        session.get(Project, project_id).status = "uploading"


def test_an_access_token_revoked_early_is_refreshed_once_and_the_request_made_again(rt, project, youtube, oauth):
    token = load_access_token(TokenStore(rt.settings.data_dir), token_uri=rt.settings.youtube_token_uri)
    assert token() == "access-token-1"  # valid for an hour, as far as the client knows
    youtube.token = oauth.access_token = "access-token-2"  # ...but Google revoked it early
    youtube.log.clear()
    video = rt.project_dir(project.id) / "video.mp4"

    result = YouTubePublisher(token=token, client=httpx.Client(base_url=youtube.url), chunk_size=2 * UNIT).publish(
        PublishRequest(project.id, "Title", "", [], "en", video, None))

    assert [m for m, p, _ in youtube.log][:2] == ["POST", "POST"]  # refused with 401, then made again
    assert starts(youtube) == 2 and len(youtube.sessions) == 1 and list(youtube.videos) == [result.remote_id]
    assert [r["grant_type"] for r in oauth.token_requests] == ["refresh_token", "refresh_token"]
    assert youtube.uploaded[result.remote_id] == video.read_bytes()


def test_a_token_refused_again_after_the_refresh_is_a_credentials_error_after_one_refresh(rt, project, youtube, oauth):
    token = load_access_token(TokenStore(rt.settings.data_dir), token_uri=rt.settings.youtube_token_uri)
    youtube.token = "a-token-google-never-issues"
    video = rt.project_dir(project.id) / "video.mp4"

    with pytest.raises(CredentialsRejected, match="ytmaker auth youtube") as caught:
        YouTubePublisher(token=token, client=httpx.Client(base_url=youtube.url),
                         retry=QuickRetry(attempts=3, first_wait_s=0.01)).publish(
            PublishRequest(project.id, "Title", "", [], "en", video, None))

    assert starts(youtube) == 2 and youtube.videos == {}  # one retry after one refresh, never more
    assert len(oauth.token_requests) == 2
    assert oauth.access_token not in str(caught.value)


def test_captions_stored_but_unacknowledged_are_not_uploaded_twice(rt, project, youtube):
    (rt.project_dir(project.id) / "subtitles.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nBees.\n")
    youtube.drop_after_caption = True  # YouTube keeps the track, the answer is lost on the way

    with pytest.raises(ProviderUnavailable):
        stages.stage_function("upload")(rt, project.id)
    assert len(youtube.captions) == 1 and publication(rt, project.id).caption_id is None

    with rt.db.session() as session:  # as the retries middleware leaves it
        session.get(StageRun, (project.id, "upload")).status = "queued"
    stages.stage_function("upload")(rt, project.id)

    (caption,) = youtube.captions
    assert len(youtube.videos) == 1 and starts(youtube) == 1
    row = publication(rt, project.id)
    assert (row.status, row.caption_id) == ("published", caption["id"])
    assert sum(1 for m, p, _ in youtube.log if m == "GET" and p == "/youtube/v3/captions") == 2


def test_a_worker_lost_after_the_captions_finds_them_recorded_and_uploads_nothing_again(rt, project, youtube):
    (rt.project_dir(project.id) / "subtitles.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nBees.\n")
    stages.stage_function("upload")(rt, project.id)
    caption_id = publication(rt, project.id).caption_id
    assert caption_id == youtube.captions[0]["id"]

    reset_to_pending(rt, project.id)  # the caption id was recorded, the publication was not
    youtube.log.clear()
    stages.stage_function("upload")(rt, project.id)
    assert not any(p.endswith("/captions") for _, p, _ in youtube.log)  # not even a list call

    reset_to_pending(rt, project.id, caption_id=None)  # died before even the caption id was recorded
    youtube.log.clear()
    stages.stage_function("upload")(rt, project.id)

    assert [(m, p) for m, p, _ in youtube.log if p.endswith("/captions")] == [("GET", "/youtube/v3/captions")]
    assert len(youtube.captions) == 1 and len(youtube.videos) == 1
    assert publication(rt, project.id).caption_id == caption_id


def test_a_429_with_retry_after_is_waited_out_then_the_upload_goes_on(tmp_path, youtube):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    youtube.refuse["start"] = error(429, "rateLimitExceeded", "Too many requests", **{"Retry-After": "1"})
    slept = []
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                                 retry=QuickRetry(attempts=3, max_wait_s=5, sleep=slept.append))

    result = publisher.publish(PublishRequest("p", "Title", "", [], "en", video, None))

    assert starts(youtube) == 2 and list(youtube.videos) == [result.remote_id]
    assert len(slept) == 1 and 1.0 <= slept[0] < 1.2


def test_a_long_retry_after_goes_to_the_stage_retries_without_sleeping(tmp_path, youtube):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    youtube.refuse["chunk"] = error(429, "rateLimitExceeded", "Too many requests", **{"Retry-After": "120"})
    slept = []
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                                 retry=QuickRetry(attempts=3, max_wait_s=5, sleep=slept.append))

    with pytest.raises(ProviderUnavailable) as caught:
        publisher.publish(PublishRequest("p", "Title", "", [], "en", video, None))
    assert caught.value.retry_after == 120 and slept == []


def test_a_chunk_answered_past_the_timeout_is_resumed_from_what_youtube_kept(rt, project, youtube):
    rt.settings.youtube_attempts, rt.settings.youtube_timeout_s = 3, 0.5
    youtube.delay_on_chunk = {1: 1.5}  # the first chunk arrives, its 308 comes too late

    stages.stage_function("upload")(rt, project.id)

    n = VIDEO_SIZE
    assert starts(youtube) == 1 and len(youtube.videos) == 1
    assert chunk_ranges(youtube) == [f"bytes 0-{2 * UNIT - 1}/{n}", f"bytes */{n}",
                                     f"bytes {2 * UNIT}-{4 * UNIT - 1}/{n}", f"bytes {4 * UNIT}-{n - 1}/{n}"]
    (video_id,) = youtube.videos
    assert youtube.uploaded[video_id] == (rt.project_dir(project.id) / "video.mp4").read_bytes()


def test_a_garbled_answer_to_the_last_chunk_is_asked_for_again_not_uploaded_again(rt, project, youtube):
    rt.settings.youtube_attempts = 3
    youtube.garble_finish = True

    stages.stage_function("upload")(rt, project.id)

    (video_id,) = youtube.videos
    assert starts(youtube) == 1 and chunk_ranges(youtube)[-1] == f"bytes */{VIDEO_SIZE}"
    assert publication(rt, project.id).remote_id == video_id


def test_a_5xx_on_the_start_is_transient_and_a_malformed_error_body_still_gives_the_status(tmp_path, youtube):
    from tests.fakes.server import Reply

    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    youtube.refuse["start"] = Reply(502, b"<html><body>Bad Gateway</body>", {"Content-Type": "text/html"})
    publisher = YouTubePublisher(token=lambda: youtube.token, client=httpx.Client(base_url=youtube.url),
                                 retry=QuickRetry(attempts=1))

    with pytest.raises(ProviderUnavailable, match=r"HTTP 502.*Bad Gateway"):
        publisher.publish(PublishRequest("p", "Title", "", [], "en", video, None))
