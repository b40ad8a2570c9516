"""Fake of Google Cloud Text-to-Speech ``v1/text:synthesize`` (LINEAR16 answers carry a WAV header)."""

from __future__ import annotations

import base64
import io
import struct
import wave

from tests.fakes.server import FakeServer, Reply, Request

PATH = "/v1/text:synthesize"
LIMIT = 5000
#: Milliseconds of audio per byte of text, so durations can be checked.
MS_PER_BYTE = 2


def error(code: int, status: str, message: str, *, reason: str | None = None, **headers) -> Reply:
    payload = {"error": {"code": code, "message": message, "status": status}}
    if reason:
        payload["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return Reply.json(code, payload, **headers)


class FakeTextToSpeech(FakeServer):
    """Each answer is a WAV whose samples all equal the request's number (1, 2, ...), so order is visible."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.served = 0

    def syntheses(self) -> list[Request]:
        return [r for r in self.received if r.path == PATH]

    def respond(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return error(404, "NOT_FOUND", f"{request.method} {request.path} not found")
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if key != self.api_key:
            return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID")
        body = request.json()
        text = body.get("input", {}).get("text") or body.get("input", {}).get("ssml")
        if not text:
            return error(400, "INVALID_ARGUMENT", "Either input.text or input.ssml must be set.")
        if len(text.encode()) > LIMIT:
            return error(400, "INVALID_ARGUMENT", f"Either `input.text` or `input.ssml` is longer than the limit of {LIMIT} bytes.")
        voice = body.get("voice", {})
        if not voice.get("languageCode"):
            return error(400, "INVALID_ARGUMENT", "Missing language code.")
        if voice.get("name") and not voice["name"].startswith(voice["languageCode"]):
            return error(400, "INVALID_ARGUMENT", f"Voice '{voice['name']}' does not exist.")
        config = body.get("audioConfig", {})
        if config.get("audioEncoding") != "LINEAR16":
            return error(400, "INVALID_ARGUMENT", "this fake speaks LINEAR16 only")
        rate = int(config.get("sampleRateHertz") or 24000)
        with self.lock:
            self.served += 1
            number = self.served
        frames = rate * MS_PER_BYTE * len(text.encode()) // 1000
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(struct.pack("<h", number) * frames)
        return Reply.json(200, {"audioContent": base64.b64encode(buffer.getvalue()).decode()})
