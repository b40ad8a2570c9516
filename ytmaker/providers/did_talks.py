"""What a D-ID talk's status means, apart from the HTTP client.

The avatars stage reads talks' states in every assets worker; keeping this
apart means a worker with avatars off never imports httpx and the client.
"""

from __future__ import annotations

from ytmaker.errors import ContentRejected, PermanentError

#: the statuses a talk ends in
FINISHED = ("done", "error", "rejected")


def talk_failure(talk: dict) -> PermanentError:
    """The error for a talk that ended ``error`` or ``rejected``, with D-ID's reason."""
    error = talk.get("error") or {}
    if isinstance(error, dict):
        reason = error.get("description") or error.get("kind") or "no reason given"
    else:
        reason = str(error)
    if talk.get("status") == "rejected":
        return ContentRejected(f"D-ID rejected the talk {talk.get('id', '')}: {reason}")
    return PermanentError(f"D-ID could not make the talk {talk.get('id', '')}: {reason}")
