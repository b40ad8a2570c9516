"""OpenAIScriptWriter through the real ``openai`` package, against a fake OpenAI-compatible server."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.gemini import VALID_SCRIPT
from tests.fakes.openai_chat import FakeOpenAI, error
from tests.fakes.server import Reply
from ytmaker.config import Settings
from ytmaker.errors import CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.logs import mask
from ytmaker.providers.base import ScriptRequest
from ytmaker.providers.openai_chat import OpenAIScriptWriter
from ytmaker.providers.registry import Providers
from ytmaker.providers.retrying import QuickRetry

KEY = "sk-FAKE-openai-key-0123456789abcdef"
TEXT = ("Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb. "
        "The angle of the dance points to the food, and its length tells the distance.")


def writer(fake, *, stream=True, timeout_s=10.0, **kwargs) -> OpenAIScriptWriter:
    kwargs.setdefault("retry", QuickRetry(attempts=3, first_wait_s=0.01, max_wait_s=2))
    client = httpx.Client(timeout=timeout_s)
    return OpenAIScriptWriter(client=client, base_url=f"{fake.url}/v1", model="llama3.2", stream=stream,
                              timeout_s=timeout_s, **kwargs)


def request(**overrides) -> ScriptRequest:
    values = dict(content=TEXT, title=None, language="en", prompt_template="default", model="gemini-2.5-flash",
                  max_segments=7)
    values.update(overrides)
    return ScriptRequest(**values)


def nothing(percent, message):
    pass


@pytest.mark.parametrize("streams", [True, False], ids=["streaming-server", "whole-answer-server"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream-asked", "stream-not-asked"])
def test_a_schema_constrained_script_comes_back_streamed_or_whole(stream, streams):
    with FakeOpenAI(api_key=KEY, streams=streams) as fake:
        draft = writer(fake, stream=stream, api_key=KEY).write(request(), nothing)

        assert draft.model_dump(exclude_none=True) == VALID_SCRIPT
        [call] = fake.calls()
        assert call.path == "/v1/chat/completions" and call.headers["authorization"] == f"Bearer {KEY}"
        body = call.json()
        assert body["model"] == "llama3.2" and body.get("stream", False) is stream
        form = body["response_format"]
        assert form["type"] == "json_schema" and form["json_schema"]["strict"] is True
        schema = form["json_schema"]["schema"]
        assert schema["properties"]["segments"]["maxItems"] == 7 and schema["additionalProperties"] is False
        prompt = body["messages"][-1]["content"]
        assert TEXT in prompt and "At most 7 segments" in prompt and "explainer" in prompt  # Gemini's templates


def test_a_server_with_json_mode_only_gets_json_object_and_the_writer_remembers_it():
    with FakeOpenAI(formats=("json_object",)) as fake:  # DeepSeek
        w = writer(fake)
        w.write(request(), nothing)
        w.write(request(), nothing)

        kinds = [(c.json().get("response_format") or {}).get("type") for c in fake.calls()]
        assert kinds == ["json_schema", "json_object", "json_object"]
        assert "authorization" not in fake.calls()[0].headers or "not-needed" in fake.calls()[0].headers["authorization"]


def test_a_server_with_no_json_mode_gets_plain_text_and_prose_around_the_json_is_read():
    with FakeOpenAI(formats=()) as fake:
        fake.answer("Sure! Here is the script:\n```json\n" + __import__("json").dumps(VALID_SCRIPT) + "\n```")
        draft = writer(fake).write(request(), nothing)

        assert draft.title == VALID_SCRIPT["title"]
        assert [c.json().get("response_format") for c in fake.calls()][-1] is None


def test_an_unusable_answer_gets_one_repair_round_then_fails_permanently():
    with FakeOpenAI() as fake:
        fake.answer('{"title": "Bees", "segments": [')
        draft = writer(fake).write(request(), nothing)
        assert draft.title == VALID_SCRIPT["title"]
        repair = fake.calls()[1].json()["messages"]
        assert repair[-2] == {"role": "assistant", "content": '{"title": "Bees", "segments": ['}
        assert "could not be used" in repair[-1]["content"]

        fake.answer({"title": "no segments"})
        fake.answer({"title": "still none"})
        with pytest.raises(InvalidInput, match=r"unusable script twice.*segments"):
            writer(fake).write(request(), nothing)


def test_a_rejected_key_is_a_credentials_error_and_the_key_never_shows():
    with FakeOpenAI(api_key=KEY) as fake:
        with pytest.raises(CredentialsRejected) as caught:
            writer(fake, api_key="sk-wrong-key-0000000000").write(request(), nothing)
        assert "YTMAKER_OPENAI_API_KEY" in str(caught.value) and "Incorrect API key" in str(caught.value)
        assert len(fake.calls()) == 1


def test_429_with_retry_after_is_honoured_in_the_call_and_a_long_one_left_to_the_stage():
    with FakeOpenAI() as fake:
        fake.fail(error(429, "Rate limit reached", "rate_limit_error", **{"Retry-After": "0",
                                                                           "x-ratelimit-remaining-requests": "0"}))
        assert writer(fake).write(request(), nothing).title == VALID_SCRIPT["title"]
        assert len(fake.calls()) == 2

        fake.fail(error(429, "Rate limit reached", "rate_limit_error", **{"Retry-After": "90"}))
        with pytest.raises(ProviderUnavailable) as caught:
            writer(fake).write(request(), nothing)
        assert caught.value.retry_after == 90 and len(fake.calls()) == 3


@pytest.mark.parametrize("reply", [
    error(500, "internal", "api_error"), error(503, "overloaded", "api_error"),
    Reply(200, b"<html>bad gateway</html>", {"Content-Type": "application/json"}),
    Reply(200, b'{"choices": [{"message": ', {"Content-Type": "application/json"}),
], ids=["500", "503", "html-body", "cut-off-body"])
def test_server_errors_and_malformed_bodies_are_retried_then_transient(reply):
    with FakeOpenAI() as fake:
        fake.fail(reply)
        assert writer(fake).write(request(), nothing).title == VALID_SCRIPT["title"]
        fake.fail(*[reply] * 3)
        with pytest.raises(ProviderUnavailable):
            writer(fake).write(request(), nothing)


def test_a_hang_past_the_timeout_and_a_refused_connection_are_transient():
    with FakeOpenAI() as fake:
        fake.fail(*[Reply(delay_s=1.0)] * 3)
        with pytest.raises(ProviderUnavailable, match="timed out"):
            writer(fake, timeout_s=0.2).write(request(), nothing)
        url = fake.url
    client = httpx.Client(timeout=2)
    dead = OpenAIScriptWriter(client=client, base_url=f"{url}/v1", retry=QuickRetry(attempts=1))
    with pytest.raises(ProviderUnavailable, match="connection"):
        dead.write(request(), nothing)


def test_an_unknown_model_is_invalid_input():
    with FakeOpenAI() as fake:
        fake.fail(error(404, "model 'nope' not found", "not_found_error"))
        with pytest.raises(InvalidInput, match="not found"):
            writer(fake).write(request(), nothing)


def test_the_registry_builds_it_from_settings_and_masks_the_key(tmp_path):
    with FakeOpenAI(api_key=KEY) as fake:
        settings = Settings(_env_file=None, script_provider="openai", openai_base_url=f"{fake.url}/v1",
                            openai_api_key=KEY, openai_model="qwen2.5")
        providers = Providers(settings, tmp_path)
        try:
            draft = providers.script_writer.write(request(), nothing)
        finally:
            providers.close()
        assert draft.title == VALID_SCRIPT["title"]
        assert fake.calls()[0].json()["model"] == "qwen2.5"
        assert mask(f"key {KEY}") == "key ***"
