"""YouTube Data API v3 calls: the access token, one refresh on a 401, and YouTube's own error reasons.

The generic mapping is :mod:`ytmaker.providers.http`'s; before it, YouTube's
reasons are read: ``quotaExceeded``, ``dailyLimitExceeded`` and
``uploadLimitExceeded`` are :class:`QuotaExceeded` (never retried: a retry only
burns quota), ``rateLimitExceeded`` and its kin are transient whatever their
status (YouTube sends them as 403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import httpx
import structlog

from ytmaker.errors import ProviderUnavailable, QuotaExceeded
from ytmaker.providers.http import (
    ErrorBody,
    Service,
    error_for,
    google_body,
    parse_retry_after,
    translate_transport_errors,
)

log = structlog.get_logger(__name__)

SERVICE = Service("YouTube", read=google_body, then="; the upload resumes on the next attempt",
                  credentials="run `ytmaker auth youtube --client-secrets FILE` again if the authorisation was revoked, "
                              "else check the channel and the authorised account")

_QUOTA_MESSAGES = {
    "quotaExceeded": "YouTube's daily API quota for this project is used up (quotaExceeded). It resets at "
                     "midnight Pacific time; then `ytmaker retry` resumes the upload where it stopped",
    "dailyLimitExceeded": "YouTube's daily API limit is used up (dailyLimitExceeded). Try `ytmaker retry` tomorrow",
    "uploadLimitExceeded": "this channel reached YouTube's upload limit for the last 24 hours (uploadLimitExceeded). "
                           "Try `ytmaker retry` tomorrow",
}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}


class YouTubeApi:
    """Authorised requests to YouTube on an injected ``httpx.Client`` whose base URL is the API's."""

    def __init__(self, *, token: Callable[[], str], client: httpx.Client) -> None:
        self.token = token
        self.client = client

    def call(self, method: str, url: str, *, what: str, headers: dict[str, str] | None = None,
             **kwargs: Any) -> httpx.Response:
        """Send with the access token; any status comes back (the caller decides), transport errors are translated."""
        response = self._send(method, url, what, headers or {}, kwargs)
        invalidate = getattr(self.token, "invalidate", None)
        if response.status_code == 401 and invalidate is not None:
            # The access token expired or was revoked before its time: get a fresh one and ask once more.
            log.info("youtube_token_refused", status=401)
            invalidate()
            response = self._send(method, url, what, headers or {}, kwargs)
        return response

    def check(self, response: httpx.Response, what: str) -> None:
        """Return on 2xx, else raise :meth:`error`."""
        if not response.is_success:
            raise self.error(response, what)

    def error(self, response: httpx.Response, what: str) -> Exception:
        """The error for an answer the caller cannot use: YouTube's reasons first, then the generic mapping."""
        return error_for(response, SERVICE, what, special=functools.partial(_special, what=what))

    def _send(self, method: str, url: str, what: str, headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        with translate_transport_errors(SERVICE, what):
            return self.client.request(method, url, headers={"Authorization": f"Bearer {self.token()}", **headers},
                                       **kwargs)


def _special(response: httpx.Response, body: ErrorBody, *, what: str) -> Exception | None:
    quota = next((reason for reason in _QUOTA_MESSAGES if reason in body.reasons), None)
    if quota is not None:
        return QuotaExceeded(f"{_QUOTA_MESSAGES[quota]} (during the {what}; not retried, to save quota)")
    if body.reasons & _RATE_REASONS:
        return ProviderUnavailable(f"YouTube is throttling requests ({body}){SERVICE.then}",
                                   retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return None
