"""Stability AI images: ``POST /v2beta/stable-image/generate/core``, one per segment.

Requests go through a rate limit shared by all workers (Redis), under the
documented 150 per 10 s whose breach costs a 60 s lockout. Answers map onto
the error tree:

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

from ytmaker.errors import ContentRejected, CredentialsRejected, InvalidInput, ProviderUnavailable, QuotaExceeded
from ytmaker.logs import mask, register_secret
from ytmaker.providers.base import ImageProvider, ImageRequest
from ytmaker.providers.ratelimit import RedisRateLimiter
from ytmaker.providers.retrying import QuickRetry, parse_retry_after

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


class StabilityImages:
    """An :class:`~ytmaker.providers.base.ImageProvider` on Stable Image Core."""

    def __init__(self, *, api_key: str, client: httpx.Client, redis, rate_limit: int = DEFAULT_RATE_LIMIT,
                 rate_window_s: float = DEFAULT_RATE_WINDOW_S, moderation_fallback: bool = True,
                 fallback: ImageProvider | None = None, retry: QuickRetry | None = None,
                 rate_key: str = "stability") -> None:
        if not api_key:
            raise CredentialsRejected("no Stability AI API key; set YTMAKER_STABILITY_API_KEY")
        register_secret(api_key)
        self._api_key = api_key
        self.client = client
        self.limiter = RedisRateLimiter(redis, name=rate_key, limit=rate_limit, window_s=rate_window_s)
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
        try:
            response = self.client.post(
                PATH,
                files={name: (None, value) for name, value in fields.items()},  # multipart/form-data, no files
                headers={"Authorization": f"Bearer {self._api_key}", "Accept": "image/*"},
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable("Stability AI timed out") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"Stability AI could not be reached: {type(exc).__name__}") from exc
        if response.status_code == 200:
            if response.headers.get("finish-reason", "SUCCESS").upper() == "CONTENT_FILTERED":
                raise ContentRejected("Stability AI's filter removed the image generated for this description.")
            try:
                image = Image.open(io.BytesIO(response.content))
                image.load()
            except (UnidentifiedImageError, OSError) as exc:
                raise ProviderUnavailable("Stability AI sent an image that cannot be read") from exc
            return image
        raise self._error(response)

    def _error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        name, detail = _error_body(response)
        where = f"Stability AI answered {status}" + (f" {name}" if name else "")
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            retry_after = LOCKOUT_S if retry_after is None else retry_after
            self.limiter.lock_out(retry_after)
            return ProviderUnavailable(f"{where}: too many requests; locked out for {retry_after:g} s",
                                       retry_after=retry_after)
        if status >= 500:
            return ProviderUnavailable(f"{where}: {detail}")
        if status == 403 and name == "content_moderation":
            return ContentRejected(f"Stability AI's moderation refused this description ({detail}).")
        if status in (401, 403):
            return CredentialsRejected(f"{where}: the API key was rejected ({detail}); check YTMAKER_STABILITY_API_KEY")
        if status == 402:
            return QuotaExceeded(f"{where}: the account is out of credits ({detail}); add credits at "
                                 "platform.stability.ai, then `ytmaker retry`")
        return InvalidInput(f"{where}: the request was refused ({detail})")


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """(name, readable errors) of a ``{"id", "name", "errors": [...]}`` body, masked."""
    try:
        body = response.json()
    except ValueError:
        return "", mask(response.text[:200]) or "no details"
    if not isinstance(body, dict):
        return "", "no details"
    errors = body.get("errors") or [body.get("message", "")]
    detail = "; ".join(str(e) for e in errors if e)[:400] or "no details"
    return str(body.get("name", "")), mask(detail)
