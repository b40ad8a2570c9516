"""Script writer on any OpenAI-compatible chat completions server (OpenAI, DeepSeek, Qwen, Groq, Ollama, vLLM).

The official ``openai`` package sends the request through an injected
``httpx.Client`` with its own retries off (ours are :class:`QuickRetry` and the
stage's). Servers differ in what they constrain, so the writer steps down
until one is accepted and remembers it for the next request::

    response_format json_schema (strict)  -> Ollama >= 0.5, vLLM, OpenAI, Groq, Qwen
      400/422 refusing it                 -> json_object (DeepSeek, older servers)
      400/422 refusing that               -> plain text, the JSON read out of the answer

Whatever the mode, the answer is read by ytmaker.providers.drafts: an
unusable one gets one repair round, then the stage fails with the reason.
The answer is streamed when ``stream`` is on, and read whole when the server
answers a streamed request with one JSON body. Errors go through the one HTTP
mapping (ytmaker.providers.http): 401/403 credentials, 429/5xx transient with
``Retry-After``, connection loss and timeouts transient, the rest input.
"""

from __future__ import annotations

import json
from typing import Any, cast

import httpx
import openai

from ytmaker.errors import InvalidInput, ProviderUnavailable
from ytmaker.logs import mask
from ytmaker.providers.base import Report, ScriptRequest
from ytmaker.providers.drafts import draft_or_repair, json_schema, prompt_for
from ytmaker.providers.http import ErrorBody, Service, error_for, json_object
from ytmaker.providers.retrying import QuickRetry
from ytmaker.script import ScriptDraft

#: OpenAI's own endpoint, used when no base URL is configured.
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
#: Characters of source text sent to the model; longer texts are cut at a sentence boundary.
DEFAULT_INPUT_CHARS = 60_000
#: Response formats tried in order; a server refusing one gets the next.
MODES = ("json_schema", "json_object", "text")
#: What a local server without keys is sent (the SDK insists on one; Ollama ignores it).
NO_KEY = "not-needed"
_SYSTEM = "You write video scripts as one JSON object and answer with that JSON object only."


def _error_body(response: httpx.Response) -> ErrorBody:
    """OpenAI-style ``{"error": {"message", "type", "code"}}`` (Ollama, vLLM, DeepSeek alike), else the text."""
    body = json_object(response)
    error = body.get("error") if body else None
    if isinstance(error, dict):
        return ErrorBody(response.status_code, label=str(error.get("type") or error.get("code") or ""),
                         message=str(error.get("message") or ""))
    if isinstance(error, str):
        return ErrorBody(response.status_code, message=error)
    return ErrorBody(response.status_code, message=response.text[:300].strip())


SERVICE = Service("the OpenAI-compatible server", "check YTMAKER_OPENAI_API_KEY and YTMAKER_OPENAI_BASE_URL", _error_body)


class OpenAIScriptWriter:
    """A :class:`~ytmaker.providers.base.ScriptWriter` on ``POST {base_url}/chat/completions``."""

    def __init__(self, *, client: httpx.Client, api_key: str | None = None, base_url: str = DEFAULT_BASE_URL,
                 model: str = DEFAULT_MODEL, stream: bool = False, input_chars: int = DEFAULT_INPUT_CHARS,
                 timeout_s: float = 120.0, retry: QuickRetry | None = None) -> None:
        self.model = model
        self.stream = stream
        self.input_chars = input_chars
        self.retry = retry or QuickRetry()
        self.mode = MODES[0]  # stepped down for good when a server refuses it
        self._client = openai.OpenAI(api_key=api_key or NO_KEY, base_url=base_url, http_client=cast(Any, client),
                                     max_retries=0, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def write(self, request: ScriptRequest, report: Report) -> ScriptDraft:
        prompt = prompt_for(request, self.input_chars, report)
        messages: list[dict[str, str]] = [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": prompt}]
        report(10, f"asking {self.model}")
        answer, finish = self._complete(messages, request.max_segments)

        def repair(unusable: str, ask: str) -> tuple[str, str]:
            if unusable.strip():
                messages.append({"role": "assistant", "content": unusable})
            messages.append({"role": "user", "content": ask})
            return self._complete(messages, request.max_segments)

        return draft_or_repair(answer, finish, repair=repair, model=self.model, max_segments=request.max_segments,
                               report=report)

    def _complete(self, messages: list[dict[str, str]], max_segments: int) -> tuple[str, str]:
        """The answer's text and finish reason, stepping down the response formats the server refuses."""
        while True:
            try:
                return self.retry(lambda: self._call(messages, max_segments), what="openai.chat.completions")
            except _Refused as refused:
                following = MODES.index(self.mode) + 1
                if following >= len(MODES):
                    raise refused.error from None
                self.mode = MODES[following]

    def _call(self, messages: list[dict[str, str]], max_segments: int) -> tuple[str, str]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0.7, "stream": self.stream}
        if self.mode == "json_schema":
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "video_script", "strict": True, "schema": json_schema(max_segments)}}
        elif self.mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            with self._client.chat.completions.with_streaming_response.create(**kwargs) as response:
                if "text/event-stream" in response.headers.get("content-type", ""):
                    return _streamed(response.parse())
                return _whole(response.read())
        except openai.APIStatusError as exc:
            # the SDK types httpx2; given a legacy httpx client, it hands back that client's own responses
            error = error_for(cast(httpx.Response, exc.response), SERVICE, "chat completion")
            if self.mode != "text" and exc.status_code in (400, 422) and isinstance(error, InvalidInput):
                raise _Refused(error) from exc
            raise error from exc
        except openai.APITimeoutError as exc:
            raise ProviderUnavailable(f"{SERVICE.name} timed out: no answer to the chat completion in time") from exc
        except (openai.APIConnectionError, httpx.TransportError) as exc:
            raise ProviderUnavailable(f"the connection to {SERVICE.name} was lost during the chat completion "
                                      f"({type(exc).__name__})") from exc
        except (ValueError, openai.APIResponseValidationError) as exc:  # a proxy's page, a cut-off body
            raise ProviderUnavailable(f"{SERVICE.name}'s answer was not readable JSON ({type(exc).__name__})") from exc
        except openai.APIError as exc:  # an error event in the middle of a stream
            raise ProviderUnavailable(f"{SERVICE.name} broke off the answer: {mask(str(exc))[:300]}") from exc


class _Refused(Exception):
    """The server refused the response format: the next one is tried."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _whole(body: bytes) -> tuple[str, str]:
    data = json.loads(body)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise ValueError("no choices in the answer")
    message = choices[0].get("message") or {}
    return str(message.get("content") or ""), str(choices[0].get("finish_reason") or "")


def _streamed(chunks: Any) -> tuple[str, str]:
    parts: list[str] = []
    finish = ""
    for chunk in chunks:
        for choice in chunk.choices or []:
            if choice.delta is not None and choice.delta.content:
                parts.append(choice.delta.content)
            finish = choice.finish_reason or finish
    return "".join(parts), finish
