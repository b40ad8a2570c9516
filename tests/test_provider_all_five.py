"""All five real clients in one pipeline run through Dramatiq, each against its fake service.

Gemini writes the script, Stability AI paints the images, Google TTS speaks the
narration, D-ID makes a talking presenter from that narration, the renderer
makes a draft video and YouTube "publishes" it. The run must complete with
exactly one video created at the fake, its thumbnail and captions set, the
avatars recorded, and no key or token anywhere in the logs, the progress
hash, Redis, the database or the data dir.
"""

from __future__ import annotations

import base64
import io
import logging
import subprocess

import httpx
import keyring
import keyring.backend
import pytest
import structlog
from sqlalchemy import select

from tests.conftest import REDIS_URL, fast_settings
from tests.fakes.did import FakeDID
from tests.fakes.gemini import VALID_SCRIPT, FakeGemini
from tests.fakes.google_tts import FakeTextToSpeech
from tests.fakes.oauth import FakeOAuth
from tests.fakes.stability import FakeStability
from tests.fakes.youtube import UNIT, FakeYouTube
from ytmaker.db.migrate import upgrade
from ytmaker.db.models import Asset, Base, Publication, StageRun, Thumbnail, Video
from ytmaker.embedded import wait_for
from ytmaker.graph import STAGES
from ytmaker.media.ffmpeg import ffmpeg_exe
from ytmaker.pipelines import start_generation
from ytmaker.projects import ProjectOptions, create_project
from ytmaker.providers.youtube import caption_file
from ytmaker.providers.youtube_auth import SCOPES, TokenStore
from ytmaker.runtime import build_runtime, set_runtime
from ytmaker.stages import avatars

GEMINI_KEY = "AIzaSECRET-gemini-all5-1a2b3c4d"
STABILITY_KEY = "sk-SECRET-stability-all5-5e6f7a8b"
TTS_KEY = "AIzaSECRET-tts-all5-9c0d1e2f"
DID_KEY = "dXNlckBleGFtcGxlLm9yZw==:SECRET-did-all5-3a4b5c"
ACCESS_TOKEN = "ya29.SECRET-access-all5-6d7e8f"
REFRESH_TOKEN = "1//SECRET-refresh-all5-9a0b1c"
CLIENT_SECRET = "GOCSPX-SECRET-client-all5-2d3e"
SECRETS = (GEMINI_KEY, STABILITY_KEY, TTS_KEY, DID_KEY, base64.b64encode(DID_KEY.encode()).decode(),
           ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)
TEXT = "Honeybees talk by dancing. The angle of the dance points to the food."
PRESENTER = "https://example.org/presenter.jpg"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The user's keychain, in memory: the YouTube authorisation goes there, not into the data dir."""

    priority = 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def set_password(self, service, username, password):
        self.values[(service, username)] = password

    def get_password(self, service, username):
        return self.values.get((service, username))

    def delete_password(self, service, username):
        self.values.pop((service, username), None)


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory) -> bytes:
    """A real (tiny) MP4 for the fake D-ID to hand out, so a renderer that overlays avatars can read it."""
    out = tmp_path_factory.mktemp("did") / "talk.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=64x64:d=1:r=10",
                    "-f", "lavfi", "-i", "sine=frequency=220:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)], check=True, timeout=60)
    return out.read_bytes()


@pytest.fixture
def services(talk_video):
    oauth = FakeOAuth(client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN, access_token=ACCESS_TOKEN)
    with FakeGemini(GEMINI_KEY) as gemini, FakeStability(STABILITY_KEY) as stability, FakeTextToSpeech(TTS_KEY) as tts, \
            FakeDID(key=DID_KEY) as did, oauth, FakeYouTube(token=ACCESS_TOKEN) as youtube:
        did.video = talk_video
        yield {"gemini": gemini, "stability": stability, "tts": tts, "did": did, "oauth": oauth, "youtube": youtube}


@pytest.fixture
def keychain():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def logs(capfd):
    """Everything logged: structlog events before masking, stdlib logging at DEBUG, and the process's output."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        yield lambda: "\n".join([stream.getvalue(), *(repr(e) for e in events), *capfd.readouterr()])
    root.removeHandler(handler)
    root.setLevel(level)


def all_five_settings(tmp_path, database_url, services, **extra):
    s = services
    return fast_settings(
        tmp_path, database_url=database_url, render_quality="draft",
        script_provider="gemini", gemini_api_key=GEMINI_KEY, gemini_base_url=s["gemini"].url,
        image_provider="stability", stability_api_key=STABILITY_KEY, stability_base_url=s["stability"].url,
        speech_provider="google", google_tts_api_key=TTS_KEY, google_tts_base_url=s["tts"].url,
        avatar_provider="did", did_api_key=DID_KEY, did_base_url=s["did"].url, did_source_url=PRESENTER,
        did_poll_first_s=0.05, did_poll_max_s=0.2,
        publisher="youtube", youtube_base_url=s["youtube"].url, youtube_token_uri=f"{s['oauth'].url}/token",
        youtube_chunk_size=UNIT, provider_quick_max_wait_s=1.0, **extra)


def authorise(settings, oauth) -> str:
    """What `ytmaker auth youtube` leaves behind."""
    return TokenStore(settings.data_dir).save({"client_id": oauth.client_id, "client_secret": CLIENT_SECRET,
                                               "refresh_token": REFRESH_TOKEN, "token_uri": f"{oauth.url}/token",
                                               "scopes": SCOPES})


def everything_stored(rt) -> str:
    """Every row of every table, every Redis value, every file in the data dir: as one text."""
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
        elif kind == b"list":
            parts.append(repr(rt.redis.lrange(key, 0, -1)))
        elif kind == b"zset":
            parts.append(repr(rt.redis.zrange(key, 0, -1)))
    for path in rt.data_dir.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def run_and_check(rt, services, logs) -> None:
    gemini, stability, tts, did, youtube = (services[n] for n in ("gemini", "stability", "tts", "did", "youtube"))
    project = create_project(rt, TEXT, ProjectOptions(publish_target="youtube"))

    final = wait_for(rt, start_generation(project.id), timeout_s=180)

    assert final.status == "completed", final.error
    segments = len(VALID_SCRIPT["segments"])
    with rt.db.session() as session:
        runs = {r.stage: r.status for r in session.scalars(select(StageRun).where(StageRun.project_id == project.id))}
        assets = session.scalars(select(Asset).where(Asset.project_id == project.id)).all()
        video = session.get(Video, project.id)
        thumbnail = session.get(Thumbnail, project.id)
        publication = session.scalars(select(Publication).where(Publication.project_id == project.id)).one()
    assert set(runs.values()) == {"succeeded"} and len(runs) == 7  # avatars too: not skipped
    kinds = {kind: sorted(a.segment_index for a in assets if a.kind == kind) for kind in ("image", "audio", "avatar")}
    assert kinds == {kind: list(range(segments)) for kind in kinds}

    # Each service was asked once per piece of work, with its own credentials only.
    assert len(gemini.calls()) == 1 and len(stability.generations()) == segments and len(tts.syntheses()) == segments
    assert {r.headers["x-goog-api-key"] for r in gemini.calls()} == {GEMINI_KEY}
    assert {r.headers["authorization"] for r in stability.generations()} == {f"Bearer {STABILITY_KEY}"}
    assert {r.headers["x-goog-api-key"] for r in tts.syntheses()} == {TTS_KEY}

    # D-ID: one talk per segment, made from our own narration, recorded as avatar assets.
    audio = {a.segment_index: rt.path(a.path).read_bytes() for a in assets if a.kind == "audio"}
    assert len(did.talk_requests) == segments and sorted(did.audios.values(), key=len) == sorted(audio.values(), key=len)
    assert all(body["source_url"] == PRESENTER and body["script"]["type"] == "audio" for body in did.talk_requests)
    assert all(rt.path(a.path).read_bytes() == did.video and a.duration_ms == 2500 for a in assets if a.kind == "avatar")
    talks = avatars.started_talks(rt, project.id)
    assert sorted(talks) == list(range(segments)) and {t.status for t in talks.values()} == {"done"}

    # YouTube: exactly one video, the rendered file byte for byte, with its thumbnail and captions.
    (video_id, resource), = youtube.videos.items()
    video_path = rt.path(video.path)
    assert youtube.uploaded[video_id] == video_path.read_bytes()
    assert resource["snippet"]["title"] == VALID_SCRIPT["title"] and resource["status"]["privacyStatus"] == "private"
    assert youtube.thumbnails[video_id][1] == rt.path(thumbnail.path).read_bytes()
    subtitles = caption_file(video_path)
    if getattr(rt.settings, "subtitles", False):
        assert subtitles is not None  # the renderer writes them beside the video, for this upload
    if subtitles is not None:
        (caption,) = youtube.captions
        assert caption["snippet"]["videoId"] == video_id and caption["body"] == subtitles.read_bytes()
        assert publication.caption_id == caption["id"]
    else:
        assert youtube.captions == [] and not any(p.endswith("/captions") for _, p, _ in youtube.log)
    assert (publication.status, publication.remote_id) == ("published", video_id)
    assert rt.progress.get(project.id)["status"] == "completed"

    # No secret anywhere it could leak to.
    logged, stored, progress = logs(), everything_stored(rt), repr(rt.progress.get(project.id))
    assert "generateContent" in logged and "avatar_talk_started" in logged and "youtube_uploaded" in logged
    for secret in SECRETS:
        assert secret not in logged, secret
        assert secret not in stored, secret
        assert secret not in progress, secret


def test_all_five_real_clients_make_and_publish_a_video_through_the_stub_broker(
        tmp_path, database_url, services, keychain, logs, stub_broker, stub_worker):
    settings = all_five_settings(tmp_path, database_url, services)
    assert authorise(settings, services["oauth"]) == "keyring"
    import fakeredis

    rt = build_runtime(settings, redis=fakeredis.FakeRedis())
    upgrade(rt.db)
    set_runtime(rt)
    try:
        run_and_check(rt, services, logs)
    finally:
        set_runtime(None)
        rt.close()


def test_all_five_real_clients_on_real_redis_with_a_redis_worker(tmp_path, database_url, services, keychain, logs,
                                                                 redis_worker):
    # redis_worker consumes from the real Redis; this runtime (real Redis too) replaces the fixture's.
    settings = all_five_settings(tmp_path / "all5", database_url, services, redis_url=REDIS_URL)
    authorise(settings, services["oauth"])
    rt = build_runtime(settings)
    upgrade(rt.db)
    set_runtime(rt)
    try:
        run_and_check(rt, services, logs)
    finally:
        set_runtime(None)
        rt.close()


def test_closing_the_runtime_closes_every_provider_client(tmp_path, services, keychain):
    settings = all_five_settings(tmp_path, f"sqlite:///{tmp_path / 'close.db'}", services)
    import fakeredis

    rt = build_runtime(settings, redis=fakeredis.FakeRedis())
    providers = rt.providers
    clients = {"gemini": providers.script_writer._client._api_client._httpx_client,
               "stability": providers.images.client, "tts": providers.speech.client, "did": providers.avatars.client}
    assert not any(client.is_closed for client in clients.values())

    rt.close()

    assert {name: client.is_closed for name, client in clients.items()} == dict.fromkeys(clients, True)
    with pytest.raises(RuntimeError):
        providers.images.client.get("/")  # a closed client refuses to send


def test_the_upload_stage_closes_the_publisher_it_built(tmp_path, services, keychain, monkeypatch):
    from ytmaker.providers import youtube as youtube_module

    built = []
    original = youtube_module.build_youtube
    monkeypatch.setattr(youtube_module, "build_youtube", lambda *a, **k: built.append(original(*a, **k)) or built[-1])
    settings = all_five_settings(tmp_path, f"sqlite:///{tmp_path / 'pub.db'}", services)
    authorise(settings, services["oauth"])
    import fakeredis

    rt = build_runtime(settings, redis=fakeredis.FakeRedis())
    upgrade(rt.db)
    try:
        project = create_project(rt, TEXT, ProjectOptions(publish_target="youtube"))
        folder = rt.project_dir(project.id)
        folder.mkdir(parents=True)
        (folder / "video.mp4").write_bytes(b"\x00" * 1000)
        from ytmaker.db.models import Script

        with rt.db.session() as session:
            session.add(Script(project_id=project.id, title="T", description="", tags=[], segments=[]))
            session.add(Video(project_id=project.id, path=rt.relative(folder / "video.mp4"), checksum="0", duration_ms=1))
            for stage in STAGES[:-1]:  # everything before the upload is done
                session.add(StageRun(project_id=project.id, stage=stage, status="succeeded"))
        from ytmaker import stages

        assert stages.stage_function("upload")(rt, project.id) == "succeeded"
        (publisher,) = built
        assert isinstance(publisher.client, httpx.Client) and publisher.client.is_closed
        assert len(services["youtube"].videos) == 1
    finally:
        rt.close()
