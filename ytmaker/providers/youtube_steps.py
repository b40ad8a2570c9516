"""What follows a YouTube upload: the thumbnail and the caption track, each set once.

    POST /upload/youtube/v3/thumbnails/set?videoId=...      (the image as the body)
    GET  /youtube/v3/captions?videoId=...&part=snippet      (a track from an earlier attempt?)
    POST /upload/youtube/v3/captions?uploadType=multipart   (when subtitles exist and none is there)
"""

from __future__ import annotations

import io
import json
import mimetypes
from pathlib import Path

import structlog

from ytmaker.errors import ProviderUnavailable
from ytmaker.media.jpeg import jpeg_bytes_under
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.youtube_api import YouTubeApi

log = structlog.get_logger(__name__)

#: thumbnails.set refuses larger images
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
#: the name of the caption track ytmaker uploads (a retry recognises its own track by it)
CAPTION_TRACK_NAME = ""
#: subtitle files the renderer may leave beside the video, in order of preference
CAPTION_NAMES = ("subtitles.srt", "subtitles.vtt")


def caption_file(video: Path) -> Path | None:
    """Subtitles beside the video, if the renderer wrote any."""
    for candidate in (video.with_suffix(".srt"), video.with_suffix(".vtt"), *(video.parent / n for n in CAPTION_NAMES)):
        if candidate.is_file() and candidate.stat().st_size:
            return candidate
    return None


def set_thumbnail(api: YouTubeApi, video_id: str, image: Path) -> None:
    data, mime = thumbnail_bytes(image)
    response = api.call("POST", "/upload/youtube/v3/thumbnails/set", what="thumbnail",
                        params={"videoId": video_id, "uploadType": "media"}, content=data,
                        headers={"Content-Type": mime})
    api.check(response, "thumbnail")


def thumbnail_bytes(image: Path) -> tuple[bytes, str]:
    """The image as sent: as is when small enough, else re-encoded as a 1280x720 JPEG (MediaError if it cannot fit)."""
    data = image.read_bytes()
    mime = mimetypes.guess_type(image.name)[0] or "image/jpeg"
    if len(data) <= MAX_THUMBNAIL_BYTES and mime in ("image/jpeg", "image/png"):
        return data, mime
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        picture = opened.convert("RGB")
    picture.thumbnail((1280, 720))
    return jpeg_bytes_under(picture, MAX_THUMBNAIL_BYTES), "image/jpeg"


def captions_once(api: YouTubeApi, request: PublishRequest, video_id: str, path: Path) -> None:
    """Upload the captions unless an earlier attempt did (it may have died before recording it)."""
    caption_id = existing_caption(api, video_id, request.language)
    if caption_id:
        log.info("youtube_captions_already_there", video_id=video_id, caption_id=caption_id)
    else:
        caption_id = insert_captions(api, video_id, path, request.language)
    if request.save_caption:
        request.save_caption(caption_id)


def existing_caption(api: YouTubeApi, video_id: str, language: str) -> str | None:
    """The id of a caption track like ours (same language, our name) already on the video, if any."""
    response = api.call("GET", "/youtube/v3/captions", what="captions", params={"videoId": video_id, "part": "snippet"})
    api.check(response, "captions")
    try:
        items = response.json().get("items") or []
    except (ValueError, AttributeError):
        raise ProviderUnavailable("YouTube answered the caption list with malformed JSON") from None
    for item in items:
        snippet = item.get("snippet") or {}
        if snippet.get("language") == language and snippet.get("name", "") == CAPTION_TRACK_NAME and item.get("id"):
            return str(item["id"])
    return None


def insert_captions(api: YouTubeApi, video_id: str, path: Path, language: str) -> str:
    boundary = "ytmaker-captions-boundary"
    metadata = {"snippet": {"videoId": video_id, "language": language, "name": CAPTION_TRACK_NAME, "isDraft": False}}
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() \
        + f"\r\n--{boundary}--\r\n".encode()
    response = api.call("POST", "/upload/youtube/v3/captions", what="captions",
                        params={"uploadType": "multipart", "part": "snippet"}, content=body,
                        headers={"Content-Type": f"multipart/related; boundary={boundary}"})
    api.check(response, "captions")
    try:
        return str(response.json()["id"])
    except (ValueError, KeyError, TypeError):
        raise ProviderUnavailable("YouTube answered the caption upload without a track id") from None
