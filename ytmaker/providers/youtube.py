"""YouTube Data API v3 publisher: one resumable upload that survives retries and crashed workers.

The documented REST protocol, spoken with httpx::

    start    POST {base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
             (video resource as JSON) -> 200, Location: <session URI>   saved before the first byte
    chunks   PUT <session>, Content-Range: bytes a-b/N -> 308, Range: bytes=0-k ... -> 200/201 video
    resume   PUT <session>, Content-Range: bytes */N (empty) -> 308 [Range] | 200/201 (already
             complete: no second video) | 404/410 (session expired: a new one is started)
    then     the thumbnail and the caption track (:mod:`ytmaker.providers.youtube_steps`)

A 401 on any call first gets a fresh access token (the token may have been
revoked or expired early) and the call is made once more; a second 401 is
:class:`CredentialsRejected` (:mod:`ytmaker.providers.youtube_api`, which also
reads YouTube's quota reasons). 429, 5xx and connection loss are
ProviderUnavailable: the next attempt resumes the same session.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog

from ytmaker.errors import InvalidInput, PermanentError, ProviderUnavailable, QuotaExceeded
from ytmaker.providers.base import PublishRequest, PublishResult
from ytmaker.providers.retrying import QuickRetry
from ytmaker.providers.youtube_api import YouTubeApi
from ytmaker.providers.youtube_steps import caption_file, captions_once, set_thumbnail

__all__ = ["CHUNK_UNIT", "VideoOptions", "YouTubePublisher", "build_youtube", "caption_file", "check_publish_at",
           "video_resource"]

log = structlog.get_logger(__name__)

#: chunk sizes must be multiples of this (the last chunk excepted)
CHUNK_UNIT = 256 * 1024
WATCH_URL = "https://www.youtube.com/watch?v={id}"


@dataclass(frozen=True)
class VideoOptions:
    privacy: str = "private"
    publish_at: str | None = None  # ISO 8601 with a time zone
    category_id: str = "22"
    #: YouTube's ``status.containsSyntheticMedia``: realistic altered or synthetic content must be disclosed
    synthetic: bool = False


def check_publish_at(value: str | None, privacy: str, *, now: datetime | None = None) -> str | None:
    """``publishAt`` as YouTube wants it (UTC, ``Z``), or InvalidInput saying what is wrong."""
    if not value:
        return None
    if privacy != "private":
        raise InvalidInput(f"a scheduled publication (publishAt {value}) needs privacy 'private', not {privacy!r}: "
                           "YouTube makes the video public at that time. Set YTMAKER_YOUTUBE_PRIVACY=private")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"publishAt {value!r} is not an ISO 8601 time such as 2030-01-31T18:00:00+01:00") from None
    if when.tzinfo is None:
        raise InvalidInput(f"publishAt {value!r} has no time zone; add one, e.g. Z or +01:00")
    if when <= (now or datetime.now(UTC)):
        raise InvalidInput(f"publishAt {value} is in the past; choose a later time")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def video_resource(request: PublishRequest, options: VideoOptions) -> dict:
    """The video resource sent with the upload, within YouTube's limits (pure; raises InvalidInput)."""
    privacy = options.privacy
    wanted = request.publish_at or options.publish_at
    if request.publish_at and datetime.fromisoformat(request.publish_at.replace("Z", "+00:00")) <= datetime.now(UTC):
        # The project's publish time passed while it was made (a long batch, a wait for quota): it was to be public by now.
        privacy, wanted = "public", None
    publish_at = check_publish_at(wanted, privacy)
    title = _clean(request.title)[:100].strip()
    if not title:
        raise InvalidInput("the video has no title; YouTube requires one")
    description = _clean(request.description).encode("utf-8")[:5000].decode("utf-8", "ignore")
    tags: list[str] = []
    used = 0
    for tag in (_clean(t).strip() for t in request.tags):
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)  # quoted if spaced, comma-separated
        if tag and used + cost <= 500:
            tags.append(tag)
            used += cost
    # Privacy is always sent: an upload without it has defaulted to public since 2026-11-02.
    synthetic = options.synthetic if request.synthetic is None else request.synthetic
    status: dict[str, Any] = {"privacyStatus": privacy, "selfDeclaredMadeForKids": False, "containsSyntheticMedia": synthetic}
    if publish_at:
        status["publishAt"] = publish_at
    return {
        "snippet": {"title": title, "description": description, "tags": tags,
                    "categoryId": options.category_id,
                    "defaultLanguage": request.language, "defaultAudioLanguage": request.language},
        "status": status,
    }


def _clean(text: str) -> str:
    return (text or "").replace("<", "‹").replace(">", "›")  # YouTube refuses angle brackets in titles


class YouTubePublisher:
    """A :class:`~ytmaker.providers.base.Publisher` to YouTube, built per upload with its own ``client``.

    ``client`` has the API's base URL (session URIs are absolute); :meth:`close` closes it.
    """

    target = "youtube"

    def __init__(self, *, token: Callable[[], str], client: httpx.Client, options: VideoOptions = VideoOptions(),
                 chunk_size: int = 40 * CHUNK_UNIT, retry: QuickRetry | None = None) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise InvalidInput(f"YouTube chunk size {chunk_size} is not a multiple of 256 KiB ({CHUNK_UNIT} bytes)")
        self.client = client
        self.api = YouTubeApi(token=token, client=client)
        self.options = options
        self.chunk_size = chunk_size
        self.retry = retry or QuickRetry()

    def close(self) -> None:
        """Close the HTTP connections of this upload."""
        self.client.close()

    def publish(self, request: PublishRequest) -> PublishResult:
        resource = video_resource(request, self.options)  # refuse bad metadata before any byte is sent
        video = self._upload(request, resource)
        video_id = str(video["id"])
        log.info("youtube_uploaded", project_id=request.project_id, video_id=video_id)
        thumbnail = request.thumbnail
        if thumbnail is not None and thumbnail.exists():
            self._optional(lambda: set_thumbnail(self.api, video_id, thumbnail), "thumbnail", video_id)
        captions = caption_file(request.video)
        if captions is not None and not request.caption_id:
            self._optional(lambda: captions_once(self.api, request, video_id, captions), "captions", video_id)
        return PublishResult(remote_id=video_id, url=WATCH_URL.format(id=video_id))

    def _optional(self, call: Callable[[], None], what: str, video_id: str) -> None:
        # The video is up: a thumbnail or captions YouTube refuses (an unverified channel cannot set
        # thumbnails) is a warning, not a failed publication. Quota and outages still stop the stage,
        # and the retry resumes the finished session, so it only redoes this step.
        try:
            call()
        except (QuotaExceeded, ProviderUnavailable):
            raise
        except PermanentError as exc:
            log.warning("youtube_step_refused", step=what, video_id=video_id, reason=str(exc))

    # -- the resumable upload ---------------------------------------------------------

    def _upload(self, request: PublishRequest, resource: dict) -> dict:
        size = request.video.stat().st_size
        if size == 0:
            raise InvalidInput(f"the video {request.video.name} is empty")
        mime = mimetypes.guess_type(request.video.name)[0] or "video/mp4"
        session = request.session_uri

        def attempt() -> dict:
            nonlocal session
            if session:
                done, offset = self._query(session, size)
                if done is not None:
                    return done
                if offset is not None:
                    return self._send(session, request.video, offset, size, mime)
            started = session = self._start(resource, size, mime)
            if request.save_session:
                request.save_session(started)
            return self._send(started, request.video, 0, size, mime)

        return self.retry(attempt, what="youtube upload")

    def _start(self, resource: dict, size: int, mime: str) -> str:
        response = self.api.call("POST", "/upload/youtube/v3/videos", what="upload",
                                 params={"uploadType": "resumable", "part": "snippet,status"}, json=resource,
                                 headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": mime})
        if response.status_code != 200:
            raise self.api.error(response, "upload")
        session = response.headers.get("Location")
        if not session:
            raise ProviderUnavailable("YouTube started an upload without a session URI (no Location header)")
        return session

    def _query(self, session: str, size: int) -> tuple[dict | None, int | None]:
        """Where an earlier upload stopped: (video, _) when complete, (None, offset), or (None, None) if expired."""
        response = self.api.call("PUT", session, what="upload", headers={"Content-Range": f"bytes */{size}"},
                                 content=b"")
        if response.status_code in (200, 201):
            return _video(response), 0
        if response.status_code == 308:
            return None, _next_offset(response)
        if response.status_code in (404, 410):
            log.info("youtube_session_expired", status=response.status_code)
            return None, None
        raise self.api.error(response, "upload")

    def _send(self, session: str, path: Path, offset: int, size: int, mime: str) -> dict:
        stalls = 0
        with open(path, "rb") as handle:
            while True:
                handle.seek(offset)
                chunk = handle.read(self.chunk_size)
                end = offset + len(chunk) - 1
                response = self.api.call("PUT", session, what="upload", content=chunk,
                                         headers={"Content-Range": f"bytes {offset}-{end}/{size}", "Content-Type": mime})
                if response.status_code in (200, 201):
                    return _video(response)
                if response.status_code != 308:
                    raise self.api.error(response, "upload")
                reached = _next_offset(response)
                stalls = stalls + 1 if reached <= offset else 0
                if stalls >= 3:
                    raise ProviderUnavailable(f"YouTube accepted no bytes past {reached} of {size} three times")
                offset = reached


def _video(response: httpx.Response) -> dict:
    """The video resource of a finished upload; an unreadable one is asked for again by the next attempt."""
    try:
        video = response.json()
    except ValueError:
        video = None
    if not isinstance(video, dict) or not video.get("id"):
        raise ProviderUnavailable("YouTube finished the upload but its answer was not a readable video resource; "
                                  "the next attempt asks the session for it again")
    return video


def _next_offset(response: httpx.Response) -> int:
    """The first byte the server still needs, from a 308's ``Range: bytes=0-k`` (none: from 0)."""
    value = response.headers.get("Range", "")
    _, _, last = value.partition("-")
    return int(last) + 1 if last.strip().isdigit() else 0


#: providers whose output a viewer could take for real: generated pictures, stock footage matched by a machine, a
#: talking head, neural voices (Pillow slides and espeak-ng's voice are plainly synthetic, not realistic)
REALISTIC = {"image_provider": {"stability"}, "avatar_provider": {"did"}, "speech_provider": {"google", "edge"}}


def declares_synthetic(settings: Any) -> bool:
    """``YTMAKER_YOUTUBE_SYNTHETIC``: on, off, or auto (on when a realistic provider makes the video)."""
    choice = getattr(settings, "youtube_synthetic", "auto")
    if choice != "auto":
        return choice == "on"
    return any(getattr(settings, name, None) in values for name, values in REALISTIC.items())


def build_youtube(settings: Any, data_dir: Path, *, client: httpx.Client) -> YouTubePublisher:
    """The publisher from configuration, with the token stored by `ytmaker auth youtube`; it owns ``client``."""
    from ytmaker.providers.youtube_auth import TokenStore, load_access_token

    token = load_access_token(TokenStore(data_dir), token_uri=settings.youtube_token_uri)
    options = VideoOptions(privacy=settings.youtube_privacy, publish_at=settings.youtube_publish_at,
                           category_id=settings.youtube_category_id, synthetic=declares_synthetic(settings))
    return YouTubePublisher(token=token, client=client, options=options, chunk_size=settings.youtube_chunk_size,
                            retry=QuickRetry(attempts=settings.youtube_attempts))
