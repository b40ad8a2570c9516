"""YouTube Data API v3 publisher: one resumable upload that survives retries and crashed workers.

The documented REST protocol, spoken with httpx::

    start    POST {base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
             (video resource as JSON) -> 200, Location: <session URI>   saved before the first byte
    chunks   PUT <session>, Content-Range: bytes a-b/N -> 308, Range: bytes=0-k ... -> 200/201 video
    resume   PUT <session>, Content-Range: bytes */N (empty) -> 308 [Range] | 200/201 (already
             complete: no second video) | 404/410 (session expired: a new one is started)
    then     POST {base}/upload/youtube/v3/thumbnails/set?videoId=...    (the image as the body)
             GET  {base}/youtube/v3/captions?videoId=...&part=snippet     (a track from an earlier attempt?)
             POST {base}/upload/youtube/v3/captions?uploadType=multipart  (when subtitles exist and none is there)

A 401 on any call first gets a fresh access token (the token may have been
revoked or expired early) and the call is made once more; a second 401 is
:class:`CredentialsRejected`.

Errors become the project's tree here: ``quotaExceeded`` and
``uploadLimitExceeded`` are :class:`QuotaExceeded` (never retried: a retry
only burns quota), 429, 5xx and connection loss are ProviderUnavailable
(the next attempt resumes the same session), the rest are permanent.
"""

from __future__ import annotations

import io
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import structlog

from ytmaker.errors import CredentialsRejected, InvalidInput, PermanentError, ProviderUnavailable, QuotaExceeded
from ytmaker.logs import mask
from ytmaker.providers.base import PublishRequest, PublishResult
from ytmaker.providers.retrying import QuickRetry, parse_retry_after

log = structlog.get_logger(__name__)

#: chunk sizes must be multiples of this (the last chunk excepted)
CHUNK_UNIT = 256 * 1024
WATCH_URL = "https://www.youtube.com/watch?v={id}"
#: thumbnails.set refuses larger images
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
#: the name of the caption track ytmaker uploads (a retry recognises its own track by it)
CAPTION_TRACK_NAME = ""
#: subtitle files the renderer may leave beside the video, in order of preference
CAPTION_NAMES = ("subtitles.srt", "subtitles.vtt")

_QUOTA_MESSAGES = {
    "quotaExceeded": "YouTube's daily API quota for this project is used up (quotaExceeded). It resets at "
                     "midnight Pacific time; then `ytmaker retry` resumes the upload where it stopped",
    "dailyLimitExceeded": "YouTube's daily API limit is used up (dailyLimitExceeded). Try `ytmaker retry` tomorrow",
    "uploadLimitExceeded": "this channel reached YouTube's upload limit for the last 24 hours (uploadLimitExceeded). "
                           "Try `ytmaker retry` tomorrow",
}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}


@dataclass(frozen=True)
class VideoOptions:
    privacy: str = "private"
    publish_at: str | None = None  # ISO 8601 with a time zone
    category_id: str = "22"


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
    privacy = request.extra.get("privacy", options.privacy)
    publish_at = check_publish_at(request.extra.get("publish_at", options.publish_at), privacy)
    title = _clean(request.title)[:100].strip()
    if not title:
        raise InvalidInput("the video has no title; YouTube requires one")
    description = _clean(request.description).encode("utf-8")[:5000].decode("utf-8", "ignore")
    tags, used = [], 0
    for tag in (_clean(t).strip() for t in request.tags):
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)  # quoted if spaced, comma-separated
        if tag and used + cost <= 500:
            tags.append(tag)
            used += cost
    status = {"privacyStatus": privacy, "selfDeclaredMadeForKids": False}
    if publish_at:
        status["publishAt"] = publish_at
    return {
        "snippet": {"title": title, "description": description, "tags": tags,
                    "categoryId": request.extra.get("category_id", options.category_id),
                    "defaultLanguage": request.language, "defaultAudioLanguage": request.language},
        "status": status,
    }


def _clean(text: str) -> str:
    return (text or "").replace("<", "‹").replace(">", "›")  # YouTube refuses angle brackets in titles


def caption_file(video: Path) -> Path | None:
    """Subtitles beside the video, if the renderer wrote any."""
    for candidate in (video.with_suffix(".srt"), video.with_suffix(".vtt"), *(video.parent / n for n in CAPTION_NAMES)):
        if candidate.is_file() and candidate.stat().st_size:
            return candidate
    return None


class YouTubePublisher:
    target = "youtube"

    def __init__(self, *, token: Callable[[], str], base_url: str = "https://www.googleapis.com",
                 options: VideoOptions = VideoOptions(), chunk_size: int = 40 * CHUNK_UNIT,
                 client: httpx.Client | None = None, retry: QuickRetry | None = None, timeout_s: float = 60.0) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise InvalidInput(f"YouTube chunk size {chunk_size} is not a multiple of 256 KiB ({CHUNK_UNIT} bytes)")
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.chunk_size = chunk_size
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)))
        self.retry = retry or QuickRetry()

    def close(self) -> None:
        """Close the HTTP connections this publisher opened (a client it was given is its owner's)."""
        if self._owns_client:
            self.client.close()

    def publish(self, request: PublishRequest) -> PublishResult:
        resource = video_resource(request, self.options)  # refuse bad metadata before any byte is sent
        video = self._upload(request, resource)
        video_id = video["id"]
        log.info("youtube_uploaded", project_id=request.project_id, video_id=video_id)
        if request.thumbnail and request.thumbnail.exists():
            self._optional(lambda: self._set_thumbnail(video_id, request.thumbnail), "thumbnail", video_id)
        captions = request.extra.get("captions") or caption_file(request.video)
        if captions and not request.caption_id:
            self._optional(lambda: self._captions_once(request, video_id, Path(captions)), "captions", video_id)
        return PublishResult(remote_id=video_id, url=WATCH_URL.format(id=video_id))

    # -- the resumable upload ---------------------------------------------------------

    def _upload(self, request: PublishRequest, resource: dict) -> dict:
        size = request.video.stat().st_size
        if size == 0:
            raise InvalidInput(f"the video {request.video.name} is empty")
        mime = mimetypes.guess_type(request.video.name)[0] or "video/mp4"
        state = {"session": request.session_uri}

        def attempt() -> dict:
            offset = 0
            if state["session"]:
                done, offset = self._query(state["session"], size)
                if done is not None:
                    return done
            if offset is None or not state["session"]:
                state["session"] = self._start(resource, size, mime)
                if request.save_session:
                    request.save_session(state["session"])
                offset = 0
            return self._send(state["session"], request.video, offset, size, mime)

        return self.retry(attempt, what="youtube upload")

    def _start(self, resource: dict, size: int, mime: str) -> str:
        response = self._call("POST", f"{self.base_url}/upload/youtube/v3/videos",
                              params={"uploadType": "resumable", "part": "snippet,status"}, json=resource,
                              headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": mime})
        if response.status_code != 200:
            self._raise(response, "upload")
        session = response.headers.get("Location")
        if not session:
            raise ProviderUnavailable("YouTube started an upload without a session URI (no Location header)")
        return session

    def _query(self, session: str, size: int) -> tuple[dict | None, int | None]:
        """Where an earlier upload stopped: (video, _) when complete, (None, offset), or (None, None) if expired."""
        response = self._call("PUT", session, headers={"Content-Range": f"bytes */{size}"}, content=b"")
        if response.status_code in (200, 201):
            return _video(response), 0
        if response.status_code == 308:
            return None, _next_offset(response)
        if response.status_code in (404, 410):
            log.info("youtube_session_expired", status=response.status_code)
            return None, None
        self._raise(response, "upload")

    def _send(self, session: str, path: Path, offset: int, size: int, mime: str) -> dict:
        stalls = 0
        with open(path, "rb") as handle:
            while True:
                handle.seek(offset)
                chunk = handle.read(self.chunk_size)
                end = offset + len(chunk) - 1
                response = self._call("PUT", session, content=chunk,
                                      headers={"Content-Range": f"bytes {offset}-{end}/{size}", "Content-Type": mime})
                if response.status_code in (200, 201):
                    return _video(response)
                if response.status_code != 308:
                    self._raise(response, "upload")
                reached = _next_offset(response)
                stalls = stalls + 1 if reached <= offset else 0
                if stalls >= 3:
                    raise ProviderUnavailable(f"YouTube accepted no bytes past {reached} of {size} three times")
                offset = reached

    # -- after the upload ---------------------------------------------------------------

    def _set_thumbnail(self, video_id: str, image: Path) -> None:
        data, mime = _thumbnail_bytes(image)
        response = self._call("POST", f"{self.base_url}/upload/youtube/v3/thumbnails/set",
                              params={"videoId": video_id, "uploadType": "media"}, content=data,
                              headers={"Content-Type": mime})
        if response.status_code != 200:
            self._raise(response, "thumbnail")

    def _captions_once(self, request: PublishRequest, video_id: str, path: Path) -> None:
        """Upload the captions unless an earlier attempt did (it may have died before recording it)."""
        caption_id = self._existing_caption(video_id, request.language)
        if caption_id:
            log.info("youtube_captions_already_there", video_id=video_id, caption_id=caption_id)
        else:
            caption_id = self._insert_captions(video_id, path, request.language)
        if request.save_caption:
            request.save_caption(caption_id)

    def _existing_caption(self, video_id: str, language: str) -> str | None:
        """The id of a caption track like ours (same language, our name) already on the video, if any."""
        response = self._call("GET", f"{self.base_url}/youtube/v3/captions",
                              params={"videoId": video_id, "part": "snippet"}, headers={})
        if response.status_code != 200:
            self._raise(response, "captions")
        try:
            items = response.json().get("items") or []
        except ValueError:
            raise ProviderUnavailable("YouTube answered the caption list with malformed JSON") from None
        for item in items:
            snippet = item.get("snippet") or {}
            if snippet.get("language") == language and snippet.get("name", "") == CAPTION_TRACK_NAME:
                return item.get("id")
        return None

    def _insert_captions(self, video_id: str, path: Path, language: str) -> str:
        boundary = "ytmaker-captions-boundary"
        metadata = {"snippet": {"videoId": video_id, "language": language, "name": CAPTION_TRACK_NAME, "isDraft": False}}
        body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() \
            + f"\r\n--{boundary}--\r\n".encode()
        response = self._call("POST", f"{self.base_url}/upload/youtube/v3/captions",
                              params={"uploadType": "multipart", "part": "snippet"}, content=body,
                              headers={"Content-Type": f"multipart/related; boundary={boundary}"})
        if response.status_code not in (200, 201):
            self._raise(response, "captions")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise ProviderUnavailable("YouTube answered the caption upload without a track id") from None

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

    # -- HTTP ---------------------------------------------------------------------------

    def _call(self, method: str, url: str, *, headers: dict, **kwargs) -> httpx.Response:
        response = self._request(method, url, headers=headers, **kwargs)
        invalidate = getattr(self.token, "invalidate", None)
        if response.status_code == 401 and invalidate is not None:
            # The access token expired or was revoked before its time: get a fresh one and ask once more.
            log.info("youtube_token_refused", status=401)
            invalidate()
            response = self._request(method, url, headers=headers, **kwargs)
        return response

    def _request(self, method: str, url: str, *, headers: dict, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **headers}
        try:
            return self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable("YouTube did not answer in time; the upload resumes on the next attempt") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the connection to YouTube was lost ({type(exc).__name__}); "
                                      "the upload resumes on the next attempt") from exc

    def _raise(self, response: httpx.Response, what: str):
        status = response.status_code
        reason, message = _error_details(response)
        if reason in _QUOTA_MESSAGES:
            raise QuotaExceeded(f"{_QUOTA_MESSAGES[reason]} (during the {what}; not retried, to save quota)")
        detail = f"HTTP {status}{' ' + reason if reason else ''}: {message}" if message else f"HTTP {status}"
        if status == 429 or status >= 500 or reason in _RATE_REASONS:
            raise ProviderUnavailable(f"YouTube {what} failed ({detail}); it resumes on the next attempt",
                                      retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status == 401:
            raise CredentialsRejected(f"YouTube refused the access token ({detail}); "
                                      "run `ytmaker auth youtube --client-secrets FILE` again")
        if status == 403:
            raise CredentialsRejected(f"YouTube refused the {what} ({detail}); check the channel and the "
                                      "authorised account")
        raise InvalidInput(f"YouTube rejected the {what} ({detail})")


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


def _error_details(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", mask(response.text[:200].strip())
    if not isinstance(error, dict):
        return "", mask(str(error)[:200])
    errors = error.get("errors") or [{}]
    reason = errors[0].get("reason", "") if isinstance(errors[0], dict) else ""
    return reason, mask(str(error.get("message", ""))[:300])


def _thumbnail_bytes(image: Path) -> tuple[bytes, str]:
    """The image as sent: as is when small enough, else re-encoded as a 1280x720 JPEG."""
    data = image.read_bytes()
    mime = mimetypes.guess_type(image.name)[0] or "image/jpeg"
    if len(data) <= MAX_THUMBNAIL_BYTES and mime in ("image/jpeg", "image/png"):
        return data, mime
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        picture = picture.convert("RGB")
        picture.thumbnail((1280, 720))
        for quality in (90, 80, 65, 50):
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=quality)
            if out.tell() <= MAX_THUMBNAIL_BYTES:
                return out.getvalue(), "image/jpeg"
    raise InvalidInput(f"the thumbnail {image.name} stays over 2 MB even as a JPEG")


def build_youtube(settings, data_dir: Path) -> YouTubePublisher:
    """The publisher from configuration, with the token stored by `ytmaker auth youtube`."""
    from ytmaker.providers.youtube_auth import TokenStore, load_access_token

    token = load_access_token(TokenStore(data_dir), token_uri=settings.youtube_token_uri)
    options = VideoOptions(privacy=settings.youtube_privacy, publish_at=settings.youtube_publish_at,
                           category_id=settings.youtube_category_id)
    return YouTubePublisher(token=token, base_url=settings.youtube_base_url, options=options,
                            chunk_size=settings.youtube_chunk_size, timeout_s=settings.youtube_timeout_s,
                            retry=QuickRetry(attempts=settings.youtube_attempts))
