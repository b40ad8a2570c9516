"""D-ID talks: a talking presenter made from our narration audio (or from text), over its REST API.

    POST /audios  (multipart field ``audio``)          -> 201 {"url": ...}
    POST /talks   {"source_url", "script": {...}}      -> 201 {"id": "tlk_...", "status": "created"}
    GET  /talks/{id}   created -> started -> done (result_url, duration) | error | rejected

A talk takes minutes, so this client only starts and checks; the waiting is
done by delayed messages (see ``ytmaker.stages.avatars``), not by a thread.
Errors ``{"kind", "description"}`` are translated into the project's tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from ytmaker.errors import (ContentRejected, CredentialsRejected, InvalidInput, PermanentError, ProviderUnavailable,
                            QuotaExceeded)
from ytmaker.logs import mask, register_secret
from ytmaker.providers.retrying import parse_retry_after

#: talk states that will not change any more
FINISHED = ("done", "error", "rejected")


class DIDClient:
    def __init__(self, *, api_key: str, base_url: str = "https://api.d-id.com", client: httpx.Client | None = None,
                 timeout_s: float = 60.0) -> None:
        register_secret(api_key)
        self._auth = {"Authorization": f"Basic {api_key}"}  # the key as D-ID's studio shows it
        self.base_url = base_url.rstrip("/")
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)))

    def close(self) -> None:
        """Close the HTTP connections this client opened (a client it was given is its owner's)."""
        if self._owns_client:
            self.client.close()

    def upload_audio(self, path: Path) -> str:
        """Upload narration audio; returns the URL a talk's script refers to."""
        with open(path, "rb") as handle:
            response = self._call("POST", "/audios", files={"audio": (path.name, handle, "audio/wav")})
        return _field(response, "url")

    def create_talk(self, *, source_url: str, audio_url: str | None = None, text: str | None = None,
                    voice: str = "en-US-JennyNeural") -> str:
        """Start a talk of the presenter at ``source_url`` saying the audio (or the text); returns its id."""
        if audio_url:
            script = {"type": "audio", "audio_url": audio_url}
        elif text:
            script = {"type": "text", "input": text, "provider": {"type": "microsoft", "voice_id": voice}}
        else:
            raise InvalidInput("a D-ID talk needs audio or text")
        response = self._call("POST", "/talks", json={"source_url": source_url, "script": script,
                                                       "config": {"result_format": "mp4"}})
        return _field(response, "id")

    def talk(self, talk_id: str) -> dict:
        """The talk's current state: ``status`` and, when done, ``result_url`` and ``duration``."""
        talk = _json(self._call("GET", f"/talks/{talk_id}"))
        if not isinstance(talk, dict):
            raise ProviderUnavailable(f"D-ID answered GET /talks/{talk_id} with something other than a talk")
        return talk

    def download(self, url: str, out: Path) -> None:
        """Fetch a finished talk's video to ``out`` (a pre-signed URL: no Authorization header)."""
        tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    response.read()
                    _raise(response, "result download")
                with open(tmp, "wb") as handle:
                    for block in response.iter_bytes(1 << 20):
                        handle.write(block)
            os.replace(tmp, out)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"downloading the D-ID video failed ({type(exc).__name__})") from exc
        finally:
            tmp.unlink(missing_ok=True)

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.client.request(method, f"{self.base_url}{path}", headers=self._auth, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"D-ID did not answer {method} {path} in time") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the connection to D-ID was lost ({type(exc).__name__})") from exc
        if response.status_code not in (200, 201):
            _raise(response, f"{method} {path}")
        return response


def _json(response: httpx.Response):
    """The body as JSON; an unreadable one (a proxy's page, a cut-off answer) is worth another try."""
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(f"D-ID answered {response.request.method} {response.request.url.path} "
                                  f"with malformed JSON (HTTP {response.status_code})") from None


def _field(response: httpx.Response, name: str) -> str:
    body = _json(response)
    value = body.get(name) if isinstance(body, dict) else None
    if not value:
        raise ProviderUnavailable(f"D-ID answered {response.request.url.path} without {name!r}")
    return str(value)


def _raise(response: httpx.Response, what: str):
    status = response.status_code
    try:
        body = response.json()
        kind, description = body.get("kind", ""), str(body.get("description", ""))
    except (ValueError, AttributeError):
        kind, description = "", response.text[:200]
    detail = mask(f"HTTP {status} {kind}: {description}".strip(" :")[:300])
    if status == 429 or status >= 500:
        raise ProviderUnavailable(f"D-ID {what} failed ({detail})", retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status == 401:
        raise CredentialsRejected(f"D-ID rejected the API key ({detail}); check YTMAKER_DID_API_KEY")
    if status == 402 or kind == "InsufficientCreditsError":
        raise QuotaExceeded(f"the D-ID account is out of credits ({detail}); add credits, then `ytmaker retry`")
    if status == 403:
        raise CredentialsRejected(f"D-ID refused the {what} ({detail})")
    raise InvalidInput(f"D-ID rejected the {what} ({detail})")


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


def build_did(settings) -> DIDClient:
    """The client from configuration; a missing key or presenter image is refused clearly."""
    key = settings.did_api_key.get_secret_value().strip() if settings.did_api_key else ""
    if not key:
        raise CredentialsRejected("avatar provider 'did' needs YTMAKER_DID_API_KEY (or set YTMAKER_AVATAR_PROVIDER=none)")
    if not settings.did_source_url:
        raise InvalidInput("avatar provider 'did' needs YTMAKER_DID_SOURCE_URL, a public URL of the presenter's image")
    return DIDClient(api_key=key, base_url=settings.did_base_url, timeout_s=settings.did_timeout_s)
