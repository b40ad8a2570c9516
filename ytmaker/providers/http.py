"""The one HTTP boundary of the providers: httpx's outcomes mapped onto :mod:`ytmaker.errors`.

Every HTTP client (D-ID, Stability AI, Google Text-to-Speech, YouTube) sends
through here, as httpx maps httpcore's errors in one place::

    with translate_transport_errors(SERVICE, what):     the request
        httpx.TimeoutException                       -> ProviderUnavailable  "... timed out ..."
        any other httpx.TransportError               -> ProviderUnavailable  "the connection to ... was lost"
    raise_for_status(response, SERVICE, what, special=...)
        2xx                                          -> returns
        special(response, body) gives an error       -> that error (a client's own bodies first:
                                                        moderation, quota, a lockout...)
        429, 5xx                                     -> ProviderUnavailable(retry_after=Retry-After)
        401, 403                                     -> CredentialsRejected, with the service's hint
        402                                          -> QuotaExceeded (out of credits)
        anything else                                -> InvalidInput

An error body is read by the service's reader into an :class:`ErrorBody`,
masked here (no key or token reaches a message), and quoted as
``HTTP <status> <label>: <message>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable, QuotaExceeded
from ytmaker.logs import mask

#: Characters of an error body's label and message kept in an error message.
MAX_LABEL_CHARS = 100
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer says: the service's name for the error, its message, and any machine reasons."""

    status: int
    label: str = ""  # a kind, name or reason ("InsufficientCreditsError", "content_moderation")
    message: str = ""
    reasons: frozenset[str] = field(default_factory=frozenset)

    def __str__(self) -> str:
        head = f"HTTP {self.status}" + (f" {self.label}" if self.label else "")
        return f"{head}: {self.message}" if self.message else head


Reader = Callable[[httpx.Response], ErrorBody]
#: A client's own reading of an error answer, asked first: an error to raise, or None for the generic mapping.
Special = Callable[[httpx.Response, ErrorBody], Exception | None]


def text_body(response: httpx.Response) -> ErrorBody:
    """The start of the body as the message (a proxy's page, a plain-text error)."""
    return ErrorBody(response.status_code, message=response.text[:MAX_MESSAGE_CHARS].strip())


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (HTML, cut off, a list)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def google_body(response: httpx.Response) -> ErrorBody:
    """A Google API error: ``{"error": {"status", "message", "errors": [{reason}], "details": [{reason}]}}``."""
    body = json_object(response)
    error = body.get("error") if body is not None else None
    if not isinstance(error, dict):
        return text_body(response) if body is None else ErrorBody(response.status_code, message=str(error or ""))
    items = [*(error.get("errors") or []), *(error.get("details") or [])]
    reasons = [str(item["reason"]) for item in items if isinstance(item, dict) and item.get("reason")]
    return ErrorBody(response.status_code, label=reasons[0] if reasons else str(error.get("status") or ""),
                     message=str(error.get("message") or ""), reasons=frozenset(reasons))


@dataclass(frozen=True)
class Service:
    """How one API is named in messages and how its error bodies read."""

    name: str  # as people know it: "D-ID", "Stability AI"
    credentials: str  # what to do about a 401/403: "check YTMAKER_DID_API_KEY"
    read: Reader = text_body
    then: str = ""  # appended to transient messages: what happens next ("; the upload resumes on the next attempt")


@contextmanager
def translate_transport_errors(service: Service, what: str) -> Iterator[None]:
    """Turn httpx's timeouts and connection errors inside the block into ProviderUnavailable, chained."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{service.name} timed out: no answer to the {what} in time{service.then}") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"the connection to {service.name} was lost during the {what} "
                                  f"({type(exc).__name__}){service.then}") from exc


def raise_for_status(response: httpx.Response, service: Service, what: str, *, special: Special | None = None) -> None:
    """Return on 2xx; otherwise raise :func:`error_for` the answer.

    The body must have been read (a streamed response: call ``response.read()`` first).
    """
    if not response.is_success:
        raise error_for(response, service, what, special=special)


def error_for(response: httpx.Response, service: Service, what: str, *, special: Special | None = None) -> Exception:
    """The error-tree error for an answer that is not what the caller wanted: ``special``'s, else the generic one."""
    body = service.read(response)
    body = replace(body, label=mask(body.label)[:MAX_LABEL_CHARS],
                   message=mask(" ".join(body.message.split()))[:MAX_MESSAGE_CHARS])
    error = special(response, body) if special is not None else None
    return error if error is not None else status_error(response, service, what, body)


def status_error(response: httpx.Response, service: Service, what: str, body: ErrorBody) -> Exception:
    """The generic mapping: 429/5xx transient with Retry-After, 401/403 credentials, 402 quota, the rest input."""
    status = response.status_code
    if status == 429 or status >= 500:
        return ProviderUnavailable(f"{service.name} {what} failed ({body}){service.then}",
                                   retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status == 401:
        return CredentialsRejected(f"{service.name} rejected the credentials for the {what} ({body}); {service.credentials}")
    if status == 403:
        return CredentialsRejected(f"{service.name} refused the {what}: the credentials lack access ({body}); {service.credentials}")
    if status == 402:
        return QuotaExceeded(f"the {service.name} account is out of credits ({body}); add credits, then `ytmaker retry`")
    return InvalidInput(f"{service.name} rejected the {what} ({body})")


def request(client: httpx.Client, service: Service, method: str, url: str, *, what: str,
            special: Special | None = None, **kwargs: Any) -> httpx.Response:
    """Send one request through the boundary: a 2xx response, or the error-tree error."""
    with translate_transport_errors(service, what):
        response = client.request(method, url, **kwargs)
    raise_for_status(response, service, what, special=special)
    return response


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
