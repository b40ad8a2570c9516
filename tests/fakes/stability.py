"""Fake of Stability AI's Stable Image Core endpoint (multipart in, image bytes out)."""

from __future__ import annotations

import io

from PIL import Image

from tests.fakes.server import FakeServer, Reply, Request

PATH = "/v2beta/stable-image/generate/core"
_SIZES = {"16:9": (96, 54), "9:16": (54, 96), "1:1": (64, 64)}  # small stand-ins for 1.5 MP images


def error(status: int, name: str, *errors: str, **headers) -> Reply:
    return Reply.json(status, {"id": "a1b2c3", "name": name, "errors": list(errors) or [name]}, **headers)


def moderation() -> Reply:
    return error(403, "content_moderation", "Your request was flagged by our content moderation system")


def png(width: int, height: int, rgb=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), rgb).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeStability(FakeServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    def generations(self) -> list[Request]:
        return [r for r in self.received if r.path == PATH]

    def respond(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return error(404, "not_found", f"{request.method} {request.path} does not exist")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "unauthorized", "authorization: invalid or missing API key")
        try:
            form = request.form()
        except AssertionError as exc:
            return error(400, "bad_request", str(exc))
        if not form.get("prompt"):
            return error(400, "bad_request", "prompt: cannot be empty")
        ratio = form.get("aspect_ratio", "1:1")
        if ratio not in _SIZES:
            return error(400, "bad_request", f"aspect_ratio: invalid value {ratio}")
        if not request.headers.get("accept", "").startswith("image/"):
            return Reply.json(200, {"image": "", "finish_reason": "SUCCESS", "seed": 1})
        return Reply(200, png(*_SIZES[ratio]), {"Content-Type": "image/png", "finish-reason": "SUCCESS", "seed": "42"})

    def filtered(self) -> Reply:
        """A 200 whose image the output filter blurred out."""
        return Reply(200, png(96, 54, (0, 0, 0)), {"Content-Type": "image/png", "finish-reason": "CONTENT_FILTERED",
                                                   "seed": "7"})
