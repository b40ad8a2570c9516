"""GeminiScriptWriter through the real google-genai SDK, against a fake generateContent endpoint."""

from __future__ import annotations

import json

import pytest

from tests.fakes.gemini import VALID_SCRIPT, FakeGemini, error, retry_info
from tests.fakes.server import Reply
from ytmaker.errors import ContentRejected, CredentialsRejected, InvalidInput, ProviderUnavailable
from ytmaker.providers.base import ScriptRequest
from ytmaker.providers.drafts import fit_text
from ytmaker.providers.gemini import GeminiScriptWriter
from ytmaker.providers.prompts import TEMPLATES
from ytmaker.providers.retrying import QuickRetry

KEY = "AIzaFAKE-gemini-key-0123456789"
TEXT = ("Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb. "
        "The angle of the dance points to the food, and its length tells the distance.")


@pytest.fixture
def fake():
    with FakeGemini(KEY) as server:
        yield server


def writer(fake, **kwargs) -> GeminiScriptWriter:
    kwargs.setdefault("retry", QuickRetry(attempts=3, first_wait_s=0.01, max_wait_s=2))
    return GeminiScriptWriter(api_key=kwargs.pop("api_key", KEY), base_url=fake.url, **kwargs)


def request(**overrides) -> ScriptRequest:
    values = dict(content=TEXT, title=None, language="en", prompt_template="default", model="gemini-2.5-flash",
                  max_segments=12)
    values.update(overrides)
    return ScriptRequest(**values)


def nothing(percent, message):
    pass


def test_a_script_comes_back_from_a_schema_constrained_request_with_the_projects_model(fake):
    draft = writer(fake).write(request(model="gemini-2.5-pro", max_segments=7), nothing)

    assert draft.model_dump(exclude_none=True) == VALID_SCRIPT  # the model's own title is kept
    assert [s.headline for s in draft.segments] == [None, None]  # optional: the slide derives one
    [call] = fake.calls()
    assert call.path in ("/v1/models/gemini-2.5-pro:generateContent", "/v1beta/models/gemini-2.5-pro:generateContent")
    assert call.headers["x-goog-api-key"] == KEY
    body = call.json()
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert set(schema["required"]) >= {"title", "segments"}
    segments = schema["properties"]["segments"]
    assert segments.get("maxItems", segments.get("max_items")) == 7
    assert set(segments["items"]["properties"]) == {"narration", "image_description", "headline"}
    assert "headline" not in segments["items"].get("required", [])
    prompt = FakeGemini.prompt_of(call)
    assert TEXT in prompt and "explainer" in prompt and "At most 7 segments" in prompt


def test_the_v1beta_path_works_too(fake):
    writer(fake, api_version="v1beta").write(request(), nothing)

    assert fake.calls()[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_the_prompt_asks_for_headlines_and_states_the_length_when_the_project_has_one(fake):
    writer(fake).write(request(max_duration_s=60), nothing)
    writer(fake).write(request(), nothing)
    bounded, whole = (FakeGemini.prompt_of(call) for call in fake.calls())
    assert "at most about 60 seconds" in bounded and "about 165 words" in bounded and "204 characters" in bounded
    assert "seconds:" not in whole and "at most about" not in whole
    assert "headline names its topic in at most 5 words" in bounded


def test_a_headline_the_model_gives_is_kept(fake):
    script = {**VALID_SCRIPT, "segments": [{**VALID_SCRIPT["segments"][0], "headline": "The waggle dance"}]}
    fake.answer(script)
    draft = writer(fake).write(request(), nothing)
    assert draft.title == "How honeybees talk" and draft.segments[0].headline == "The waggle dance"


def test_the_prompt_template_is_chosen_by_id_and_an_unknown_one_is_refused_before_any_call(fake):
    writer(fake).write(request(prompt_template="story", title="Bees", language="de"), nothing)
    prompt = FakeGemini.prompt_of(fake.calls()[0])
    assert "narrated story video" in prompt and 'code "de"' in prompt and "Bees" in prompt

    with pytest.raises(InvalidInput) as info:
        writer(fake).write(request(prompt_template="nope"), nothing)
    assert all(name in str(info.value) for name in TEMPLATES)
    assert len(fake.calls()) == 1


def test_braces_in_the_text_do_not_break_the_template(fake):
    writer(fake).write(request(content="Sets look like {a, b} and {title_line}. " + TEXT), nothing)

    assert "{a, b} and {title_line}" in FakeGemini.prompt_of(fake.calls()[0])


def test_a_long_text_is_cut_at_a_sentence_boundary_to_the_character_budget(fake):
    long_text = " ".join(f"Sentence number {i} says something about bees." for i in range(400))
    messages = []

    writer(fake, input_chars=2000).write(request(content=long_text), lambda p, m: messages.append(m))

    prompt = FakeGemini.prompt_of(fake.calls()[0])
    source = prompt.split("<<<SOURCE\n", 1)[1].split("\nSOURCE>>>", 1)[0]
    assert 1000 < len(source) <= 2000
    assert source.endswith("about bees.")
    assert "cut to fit" in prompt
    assert any("cut to" in m for m in messages)
    assert fit_text("Short. Text.", 100) == ("Short. Text.", False)


def test_truncated_json_gets_one_repair_request_with_the_bad_answer_and_the_reason(fake):
    broken = json.dumps(VALID_SCRIPT)[:80]
    fake.answer(broken, finish_reason="MAX_TOKENS")

    draft = writer(fake).write(request(), nothing)

    assert draft.title == VALID_SCRIPT["title"]
    first, repair = fake.calls()
    turns = repair.json()["contents"]
    assert [t["role"] for t in turns] == ["user", "model", "user"]
    assert turns[0] == first.json()["contents"][0]
    assert turns[1]["parts"][0]["text"] == broken
    assert "not valid JSON" in turns[2]["parts"][0]["text"] and "output limit" in turns[2]["parts"][0]["text"]


def test_json_that_misses_the_schema_is_repaired_too(fake):
    fake.answer({"title": "No segments", "description": "x"})

    draft = writer(fake).write(request(), nothing)

    assert len(draft.segments) == 2
    assert "segments" in FakeGemini.prompt_of(fake.calls()[1]).split("could not be used", 1)[1]


def test_a_second_unusable_answer_is_a_permanent_failure_with_the_reason(fake):
    fake.answer("{not json")
    fake.answer("still { not json")

    with pytest.raises(InvalidInput) as info:
        writer(fake).write(request(), nothing)

    assert "twice" in str(info.value) and "not valid JSON" in str(info.value)
    assert len(fake.calls()) == 2


def test_more_segments_than_allowed_are_cut_to_the_limit(fake):
    many = dict(VALID_SCRIPT, segments=[{"narration": f"Point {i}.", "image_description": f"Picture {i}."} for i in range(9)])
    fake.answer(many)

    draft = writer(fake).write(request(max_segments=4), nothing)

    assert [s.narration for s in draft.segments] == ["Point 0.", "Point 1.", "Point 2.", "Point 3."]


@pytest.mark.parametrize("reply, expected, calls", [
    (error(401, "UNAUTHENTICATED", "bad credentials"), CredentialsRejected, 1),
    (error(403, "PERMISSION_DENIED", "API not enabled"), CredentialsRejected, 1),
    (error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."), InvalidInput, 1),
    (error(404, "NOT_FOUND", "models/x is not found"), InvalidInput, 1),
    (error(429, "RESOURCE_EXHAUSTED", "quota", details=[retry_info(60)]), ProviderUnavailable, 1),
])
def test_api_errors_map_onto_the_error_tree(fake, reply, expected, calls):
    fake.fail(reply)

    with pytest.raises(expected) as info:
        writer(fake).write(request(), nothing)

    assert len(fake.calls()) == calls
    assert KEY not in str(info.value)


def test_a_rejected_key_is_a_credentials_error_naming_the_setting(fake):
    with pytest.raises(CredentialsRejected) as info:
        writer(fake, api_key="wrong-key-000000").write(request(), nothing)

    assert "YTMAKER_GEMINI_API_KEY" in str(info.value)
    assert "wrong-key-000000" not in str(info.value)


def test_a_long_retry_delay_is_left_to_the_stage_retries(fake):
    fake.fail(error(429, "RESOURCE_EXHAUSTED", "quota", details=[retry_info(60)]))

    with pytest.raises(ProviderUnavailable) as info:
        writer(fake).write(request(), nothing)

    assert info.value.retry_after == 60
    assert len(fake.calls()) == 1


def test_a_short_retry_after_is_honoured_in_the_call(fake):
    fake.fail(error(429, "RESOURCE_EXHAUSTED", "slow down", **{"Retry-After": "0"}),
              error(503, "UNAVAILABLE", "overloaded"))

    draft = writer(fake).write(request(), nothing)

    assert draft.title == VALID_SCRIPT["title"]
    assert len(fake.calls()) == 3


@pytest.mark.parametrize("code, status", [(500, "INTERNAL"), (503, "UNAVAILABLE")])
def test_server_errors_are_retried_a_few_times_then_transient(fake, code, status):
    fake.fail(*[error(code, status, "boom")] * 5)

    with pytest.raises(ProviderUnavailable):
        writer(fake).write(request(), nothing)

    assert len(fake.calls()) == 3


def test_a_slow_answer_past_the_timeout_is_transient(fake):
    fake.fail(Reply(delay_s=1.0))

    with pytest.raises(ProviderUnavailable):
        writer(fake, timeout_s=0.2, retry=QuickRetry(attempts=1)).write(request(), nothing)


def test_a_malformed_response_body_is_transient_and_retried(fake):
    fake.fail(Reply(200, b'{"candidates": [{"content": ', {"Content-Type": "application/json"}))

    draft = writer(fake).write(request(), nothing)

    assert draft.title == VALID_SCRIPT["title"] and len(fake.calls()) == 2


def test_a_malformed_body_every_time_is_transient(fake):
    fake.fail(*[Reply(200, b"<html>proxy error</html>", {"Content-Type": "application/json"})] * 3)

    with pytest.raises(ProviderUnavailable, match="not readable JSON"):
        writer(fake).write(request(), nothing)
    assert len(fake.calls()) == 3


def test_a_refused_connection_is_transient():
    client = GeminiScriptWriter(api_key=KEY, base_url="http://127.0.0.1:9", retry=QuickRetry(attempts=1))

    with pytest.raises(ProviderUnavailable):
        client.write(request(), nothing)


def test_a_safety_stop_is_content_rejected_without_repair(fake):
    fake.answer("", finish_reason="SAFETY")

    with pytest.raises(ContentRejected):
        writer(fake).write(request(), nothing)

    assert len(fake.calls()) == 1


def test_a_missing_key_is_refused_with_the_variable_to_set(tmp_path):
    from tests.conftest import fast_settings
    from ytmaker.providers.registry import Providers

    providers = Providers(fast_settings(tmp_path, script_provider="gemini", gemini_api_key="  "), tmp_path)
    with pytest.raises(CredentialsRejected, match="YTMAKER_GEMINI_API_KEY"):
        providers.script_writer  # noqa: B018 - building it is the check (the registry's, the only one)


def test_an_unknown_template_is_refused_when_the_project_is_created(rt):
    from ytmaker.projects import ProjectOptions, create_project

    with pytest.raises(InvalidInput, match="listicle"):
        create_project(rt, TEXT, ProjectOptions(prompt_template="poem"))
    assert create_project(rt, TEXT, ProjectOptions(prompt_template="story")).prompt_template == "story"
