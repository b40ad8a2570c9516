"""Gemini script writer (google-genai): JSON output constrained by the script's schema.

The text goes to the model through a stored prompt template (chosen by the
project's ``prompt_template``), cut at a sentence boundary to a character
budget when it is long. The answer is validated as a :class:`ScriptDraft`;
JSON that is invalid or cut off gets one repair request, then the stage fails
permanently with the reason. SDK errors are translated here:

    ClientError 400 (API_KEY_INVALID), 401, 403  -> CredentialsRejected
    ClientError 429                              -> ProviderUnavailable(retry_after)
    ClientError 400, 404 and other 4xx           -> InvalidInput
    ServerError, timeouts, connection errors     -> ProviderUnavailable
    finish reason SAFETY / blocked prompt        -> ContentRejected
"""

from __future__ import annotations

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ytmaker.errors import ContentRejected, CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.logs import mask
from ytmaker.providers.base import Report, ScriptRequest
from ytmaker.providers.drafts import draft_or_repair, prompt_for
from ytmaker.providers.drafts import script_model as _schema
from ytmaker.providers.http import parse_retry_after
from ytmaker.providers.retrying import QuickRetry
from ytmaker.script import ScriptDraft

try:  # google-genai uses httpx2 when it is installed, httpx otherwise
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError, OSError)
except ImportError:  # pragma: no cover - depends on the environment
    _TRANSPORT_ERRORS = (httpx.TransportError, OSError)

#: Characters of source text sent to the model; longer texts are cut at a sentence boundary.
DEFAULT_INPUT_CHARS = 60_000
#: Seconds one generateContent call may take.
DEFAULT_TIMEOUT_S = 120.0
#: Finish reasons that mean the model refused the content.
_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}


class GeminiScriptWriter:
    """A :class:`~ytmaker.providers.base.ScriptWriter` on Gemini's generateContent."""

    def __init__(self, *, api_key: str, base_url: str | None = None, api_version: str | None = None,
                 input_chars: int = DEFAULT_INPUT_CHARS, timeout_s: float = DEFAULT_TIMEOUT_S,
                 retry: QuickRetry | None = None) -> None:
        self.input_chars = input_chars
        self.retry = retry or QuickRetry()
        options = types.HttpOptions(base_url=base_url, api_version=api_version, timeout=int(timeout_s * 1000))
        self._client = genai.Client(api_key=api_key, http_options=options)

    def close(self) -> None:
        """Close the SDK's HTTP connections."""
        self._client.close()

    def write(self, request: ScriptRequest, report: Report) -> ScriptDraft:
        prompt = prompt_for(request, self.input_chars, report)
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=_schema(request.max_segments),
            temperature=0.7,
        )
        report(10, f"asking {request.model}")
        contents = [_turn("user", prompt)]
        answer, finish = self._generate(request.model, contents, config)

        def repair(unusable: str, ask: str) -> tuple[str, str]:
            if unusable.strip():  # the unusable answer goes back as the model's own turn
                contents.append(_turn("model", unusable))
            contents.append(_turn("user", ask))
            return self._generate(request.model, contents, config)

        return draft_or_repair(answer, finish, repair=repair, model=request.model, max_segments=request.max_segments,
                               report=report)

    def _generate(self, model: str, contents: list[types.Content], config: types.GenerateContentConfig) -> tuple[str, str]:
        def call() -> tuple[str, str]:
            try:
                response = self._client.models.generate_content(model=model, contents=contents, config=config)
            except genai_errors.APIError as exc:
                raise translate(exc, model) from exc
            except _TRANSPORT_ERRORS as exc:
                raise ProviderUnavailable(f"Gemini did not answer: {type(exc).__name__}") from exc
            except ValueError as exc:  # the HTTP body itself was not JSON (a proxy's page, a cut-off answer)
                raise ProviderUnavailable(f"Gemini's answer was not readable JSON ({type(exc).__name__})") from exc
            return _answer(response)

        return self.retry(call, what="gemini.generate_content")


def translate(exc: genai_errors.APIError, model: str) -> Exception:
    """The ytmaker error for an SDK error; its message never carries the key."""
    code = exc.code or 0
    status = exc.status or ""
    message = mask(str(exc.message or status or "no message"))[:300]
    details = _details(exc)
    if code == 429:
        return ProviderUnavailable(f"Gemini rate limit or quota reached (429 {status}): {message}",
                                   retry_after=_retry_after(exc, details))
    if code >= 500 or isinstance(exc, genai_errors.ServerError):
        return ProviderUnavailable(f"Gemini server error ({code} {status}): {message}")
    if code in (401, 403) or any(d.get("reason") == "API_KEY_INVALID" for d in details):
        return CredentialsRejected(f"Gemini rejected the API key ({code} {status}): {message}. "
                                   "Check YTMAKER_GEMINI_API_KEY")
    if code == 404:
        return InvalidInput(f"Gemini has no model {model!r} ({message}); set another model for the project")
    return InvalidInput(f"Gemini refused the request ({code} {status}): {message}")


def _details(exc: genai_errors.APIError) -> list[dict]:
    body = exc.details if isinstance(exc.details, dict) else {}
    details = body.get("error", {}).get("details", []) if isinstance(body.get("error"), dict) else []
    return [d for d in details if isinstance(d, dict)]


def _retry_after(exc: genai_errors.APIError, details: list[dict]) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        seconds = parse_retry_after(headers.get("retry-after"))
        if seconds is not None:
            return seconds
    for detail in details:
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def _answer(response: types.GenerateContentResponse) -> tuple[str, str]:
    feedback = getattr(response, "prompt_feedback", None)
    if feedback is not None and getattr(feedback, "block_reason", None):
        raise ContentRejected(f"Gemini blocked the text ({feedback.block_reason}); change the text or the template")
    candidates = response.candidates or []
    if not candidates:
        return "", "NO_CANDIDATE"
    candidate = candidates[0]
    finish = str(getattr(candidate.finish_reason, "value", candidate.finish_reason) or "")
    if finish in _BLOCKED:
        raise ContentRejected(f"Gemini refused to write this script (finish reason {finish}); change the text")
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    return "".join(part.text or "" for part in parts if not getattr(part, "thought", False)), finish


def _turn(role: str, text: str) -> types.Content:
    return types.Content(role=role, parts=[types.Part(text=text)])
