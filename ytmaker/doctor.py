"""`ytmaker doctor`: is each stage's configured provider usable here, and if not, what to do.

Checks look, they do not spend: keys and tokens are checked for presence
(never sent), FFmpeg is run with ``-version``, Redis is pinged and the
database answers ``select 1``. A check marked required that fails makes the
command exit non-zero.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ytmaker.config import Settings
from ytmaker.errors import PermanentError

#: languages whose text needs a CJK font on slides, thumbnails and subtitles
CJK_LANGUAGES = ("zh", "ja", "ko")


@dataclass(frozen=True)
class Check:
    what: str  # a stage or a dependency
    provider: str  # what is configured for it
    ok: bool
    required: bool
    detail: str  # what was found, or what to do

    @property
    def blocking(self) -> bool:
        return self.required and not self.ok


def _secret(settings: Settings, name: str) -> bool:
    value = getattr(settings, name, None)
    return bool(value is not None and value.get_secret_value().strip())


def _key_check(what: str, provider: str, settings: Settings, name: str, how: str) -> Check:
    if _secret(settings, name):
        return Check(what, provider, True, True, f"YTMAKER_{name.upper()} is set")
    return Check(what, provider, False, True, f"set YTMAKER_{name.upper()} ({how}), or choose an offline provider")


def check_stages(settings: Settings) -> list[Check]:
    """One check per stage, for the provider configured for it."""
    checks = []
    script = settings.script_provider
    checks.append(_key_check("script", script, settings, "gemini_api_key", "a key from aistudio.google.com")
                  if script == "gemini" else _openai(settings) if script == "openai"
                  else Check("script", script, True, True, "offline writer, no network"))
    images = settings.image_provider
    checks.append(_key_check("images", images, settings, "stability_api_key", "a key from platform.stability.ai")
                  if images == "stability" else
                  _key_check("images", images, settings, "pexels_api_key", "a free key from www.pexels.com/api")
                  if images == "pexels" else Check("images", images, True, True, "offline slides, no network"))
    speech = settings.speech_provider
    if speech == "edge":
        checks.append(Check("audio", speech, True, True, "Edge neural voices (no key; needs the network): a voice per "
                                                         "language, or --voice; YTMAKER_EDGE_RATE/_PITCH"))
    elif speech == "google":
        checks.append(_key_check("audio", speech, settings, "google_tts_api_key", "a Cloud API key with Text-to-Speech enabled"))
    elif speech == "espeak":
        checks.append(_espeak())
    else:
        checks.append(Check("audio", speech, True, True, "silent test audio"))
    checks.append(_avatars(settings))
    checks.append(_publisher(settings))
    return checks


def _openai(settings: Settings) -> Check:
    key = "with YTMAKER_OPENAI_API_KEY" if _secret(settings, "openai_api_key") else "no key (set YTMAKER_OPENAI_API_KEY unless local)"
    return Check("script", "openai", True, True, f"{settings.openai_model} at {_redact(settings.openai_base_url)}, {key}")


def _espeak() -> Check:
    try:
        import espeakng_loader  # type: ignore[import-untyped]

        library = Path(espeakng_loader.get_library_path())
    except (ImportError, OSError, RuntimeError) as exc:
        return Check("audio", "espeak", False, True, f"espeak-ng unavailable ({exc}): pip install espeakng-loader")
    if not library.exists():
        return Check("audio", "espeak", False, True, f"{library} is missing: pip install --force-reinstall espeakng-loader")
    return Check("audio", "espeak", True, True, f"libespeak-ng at {library}")


def _avatars(settings: Settings) -> Check:
    if settings.avatar_provider == "none":
        return Check("avatars", "none", True, False, "no avatar: the stage is skipped")
    missing = []
    if not _secret(settings, "did_api_key"):
        missing.append("YTMAKER_DID_API_KEY (studio.d-id.com, API key)")
    if not settings.did_source_url:
        missing.append("YTMAKER_DID_SOURCE_URL (a public URL of the presenter's image)")
    if missing:
        return Check("avatars", "did", False, True, "set " + " and ".join(missing))
    return Check("avatars", "did", True, True, f"D-ID at {settings.did_base_url}, presenter {settings.did_source_url}")


def _publisher(settings: Settings) -> Check:
    if settings.publisher == "youtube":
        from ytmaker.providers.youtube import check_publish_at
        from ytmaker.providers.youtube_auth import TokenStore

        try:
            info = TokenStore(settings.data_dir).load()
            check_publish_at(settings.youtube_publish_at, settings.youtube_privacy)
        except PermanentError as exc:
            return Check("upload", "youtube", False, True, str(exc))
        if not info or not info.get("refresh_token"):
            return Check("upload", "youtube", False, True, "not authorised: run `ytmaker auth youtube --client-secrets FILE`")
        return Check("upload", "youtube", True, True, f"authorised; uploads as {settings.youtube_privacy}")
    target = settings.data_dir / "published"
    parent = next((p for p in (target, *target.parents) if p.exists()), Path("."))
    if os.access(parent, os.W_OK):
        return Check("upload", "folder", True, True, f"publishes to {target}")
    return Check("upload", "folder", False, True, f"{parent} is not writable: fix permissions or set YTMAKER_DATA_DIR")


def check_media(settings: Settings, *, ffmpeg: Callable[[], str] | None = None,
                font: Callable[..., str | None] | None = None) -> list[Check]:
    """FFmpeg and the fonts slides, thumbnails and subtitles are drawn with."""
    from ytmaker.media.ffmpeg import ffmpeg_exe, query_ffmpeg
    from ytmaker.media.fonts import font_path

    ffmpeg, font = ffmpeg or ffmpeg_exe, font or font_path
    checks = []
    try:
        exe = ffmpeg()
        version = " ".join((query_ffmpeg(["-version"], timeout_s=20, exe=exe).stdout.split() or ["ffmpeg"])[:3])
        checks.append(Check("ffmpeg", exe, True, True, version))
    except Exception as exc:  # noqa: BLE001  (not found, not executable, broken build: all say the same)
        checks.append(Check("ffmpeg", "-", False, True, f"FFmpeg does not run ({exc}): install ffmpeg or `pip install imageio-ffmpeg`"))
    latin = font()
    checks.append(Check("font", latin or "Pillow's default", bool(latin), False,
                        "found" if latin else "install fonts-dejavu-core for sharper text"))
    cjk = font(cjk=True)
    needs_cjk = settings.language.split("-")[0].lower() in CJK_LANGUAGES
    checks.append(Check("font (CJK)", cjk or "-", bool(cjk), needs_cjk,
                        "found" if cjk else "none found: Chinese, Japanese or Korean subtitles and slides would show empty boxes; "
                        "install one (apt install fonts-noto-cjk or fonts-wqy-zenhei; brew install --cask font-noto-sans-cjk)"))
    return checks


def check_services(settings: Settings) -> list[Check]:
    """Redis (unless embedded) and the database answer."""
    checks = []
    url = settings.redis_url
    if settings.embedded or not url:
        checks.append(Check("redis", "embedded", True, True, "no YTMAKER_REDIS_URL: in-process broker and worker"))
    else:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
            checks.append(Check("redis", _redact(url), True, True, "reachable"))
            checks += check_workers(client, settings.worker_heartbeat_timeout_s)
        except redis.RedisError as exc:
            checks.append(Check("redis", _redact(url), False, True,
                                f"not reachable ({type(exc).__name__}): start Redis or fix YTMAKER_REDIS_URL"))
        finally:
            client.close()
    from sqlalchemy import text

    from ytmaker.db.session import Database

    db = Database(settings.resolved_database_url)
    shown = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("select 1"))
        checks.append(Check("database", shown, True, True, "reachable (`ytmaker db upgrade` creates the schema)"))
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("database", shown, False, True,
                            f"not reachable ({type(exc).__name__}): start it or fix YTMAKER_DATABASE_URL"))
    finally:
        db.dispose()
    return checks


def check_workers(client, timeout_s: float) -> list[Check]:
    """One check per queue: does a live worker consume it (stamped within ``timeout_s``)? Not required: they may start later."""
    from ytmaker.graph import queues
    from ytmaker.presence import advice, live_consumers

    checks = []
    for queue in queues():
        count = live_consumers(client, queue, timeout_s)
        checks.append(Check("workers", queue, count > 0, False,
                            f"{count} live worker{'s' if count != 1 else ''}" if count else advice([queue])))
    return checks


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(configured URL)"


def run_checks(settings: Settings) -> list[Check]:
    return [*check_stages(settings), *check_media(settings), *check_services(settings)]
