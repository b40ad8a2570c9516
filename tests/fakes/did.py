"""A fake of D-ID's talks API: audio upload, talk creation, a talk that advances on each GET, results.

A talk goes created -> started -> done after ``polls_to_finish`` GETs; a
talk can be made to end ``rejected`` or ``error`` instead. Authorization is
``Basic <key>``, the key as given or base64-encoded.
"""

from __future__ import annotations

import base64
import itertools

from tests.fakes.server import FakeServer, Reply, Request

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"fake-talk-video" * 100


def failure(status: int, kind: str, description: str) -> Reply:
    return Reply.json(status, {"kind": kind, "description": description})


class FakeDID(FakeServer):
    def __init__(self, *, key: str = "dXNlcjpkaWQ=:did-secret-123", polls_to_finish: int = 2) -> None:
        super().__init__()
        self.key = key
        self.polls_to_finish = polls_to_finish
        self.video = VIDEO  # what a finished talk's result URL serves (a test may give a real MP4)
        self.audios: dict[str, bytes] = {}
        self.talks: dict[str, dict] = {}
        self.talk_requests: list[dict] = []
        self.gets: dict[str, int] = {}
        self.downloads: list[dict[str, str]] = []  # headers of result downloads
        self.outcome: dict[int, dict] = {}  # talk number (1-based) -> {"status": "rejected", "error": {...}}
        self.refuse: list[Reply] = []  # answered first, one per request, to authorised API calls
        self._ids = itertools.count(1)

    def _authorised(self, request: Request) -> bool:
        value = request.headers.get("authorization", "")
        return value in (f"Basic {self.key}", f"Basic {base64.b64encode(self.key.encode()).decode()}")

    def respond(self, request: Request) -> Reply:
        if request.method == "GET" and request.path.startswith("/results/"):
            with self.lock:
                self.downloads.append(dict(request.headers))
            return Reply(200, self.video, {"Content-Type": "video/mp4"})
        if not self._authorised(request):
            return failure(401, "AuthorizationError", "Unauthorized")
        with self.lock:
            if self.refuse:
                return self.refuse.pop(0)
        if request.method == "POST" and request.path == "/audios":
            return self._audio(request)
        if request.method == "POST" and request.path == "/talks":
            return self._create(request)
        if request.method == "GET" and request.path.startswith("/talks/"):
            return self._get(request.path.rsplit("/", 1)[1])
        return failure(404, "NotFoundError", f"no route {request.method} {request.path}")

    def _audio(self, request: Request) -> Reply:
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return failure(400, "BadRequestError", "multipart/form-data expected")
        parts = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in request.parts()}
        if "audio" not in parts:
            return failure(400, "BadRequestError", "field 'audio' is required")
        with self.lock:
            number = next(self._ids)
            url = f"s3://d-id-audios-prod/user/aud_{number}/audio.wav"
            self.audios[url] = parts["audio"]
        return Reply.json(201, {"id": f"aud_{number}", "url": url})

    def _create(self, request: Request) -> Reply:
        body = request.json()
        script = body.get("script", {})
        if not body.get("source_url"):
            return failure(400, "ValidationError", "source_url is required")
        if script.get("type") == "audio" and script.get("audio_url") not in self.audios:
            return failure(400, "ValidationError", "audio_url does not refer to an uploaded audio")
        if script.get("type") == "text" and not script.get("input"):
            return failure(400, "ValidationError", "script.input is required")
        with self.lock:
            self.talk_requests.append(body)
            number = len(self.talk_requests)
            talk_id = f"tlk_{number}"
            self.talks[talk_id] = {"id": talk_id, "status": "created", "number": number}
            self.gets[talk_id] = 0
        return Reply.json(201, {"id": talk_id, "status": "created"})

    def _get(self, talk_id: str) -> Reply:
        with self.lock:
            talk = self.talks.get(talk_id)
            if talk is None:
                return failure(404, "NotFoundError", f"talk {talk_id} not found")
            self.gets[talk_id] += 1
            if talk["status"] in ("created", "started"):
                if self.gets[talk_id] >= self.polls_to_finish:
                    outcome = self.outcome.get(talk["number"])
                    if outcome:
                        talk.update(outcome)
                    else:
                        talk.update(status="done", result_url=f"{self.url}/results/{talk_id}.mp4", duration=2.5)
                else:
                    talk["status"] = "started"
            return Reply.json(200, {k: v for k, v in talk.items() if k != "number"})
