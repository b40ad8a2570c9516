"""D-ID talks: a talking presenter made from our narration audio (or from text), over its REST API.

    POST /audios  (multipart field ``audio``)          -> 201 {"url": ...}
    POST /talks   {"source_url", "script": {...}}      -> 201 {"id": "tlk_...", "status": "created"}
    GET  /talks/{id}   created -> started -> done (result_url, duration) | error | rejected

A talk takes minutes, so this client only starts and checks; the waiting is
done by delayed messages (see ``ytmaker.stages.avatars``), not by a thread.
Errors ``{"kind", "description"}`` go through :mod:`ytmaker.providers.http`, after one
special case: ``InsufficientCreditsError`` is QuotaExceeded whatever its status.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from ytmaker.errors import InvalidInput, ProviderUnavailable, QuotaExceeded
from ytmaker.providers.http import (
    ErrorBody,
    Service,
    json_object,
    raise_for_status,
    request,
    text_body,
    translate_transport_errors,
)


def _read(response: httpx.Response) -> ErrorBody:
    """D-ID's ``{"kind", "description"}`` error body."""
    body = json_object(response)
    if body is None:
        return text_body(response)
    return ErrorBody(response.status_code, label=str(body.get("kind") or ""), message=str(body.get("description") or ""))


def _special(response: httpx.Response, body: ErrorBody) -> Exception | None:
    if body.label == "InsufficientCreditsError":  # whatever the status it came with
        return QuotaExceeded(f"the D-ID account is out of credits ({body}); add credits, then `ytmaker retry`")
    return None


SERVICE = Service("D-ID", credentials="check YTMAKER_DID_API_KEY and the plan's permissions", read=_read)


class DIDClient:
    """D-ID's talks API on an injected ``httpx.Client`` (its base URL is D-ID's; its owner closes it)."""

    def __init__(self, *, api_key: str, client: httpx.Client) -> None:
        self._auth = {"Authorization": f"Basic {api_key}"}  # the key as D-ID's studio shows it
        self.client = client

    def upload_audio(self, path: Path) -> str:
        """Upload narration audio; returns the URL a talk's script refers to."""
        with open(path, "rb") as handle:
            response = self._call("POST", "/audios", files={"audio": (path.name, handle, "audio/wav")})
        return _field(response, "url")

    def create_talk(self, *, source_url: str, audio_url: str | None = None, text: str | None = None,
                    voice: str = "en-US-JennyNeural") -> str:
        """Start a talk of the presenter at ``source_url`` saying the audio (or the text); returns its id."""
        script: dict[str, Any]
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
            with translate_transport_errors(SERVICE, "result download"), self.client.stream("GET", url) as response:
                if not response.is_success:
                    response.read()
                    raise_for_status(response, SERVICE, "result download", special=_special)
                with open(tmp, "wb") as handle:
                    for block in response.iter_bytes(1 << 20):
                        handle.write(block)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return request(self.client, SERVICE, method, path, what=f"{method} {path}", special=_special,
                       headers=self._auth, **kwargs)


def _json(response: httpx.Response) -> Any:
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


def build_did(settings: Any, *, api_key: str, client: httpx.Client) -> DIDClient:
    """The client from configuration (the key checked by the registry); a missing presenter image is refused."""
    if not settings.did_source_url:
        raise InvalidInput("avatar provider 'did' needs YTMAKER_DID_SOURCE_URL, a public URL of the presenter's image")
    return DIDClient(api_key=api_key, client=client)
