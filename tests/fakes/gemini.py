"""Fake of the Gemini API's generateContent (v1 and v1beta paths), as google-genai calls it."""

from __future__ import annotations

import json
import re
from collections import deque

from tests.fakes.server import FakeServer, Reply, Request

_PATH = re.compile(r"^/(v1|v1beta)/models/([^/:]+):generateContent$")

VALID_SCRIPT = {
    "title": "How honeybees talk",
    "description": "A short film about the waggle dance.",
    "tags": ["bees", "dance"],
    "segments": [
        {"narration": "Honeybees talk by dancing.", "image_description": "A bee dancing on a honeycomb."},
        {"narration": "The angle of the dance points to the food.", "image_description": "A diagram of the waggle dance."},
    ],
}


def error(code: int, status: str, message: str, *, details: list | None = None, **headers) -> Reply:
    """A Google API error body, as the real service sends it."""
    payload = {"error": {"code": code, "message": message, "status": status}}
    if details:
        payload["error"]["details"] = details
    return Reply.json(code, payload, **headers)


def retry_info(seconds: int) -> dict:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds}s"}


class FakeGemini(FakeServer):
    """Answers generateContent with the queued candidate texts, else with :data:`VALID_SCRIPT`."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.texts: deque[tuple[str, str]] = deque()  # (candidate text, finishReason)

    def answer(self, text: str | dict, finish_reason: str = "STOP") -> None:
        """Queue a candidate text (a dict is sent as JSON) for the next successful call."""
        self.texts.append((json.dumps(text) if isinstance(text, dict) else text, finish_reason))

    def calls(self) -> list[Request]:
        return [r for r in self.received if _PATH.match(r.path)]

    @staticmethod
    def prompt_of(request: Request) -> str:
        return "".join(part.get("text", "") for content in request.json()["contents"] for part in content["parts"])

    def respond(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if request.method != "POST" or not match:
            return error(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                         details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}])
        body = request.json()
        if not body.get("contents"):
            return error(400, "INVALID_ARGUMENT", "contents is required")
        text, finish = self.texts.popleft() if self.texts else (json.dumps(VALID_SCRIPT), "STOP")
        return Reply.json(200, {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
            "modelVersion": match.group(2),
        })
