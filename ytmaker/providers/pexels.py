"""Pexels stock footage: a video clip per segment (a photo when no video fits), cached across projects.

For each segment the client searches ``GET /videos/search`` by the segment's
keyphrases (ytmaker.keyphrases) in the video's orientation and takes the first
clip at least as long as the segment's estimated narration. When none is, it
joins the fewest results, up to ``MAX_JOINED``, whose lengths add up to it,
played in turn (else the ``MAX_JOINED`` longest, which the renderer loops as
one sequence): distinct footage rather than the same seconds twice. Of each
video it takes the smallest MP4 file that covers the frame. Each file is
downloaded once, with a size cap, taken in by FFmpeg (video only, the shared
time base: ytmaker.media.clips) and kept in ``<data_dir>/pexels/videos/<id>.mp4``
for every later project; the first clip's first frame, cut to the frame, is the
segment's poster still. With no video, ``GET /v1/search`` gives a photo; with
nothing at all, the offline slide is drawn and a warning recorded. Every clip
and photo is credited in the description, as Pexels asks.

Rate limit (200 requests an hour by default) across workers: the shared
limiter (ytmaker.providers.ratelimit) takes a slot before each API request, and
an answer whose ``X-Ratelimit-Remaining`` is 0 locks everyone out until
``X-Ratelimit-Reset`` (a Unix time); a 429 (which carries no such headers)
locks out for ``LOCKOUT_S``. Downloads from the CDN are not API requests.
Errors: through ytmaker.providers.http (401/403 credentials, 429/5xx and lost
connections transient, the rest input).
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ytmaker.errors import InvalidInput, MediaError, ProviderUnavailable
from ytmaker.keyphrases import keyphrases
from ytmaker.media.clips import normalize_args
from ytmaker.media.ffmpeg import run_ffmpeg
from ytmaker.media.probe import probe
from ytmaker.providers.base import Footage, ImageRequest
from ytmaker.providers.http import ErrorBody, Service, json_object, request, translate_transport_errors
from ytmaker.providers.own_media import poster
from ytmaker.providers.ratelimit import RateLimiter
from ytmaker.providers.retrying import QuickRetry
from ytmaker.text import speech_seconds

#: How long everyone waits after a 429 (Pexels sends no reset time with it).
LOCKOUT_S = 60.0
#: The least part of the frame's width and height a clip file must have: 720p files for a 1080p video. Decoding
#: is the render's extra cost with clips: 60 s of 1080p H.264 took 10.5 CPU-s to decode here, 720p and the
#: upscale 6.8 (bench/render/README.md), and a 720p file is a third of the download.
COVER = 0.66
#: Search results looked at per query.
PER_PAGE = 15
#: The most clips joined for one segment. Pexels' clips mostly run 10-30 s and a segment 5-20 s, so two nearly always
#: cover it; a third covers a long segment of short clips. Each is one more download (within the cap) and one more
#: cut: more cuts every couple of seconds look hurried, and what is still short is looped.
MAX_JOINED = 3


def _read(response: httpx.Response) -> ErrorBody:
    body = json_object(response)
    message = body.get("error") or body.get("message") if body else None
    return ErrorBody(response.status_code, message=str(message) if message else response.text[:300].strip())


SERVICE = Service("Pexels", "check YTMAKER_PEXELS_API_KEY", _read)


def orientation(width: int, height: int) -> str:
    return "landscape" if width > height else "portrait" if height > width else "square"


def pick_videos(videos: list[dict], need_s: float) -> list[dict]:
    """The videos to play in turn: the first at least ``need_s`` long; else the fewest (up to ``MAX_JOINED``) adding up
    to it, the earliest results first (the most relevant); else the ``MAX_JOINED`` longest, in the results' order.

    Only videos with an MP4 file, each once.
    """
    usable = list({v.get("id"): v for v in videos
                   if any(f.get("file_type") == "video/mp4" and f.get("link") for f in v.get("video_files") or [])}.values())

    def length(video: dict) -> float:
        return float(video.get("duration") or 0)

    for count in range(1, MAX_JOINED + 1):  # at most C(15, 3) = 455 groups
        for group in itertools.combinations(usable, count):
            if sum(map(length, group)) >= need_s:
                return list(group)
    return sorted(sorted(usable, key=length, reverse=True)[:MAX_JOINED], key=usable.index)


def pick_file(video: dict, size: tuple[int, int]) -> dict:
    """The smallest MP4 covering ``COVER`` of the frame (cheapest to fetch and decode), else the largest there is."""
    files = [f for f in video["video_files"] if f.get("file_type") == "video/mp4" and f.get("link") and f.get("width")]
    if not files:
        return next(f for f in video["video_files"] if f.get("file_type") == "video/mp4" and f.get("link"))
    width, height = size
    covering = [f for f in files if f["width"] >= width * COVER and f["height"] >= height * COVER]
    if covering:
        return min(covering, key=lambda f: f["width"] * f["height"])
    return max(files, key=lambda f: f["width"] * f["height"])


class PexelsFootage:
    """A :class:`~ytmaker.providers.base.FootageProvider` (and an ImageProvider: the poster alone) on the Pexels API."""

    def __init__(self, *, api_key: str, client: httpx.Client, cache_dir: Path, limiter: RateLimiter,
                 max_download_bytes: int = 200 * 2**20, retry: QuickRetry | None = None,
                 fallback: Any = None) -> None:
        self._headers = {"Authorization": api_key}  # the bare key, as Pexels' own clients send it
        self.client = client
        self.cache_dir = cache_dir
        self.limiter = limiter
        self.max_download_bytes = max_download_bytes
        self.retry = retry or QuickRetry()
        self.fallback = fallback  # draws the slide when Pexels has nothing (ytmaker.providers.slides.SlideImages)

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        return self.footage(request, out).warning

    def footage(self, request: ImageRequest, out: Path) -> Footage:
        need_s = speech_seconds(request.narration or request.description) + 0.5
        queries = [q for q in dict.fromkeys([*keyphrases(f"{request.caption}. {request.narration}", 2), request.caption]) if q][:2]
        shape = orientation(request.width, request.height)
        skipped = ""
        for query in queries:
            found = self._search("/videos/search", query, shape).get("videos") or []
            taken: list[tuple[Path, float, str]] = []
            for video in pick_videos(found, need_s):
                try:
                    clip, duration = self._clip(video, (request.width, request.height))
                except InvalidInput as exc:  # over the cap, refused by the CDN: the others (looped), else the next query
                    skipped = str(exc)
                    continue
                user = video.get("user") or {}
                taken.append((clip, duration, f"Video by {user.get('name') or 'a Pexels contributor'} on Pexels: "
                                              f"{video.get('url', '')}"))
            if taken:
                poster(taken[0][0], out, (request.width, request.height))
                return Footage(taken[0][0], taken[0][1], "\n".join(credit for _, _, credit in taken),
                               more_clips=tuple((clip, duration) for clip, duration, _ in taken[1:]))
        for query in queries[:1]:
            photos = self._search("/v1/search", query, shape).get("photos") or []
            if photos:
                photo = photos[0]
                picture = self._photo(photo)
                poster(picture, out, (request.width, request.height))
                return Footage(None, None, f"Photo by {photo.get('photographer') or 'a Pexels contributor'} on Pexels: "
                                           f"{photo.get('url', '')}", skipped or None)
        warning = f"Pexels had no video or photo for {queries[0] if queries else request.caption!r}; the slide is shown"
        if self.fallback is None:
            raise InvalidInput(warning)
        self.fallback.generate(request, out)
        return Footage(None, None, "", warning)

    def _search(self, path: str, query: str, shape: str) -> dict:
        def call() -> dict:
            self.limiter.acquire()
            response = request(self.client, SERVICE, "GET", path, what="search", special=self._throttled, headers=self._headers,
                               params={"query": query, "orientation": shape, "per_page": PER_PAGE})
            self._note_limit(response)
            body = json_object(response)
            if body is None:
                raise ProviderUnavailable("Pexels answered the search with a body that is not JSON")
            return body

        return self.retry(call, what="pexels.search")

    def _throttled(self, response: httpx.Response, body: ErrorBody) -> Exception | None:
        if response.status_code == 429:
            self.limiter.lock_out(LOCKOUT_S)
            return ProviderUnavailable(f"Pexels' rate limit was reached ({body}); everyone waits {LOCKOUT_S:g} s",
                                       retry_after=LOCKOUT_S)
        return None

    def _note_limit(self, response: httpx.Response) -> None:
        """Lock every worker out until the reset when the hour's requests are spent."""
        try:
            remaining = int(response.headers["X-Ratelimit-Remaining"])
            reset = float(response.headers["X-Ratelimit-Reset"])
        except (KeyError, ValueError):
            return
        if remaining <= 0:
            self.limiter.lock_out(max(1.0, reset - time.time()))

    def _clip(self, video: dict, size: tuple[int, int]) -> tuple[Path, float]:
        folder = self.cache_dir / "videos"
        clip, meta = folder / f"{int(video['id'])}.mp4", folder / f"{int(video['id'])}.json"
        if clip.exists() and meta.exists():
            return clip, float(json.loads(meta.read_text())["duration_s"])
        folder.mkdir(parents=True, exist_ok=True)
        raw = folder / f".{video['id']}.{uuid.uuid4().hex}.download"
        taken = folder / f".{video['id']}.{uuid.uuid4().hex}.mp4"
        try:
            self.retry(lambda: self._download(pick_file(video, size)["link"], raw), what="pexels.download")
            try:
                info = probe(raw)
                run_ffmpeg(normalize_args(raw, taken, codec=info.video_codec, max_size=size), timeout_s=600)
            except MediaError as exc:
                raise ProviderUnavailable(f"the Pexels clip {video['id']} could not be read ({exc})") from exc
            duration = probe(taken).duration_s
            os.replace(taken, clip)
            meta.write_text(json.dumps({"duration_s": duration, "url": video.get("url")}))
        finally:
            raw.unlink(missing_ok=True)
            taken.unlink(missing_ok=True)
        return clip, duration

    def _photo(self, photo: dict) -> Path:
        folder = self.cache_dir / "photos"
        picture = folder / f"{int(photo['id'])}.jpg"
        if not picture.exists():
            folder.mkdir(parents=True, exist_ok=True)
            src = photo.get("src") or {}
            raw = folder / f".{photo['id']}.{uuid.uuid4().hex}.download"
            try:
                self.retry(lambda: self._download(src.get("large2x") or src.get("original") or src["large"], raw),
                           what="pexels.download")
                os.replace(raw, picture)
            finally:
                raw.unlink(missing_ok=True)
        return picture

    def _download(self, url: str, target: Path) -> None:
        """Stream ``url`` to ``target``, refusing past the size cap (announced or counted)."""
        cap = self.max_download_bytes
        with translate_transport_errors(SERVICE, "download"), self.client.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                request_error = ProviderUnavailable if response.status_code in (429,) or response.status_code >= 500 else InvalidInput
                raise request_error(f"Pexels' file server answered HTTP {response.status_code} for a download")
            if int(response.headers.get("Content-Length") or 0) > cap:
                raise InvalidInput(f"a Pexels file is over the {cap / 2**20:.2g} MB download cap (YTMAKER_PEXELS_MAX_DOWNLOAD_MB)")
            written = 0
            with target.open("wb") as file:
                for chunk in response.iter_bytes(1 << 16):
                    written += len(chunk)
                    if written > cap:
                        raise InvalidInput(f"a Pexels file ran over the {cap / 2**20:.2g} MB download cap "
                                           "(YTMAKER_PEXELS_MAX_DOWNLOAD_MB)")
                    file.write(chunk)

