"""Stability AI images: ``POST /v2beta/stable-image/generate/core``, one per segment.

Requests go through a rate limiter (shared by all workers through Redis, or
in-process in embedded mode), under the documented 150 per 10 s whose breach
costs a 60 s lockout. Answers map onto the error tree (the generic part in
:mod:`ytmaker.providers.http`):

    200 finish-reason SUCCESS          -> the image, fitted to the video's size
    200 finish-reason CONTENT_FILTERED -> moderation (below)
    403 name content_moderation        -> moderation (below)
    401, other 403                     -> CredentialsRejected
    402 (out of credits)               -> QuotaExceeded
    400, 413, 422                      -> InvalidInput
    429                                -> ProviderUnavailable(retry_after), everyone locked out meanwhile
    5xx, timeouts, connection errors   -> ProviderUnavailable

Moderation puts the offline slide in the segment's place and returns a
warning for the asset, or raises ContentRejected when fallback is off.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from ytmaker.errors import ContentRejected, InvalidInput, ProviderUnavailable
from ytmaker.providers.base import ImageProvider, ImageRequest
from ytmaker.providers.http import ErrorBody, Service, json_object, parse_retry_after, request, text_body
from ytmaker.providers.ratelimit import RateLimiter
from ytmaker.providers.retrying import QuickRetry

PATH = "/v2beta/stable-image/generate/core"
#: Aspect ratios the endpoint accepts.
ASPECT_RATIOS = {"16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"}
#: Requests per window and window (s): the documented limit.
DEFAULT_RATE_LIMIT = 150
DEFAULT_RATE_WINDOW_S = 10.0
#: The documented penalty for going over the limit, when a 429 names none.
LOCKOUT_S = 60.0
#: Narration slides carry their own text; generated letters would be garbled.
NEGATIVE_PROMPT = "text, letters, words, captions, watermark, logo, signature"


def _read(response: httpx.Response) -> ErrorBody:
    """Stability's ``{"id", "name", "errors": [...]}`` error body."""
    body = json_object(response)
    if body is None:
        return text_body(response)
    errors = body.get("errors") or [body.get("message", "")]
    if not isinstance(errors, list):
        errors = [errors]
    return ErrorBody(response.status_code, label=str(body.get("name") or ""),
                     message="; ".join(str(e) for e in errors if e))


SERVICE = Service("Stability AI", credentials="check YTMAKER_STABILITY_API_KEY and the account's access", read=_read)


class StabilityImages:
    """An :class:`~ytmaker.providers.base.ImageProvider` on Stable Image Core.

    ``client`` has Stability's base URL; ``limiter`` is shared by every process that shares the account.
    """

    def __init__(self, *, api_key: str, client: httpx.Client, limiter: RateLimiter, moderation_fallback: bool = True,
                 fallback: ImageProvider | None = None, retry: QuickRetry | None = None) -> None:
        self._api_key = api_key
        self.client = client
        self.limiter = limiter
        self.moderation_fallback = moderation_fallback
        if fallback is None:
            from ytmaker.providers.slides import SlideImages

            fallback = SlideImages()
        self.fallback = fallback
        self.retry = retry or QuickRetry()

    def generate(self, request: ImageRequest, out: Path) -> str | None:
        if request.aspect_ratio not in ASPECT_RATIOS:
            raise InvalidInput(f"Stability AI has no aspect ratio {request.aspect_ratio!r}; "
                               f"use one of {', '.join(sorted(ASPECT_RATIOS))}")
        fields = {
            "prompt": request.description,
            "negative_prompt": NEGATIVE_PROMPT,
            "aspect_ratio": request.aspect_ratio,
            "output_format": "png",
        }
        try:
            image = self.retry(lambda: self._post(fields), what="stability.generate")
        except ContentRejected as exc:
            if not self.moderation_fallback:
                raise
            self.fallback.generate(request, out)
            return f"image {request.index + 1}: {exc} An offline slide was used instead."
        fitted = ImageOps.fit(image.convert("RGB"), (request.width, request.height), Image.Resampling.LANCZOS)
        fitted.save(out, format="PNG", compress_level=1)
        return None

    def _post(self, fields: dict[str, str]) -> Image.Image:
        self.limiter.acquire()
        response = request(
            self.client, SERVICE, "POST", PATH, what="image generation", special=self._special,
            files={name: (None, value) for name, value in fields.items()},  # multipart/form-data, no files
            headers={"Authorization": f"Bearer {self._api_key}", "Accept": "image/*"},
        )
        if response.headers.get("finish-reason", "SUCCESS").upper() == "CONTENT_FILTERED":
            raise ContentRejected("Stability AI's filter removed the image generated for this description.")
        try:
            image = Image.open(io.BytesIO(response.content))
            image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise ProviderUnavailable("Stability AI sent an image that cannot be read") from exc
        return image

    def _special(self, response: httpx.Response, body: ErrorBody) -> Exception | None:
        """Moderation, and a 429 that locks every worker out for its penalty."""
        if response.status_code == 403 and body.label == "content_moderation":
            return ContentRejected(f"Stability AI's moderation refused this description ({body.message}).")
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            retry_after = LOCKOUT_S if retry_after is None else retry_after
            self.limiter.lock_out(retry_after)
            return ProviderUnavailable(f"Stability AI answered {body}: too many requests; locked out for "
                                       f"{retry_after:g} s", retry_after=retry_after)
        return None
