"""Fake of an OpenAI-compatible ``POST /v1/chat/completions``, as the ``openai`` package calls it.

It plays the servers people point ytmaker at: ``formats`` says which
``response_format`` types it accepts (OpenAI/Ollama/vLLM: all; DeepSeek:
``json_object``; an old server: none, answering 400 as they do), ``streams``
whether it streams when asked (SSE chunks ending in ``[DONE]``) or always
answers one JSON body, and ``api_key`` whether it checks the bearer token.
"""

from __future__ import annotations

import json
from collections import deque

from tests.fakes.gemini import VALID_SCRIPT
from tests.fakes.server import FakeServer, Reply, Request

PATHS = ("/v1/chat/completions", "/chat/completions")


def error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None, **headers) -> Reply:
    """An OpenAI error body, as OpenAI, Ollama and vLLM send it."""
    return Reply.json(status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, **headers)


class FakeOpenAI(FakeServer):
    def __init__(self, *, api_key: str | None = None, formats: tuple[str, ...] = ("json_schema", "json_object"),
                 streams: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.formats = formats
        self.streams = streams
        self.texts: deque[tuple[str, str]] = deque()

    def answer(self, text: str | dict, finish_reason: str = "stop") -> None:
        """Queue the next successful answer's content (a dict is sent as JSON)."""
        self.texts.append((json.dumps(text) if isinstance(text, dict) else text, finish_reason))

    def calls(self) -> list[Request]:
        return [r for r in self.received if r.path in PATHS]

    def respond(self, request: Request) -> Reply:
        if request.method != "POST" or request.path not in PATHS:
            return error(404, f"no route {request.method} {request.path}", "not_found_error")
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", code="invalid_api_key")
        try:
            body = request.json()
        except ValueError:
            return error(400, "invalid JSON body")
        if not body.get("messages") or not body.get("model"):
            return error(400, "model and messages are required")
        kind = (body.get("response_format") or {}).get("type", "text")
        if kind != "text" and kind not in self.formats:
            return error(400, f"response_format {kind!r} is not supported by this model")
        if kind == "json_schema" and "schema" not in body["response_format"].get("json_schema", {}):
            return error(400, "json_schema.schema is required")
        text, finish = self.texts.popleft() if self.texts else (json.dumps(VALID_SCRIPT), "stop")
        model = body["model"]
        if body.get("stream") and self.streams:
            return Reply(200, _sse(text, finish, model), {"Content-Type": "text/event-stream"})
        return Reply.json(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1764633600, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        })


def _sse(text: str, finish: str, model: str) -> bytes:
    pieces = [text[i:i + 40] for i in range(0, len(text), 40)] or [""]
    events = []
    for n, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
        events.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764633600, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    events.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764633600, "model": model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"
