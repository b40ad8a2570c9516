"""The one error tree that drives retries.

    YtmakerError
     ├── TransientError          retried with backoff (or after ``retry_after``)
     │    ├── ProviderUnavailable     timeouts, connection loss, HTTP 429 and 5xx
     │    └── StageTimeout            a stage or its subprocess hit its time limit
     └── PermanentError          never retried; the project fails with the reason
          ├── ProjectNotFound
          ├── InvalidInput            empty or oversized text, bad options, bad LLM output
          │    └── InputTooLarge           a text over YTMAKER_MAX_TEXT_BYTES (the API's 413)
          ├── CredentialsRejected     a rejected or missing API key
          ├── ContentRejected         moderation
          ├── QuotaExceeded           a daily quota or upload limit is used up
          └── MediaError              FFmpeg failed on input it cannot use

Vendor and library errors are translated into this tree at the provider boundary
(chained with ``from exc``); stage code never catches an SDK's exceptions.
Messages are written for a person: they say what went wrong and what to do,
and never carry secrets.
"""

from __future__ import annotations

import errno

from dramatiq.middleware import Shutdown, TimeLimitExceeded


class YtmakerError(Exception):
    """Root of every error ytmaker raises on purpose."""


class TransientError(YtmakerError):
    """A failure that may succeed on a later attempt.

    ``retry_after`` (seconds), when a provider sent one, overrides the backoff.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(TransientError):
    """A remote API timed out, dropped the connection, throttled us or answered 5xx."""


class WaitUntil(TransientError):
    """Nothing failed, but the stage cannot go on before a known time (a daily quota's reset).

    Sent again after ``retry_after`` seconds without counting against the stage's retries.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)


class StageTimeout(TransientError):
    """A stage, or a subprocess it started, ran past its time limit."""


class PermanentError(YtmakerError):
    """A failure that another attempt cannot fix."""


class ProjectNotFound(PermanentError):
    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project with id {project_id!r}; check the id with `ytmaker list`")


class InvalidInput(PermanentError):
    """The text, options or a provider's output cannot be used."""


class InputTooLarge(InvalidInput):
    """The text is larger than the configured limit."""


class CredentialsRejected(PermanentError):
    """An API key or token is missing, expired or rejected."""


class ContentRejected(PermanentError):
    """A provider's moderation refused the content."""


class QuotaExceeded(PermanentError):
    """A provider's quota or upload limit is used up: retrying now only burns more of it."""


class MediaError(PermanentError):
    """FFmpeg (or an image library) could not process the media.

    Carries the command and FFmpeg's stderr tail for whoever debugs it.
    """

    def __init__(self, message: str, *, command: list[str] | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.command = command or []
        self.stderr = stderr


class Cancelled(PermanentError):
    """The project was cancelled while this stage ran."""


#: errno values that no retry can fix without a person acting first.
_PERMANENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def classify(exc: BaseException) -> YtmakerError:
    """Map any exception to the tree, so the retry policy has one question to ask.

    Unknown exceptions count as transient only when they are the usual
    signs of a flaky dependency (connection loss, timeouts, a database that
    went away); everything else is a bug or bad input, and retrying a bug
    only burns time, so it is permanent.
    """
    if isinstance(exc, YtmakerError):
        return exc
    if isinstance(exc, OSError) and exc.errno in _PERMANENT_ERRNOS:
        reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "permission denied"
        where = exc.filename or "data dir"
        return PermanentError(f"{reason}: {exc.strerror} ({where}); free space or fix permissions, then `ytmaker retry`")
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return ProviderUnavailable(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, Shutdown):
        return TransientError("the worker shut down while the stage ran")
    if isinstance(exc, TimeLimitExceeded):
        return StageTimeout("the stage ran past its time limit")
    name = type(exc).__name__
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "psycopg", "redis")) and name in {
        "OperationalError", "InterfaceError", "DisconnectionError", "ConnectionError", "TimeoutError", "BusyLoadingError",
    }:
        return TransientError(f"database or Redis connection problem: {name}")
    return PermanentError(f"internal error: {name}: {exc}")
