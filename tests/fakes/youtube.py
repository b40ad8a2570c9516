"""A fake of YouTube's upload endpoints: resumable sessions, thumbnails.set, captions.insert.

Faults on demand: drop the connection half-way through the Nth chunk (keeping
the whole 256 KiB units that arrived, as the real service does), answer the
Nth chunk with 5xx or late (after storing it), garble the finished upload's
JSON, refuse with quotaExceeded / uploadLimitExceeded / 429, expire sessions,
revoke the access token (401 until a new one is used), store captions and
then drop the connection. Everything received is recorded for the tests.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

from tests.fakes.server import FakeServer, Reply, Request

UNIT = 256 * 1024


def error(status: int, reason: str, message: str, **headers) -> Reply:
    return Reply.json(status, {"error": {"code": status, "message": message,
                                         "errors": [{"domain": "youtube.quota", "reason": reason, "message": message}]}},
                      **headers)


@dataclass
class Session:
    id: str
    size: int
    content_type: str
    resource: dict
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube(FakeServer):
    def __init__(self, *, token: str = "access-token-1") -> None:
        super().__init__()
        self.token = token
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict] = {}  # id -> resource (with the uploaded bytes' length)
        self.uploaded: dict[str, bytes] = {}
        self.thumbnails: dict[str, tuple[str, bytes]] = {}
        self.captions: list[dict] = []  # caption tracks: {"id", "snippet", "body", "part"}
        self.log: list[tuple[str, str, str]] = []  # (method, path, Content-Range or "")
        self.chunks = 0  # data-carrying PUTs seen
        self.drop_on_chunk: set[int] = set()
        self.status_on_chunk: dict[int, int] = {}
        self.delay_on_chunk: dict[int, float] = {}  # chunk number -> seconds the answer comes late (chunk kept)
        self.slow_chunk: dict[int, float] = {}  # chunk number -> seconds per 16 KiB read of its body (a slow link)
        self.reading = 0  # bytes of the slow chunk read so far
        self.slow_done = False  # the slow chunk was read to its end, or its client went away
        self.cut_after: int | None = None  # the slow chunk's link dies after this many bytes (once ``cut`` is set)
        self.cut = threading.Event()
        self.garble_finish = False  # once: the finished upload's answer is cut-off JSON
        self.drop_after_caption = False  # once: store the caption track, then drop the connection
        self.refuse: dict[str, Reply] = {}  # "start" | "chunk" | "thumbnail" | "captions" -> reply, once
        self._ids = itertools.count(1)

    # -- scripting --------------------------------------------------------------------

    def quota_exceeded(self, step: str = "start") -> None:
        self.refuse[step] = error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")

    def upload_limit_exceeded(self, step: str = "start") -> None:
        self.refuse[step] = error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload.")

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    # -- wire ---------------------------------------------------------------------------

    def respond(self, request: Request) -> Reply | None:
        with self.lock:
            self.log.append((request.method, request.path, request.headers.get("content-range", "")))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return error(401, "authError", "Invalid Credentials")
        if request.path == "/upload/youtube/v3/videos" and request.method == "POST":
            return self._start(request)
        if request.path == "/upload/youtube/v3/videos" and request.method == "PUT":
            return self._put(request)
        if request.path == "/upload/youtube/v3/thumbnails/set" and request.method == "POST":
            return self._thumbnail(request)
        if request.path == "/upload/youtube/v3/captions" and request.method == "POST":
            return self._caption(request)
        if request.path == "/youtube/v3/captions" and request.method == "GET":
            return self._caption_list(request)
        return error(404, "notFound", f"no route {request.method} {request.path}")

    def _refused(self, step: str) -> Reply | None:
        with self.lock:
            return self.refuse.pop(step, None)

    def _start(self, request: Request) -> Reply:
        if refused := self._refused("start"):
            return refused
        if request.query.get("uploadType") != "resumable" or "snippet" not in request.query.get("part", ""):
            return error(400, "invalidParameter", "uploadType=resumable and part=snippet,status expected")
        size = int(request.headers.get("x-upload-content-length", "0"))
        resource = request.json()
        if not resource.get("snippet", {}).get("title"):
            return error(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
        status = resource.get("status", {})
        if status.get("publishAt") and status.get("privacyStatus") != "private":
            return error(400, "invalidPublishAt", "publishAt needs privacyStatus private")
        with self.lock:
            session = Session(f"s{next(self._ids)}", size, request.headers.get("x-upload-content-type", ""), resource)
            self.sessions[session.id] = session
        return Reply(200, b"", {"Location": f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"})

    def _put(self, request: Request) -> Reply | None:
        with self.lock:
            session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return error(404, "notFound", "upload session not found or expired")
        content_range = request.headers.get("content-range", "")
        if match := re.fullmatch(r"bytes \*/(\d+)", content_range):
            return self._progress(session)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if not match:
            return error(400, "badRequest", f"bad Content-Range {content_range!r}")
        first, last, total = map(int, match.groups())
        with self.lock:
            self.chunks += 1
            number = self.chunks
        if refused := self._refused("chunk"):
            return refused
        if number in self.slow_chunk:
            return self._slowly(session, request, first, self.slow_chunk[number])
        if number in self.drop_on_chunk:
            part = request.read(request.length // 2)
            kept = len(part) // UNIT * UNIT
            with self.lock:
                if first == len(session.data):
                    session.data += part[:kept]
            return None
        if number in self.status_on_chunk:
            return error(self.status_on_chunk[number], "backendError", "Backend Error")
        if number in self.delay_on_chunk:
            reply = self._accept(session, request, first, last, total)
            reply.delay_s = self.delay_on_chunk[number]
            return reply
        return self._accept(session, request, first, last, total)

    def _slowly(self, session: Session, request: Request, first: int, pause_s: float) -> Reply | None:
        """Read the chunk 16 KiB at a time; a client that dies meanwhile leaves the whole units that arrived."""
        body = bytearray()
        while len(body) < request.length:
            if self.cut_after is not None and len(body) >= self.cut_after:
                self.cut.wait(60)  # what had not arrived yet is lost with the link: keep what did
                break
            piece = request._rfile.read(min(16 * 1024, request.length - len(body)))
            if not piece:
                break
            body += piece
            self.reading = len(body)
            time.sleep(pause_s)
        request._body = bytes(body)
        self.slow_done = True
        if len(body) == request.length:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers["content-range"])
            assert match
            return self._accept(session, request, *map(int, match.groups()))
        with self.lock:
            if first == len(session.data):
                session.data += body[:len(body) // UNIT * UNIT]
        return None

    def _accept(self, session: Session, request: Request, first: int, last: int, total: int) -> Reply:
        body = request.body
        if total != session.size or last - first + 1 != len(body):
            return error(400, "badRequest", "Content-Range does not match the body or the announced size")
        if last + 1 < total and len(body) % UNIT:
            return error(400, "badRequest", "chunks other than the last must be multiples of 256 KiB")
        with self.lock:
            if first != len(session.data):  # not where we are: tell the client where
                return self._progress(session)
            session.data += body
            if len(session.data) < session.size:
                return self._progress(session)
            return self._finish(session)

    def _progress(self, session: Session) -> Reply:
        with self.lock:
            if session.video_id:
                return Reply.json(200, self.videos[session.video_id])
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return Reply(308, b"", headers)

    def _finish(self, session: Session) -> Reply:
        video_id = f"vid{next(self._ids):04d}"
        session.video_id = video_id
        self.videos[video_id] = {"kind": "youtube#video", "id": video_id, **session.resource}
        self.uploaded[video_id] = bytes(session.data)
        if self.garble_finish:
            self.garble_finish = False
            return Reply(200, json.dumps(self.videos[video_id]).encode()[:20], {"Content-Type": "application/json"})
        return Reply.json(200, self.videos[video_id])

    def _thumbnail(self, request: Request) -> Reply:
        if refused := self._refused("thumbnail"):
            return refused
        video_id = request.query.get("videoId", "")
        if video_id not in self.videos:
            return error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        if request.length > 2 * 1024 * 1024:
            return error(400, "mediaBodyTooBig", "The image is larger than 2 MB")
        with self.lock:
            self.thumbnails[video_id] = (request.headers.get("content-type", ""), request.body)
        return Reply.json(200, {"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": "x"}}]})

    def _caption(self, request: Request) -> Reply:
        if refused := self._refused("captions"):
            return refused
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/related"):
            return error(400, "badContent", f"multipart/related expected, got {content_type!r}")
        parts = request.parts()
        metadata = json.loads(parts[0].get_payload(decode=True))
        if metadata["snippet"]["videoId"] not in self.videos:
            return error(404, "videoNotFound", "video not found")
        with self.lock:
            caption_id = f"cap{len(self.captions) + 1}"
            self.captions.append({"id": caption_id, "snippet": metadata["snippet"], "body": parts[1].get_payload(decode=True),
                                  "part": request.query.get("part")})
            if self.drop_after_caption:
                self.drop_after_caption = False
                return None  # stored, but the client never hears so
        return Reply.json(200, {"kind": "youtube#caption", "id": caption_id, **metadata})

    def _caption_list(self, request: Request) -> Reply:
        video_id = request.query.get("videoId", "")
        if video_id not in self.videos:
            return error(404, "videoNotFound", "video not found")
        with self.lock:
            items = [{"kind": "youtube#caption", "id": c["id"],
                      "snippet": {**c["snippet"], "trackKind": "standard", "status": "serving"}}
                     for c in self.captions if c["snippet"]["videoId"] == video_id]
        return Reply.json(200, {"kind": "youtube#captionListResponse", "items": items})
