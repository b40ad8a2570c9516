"""Providers that fail, refuse or hang, and an FFmpeg that hangs, seen by real workers over HTTP."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import pytest

from tests.chaos.conftest import QUICK_RECOVERY, record
from tests.fakes.gemini import FakeGemini
from tests.fakes.gemini import error as gemini_error
from tests.fakes.google_tts import FakeTextToSpeech
from tests.fakes.google_tts import error as tts_error
from tests.fakes.server import Reply
from tests.fakes.stability import FakeStability
from tests.fakes.stability import error as stability_error
from tests.helpers import SHORT_TEXT, attempts, eventually
from ytmaker.deadletters import list_dead
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

KEY = "chaos-key-0123456789"


class Flaky:
    """Mixin: a share of the answers are 503 or 429, at random (seeded), before normal service."""

    rate = 0.0

    def respond(self, request):
        with self._flaky_lock:
            self.calls += 1
            fail = self.rng.random() < self.rate
            if fail:
                self.failed += 1
                busy = self.rng.random() < 0.5
        if fail:
            return self.busy() if busy else self.down()
        return super().respond(request)

    def setup_flaky(self, rate: float, seed: int):
        self.rate, self.rng, self.calls, self.failed, self._flaky_lock = rate, random.Random(seed), 0, 0, threading.Lock()
        return self


class FlakyStability(Flaky, FakeStability):
    def busy(self):
        return stability_error(429, "rate_limit_exceeded", "too many requests", **{"Retry-After": "0"})

    def down(self):
        return stability_error(503, "service_unavailable", "try again later")


class FlakySpeech(Flaky, FakeTextToSpeech):
    def busy(self):
        return tts_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for requests per minute.")

    def down(self):
        return tts_error(503, "UNAVAILABLE", "The service is currently unavailable.")


class FlakyGemini(Flaky, FakeGemini):
    def busy(self):
        return gemini_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")

    def down(self):
        return gemini_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def http_providers(chaos, *, images=None, speech=None, script=None, **settings) -> None:
    values = dict(provider_quick_max_wait_s=1.0)
    if images:
        values.update(image_provider="stability", stability_base_url=images.url, stability_api_key=KEY)
    if speech:
        values.update(speech_provider="google", google_tts_base_url=speech.url, google_tts_api_key=KEY)
    if script:
        values.update(script_provider="gemini", gemini_base_url=script.url, gemini_api_key=KEY)
    values.update(settings)
    chaos.configure(**values, **QUICK_RECOVERY)


def run_projects(chaos, count: int) -> tuple[list[str], datetime]:
    started = datetime.now(UTC)
    ids = []
    for _ in range(count):
        project = create_project(chaos.rt, SHORT_TEXT)
        start_generation(project.id, chaos.rt)
        ids.append(project.id)
    return ids, started


def test_providers_failing_30_percent_of_calls_with_503_and_429_do_not_lose_a_project(chaos):
    # given: the script, image and speech services answer 30 % of calls with 503 or 429, at random
    with FlakyGemini(KEY).setup_flaky(0.3, 1) as gemini, FlakyStability(KEY).setup_flaky(0.3, 2) as images, \
            FlakySpeech(KEY).setup_flaky(0.3, 3) as speech:
        http_providers(chaos, images=images, speech=speech, script=gemini)
        chaos.start("all", threads=8)

        # when: six projects run with the default retry budget (3 quick attempts per call, 3 stage retries)
        ids, started = run_projects(chaos, 6)
        final = chaos.wait_all(ids, timeout_s=150)

    # then: every project completes once
    audit = chaos.audit(ids)
    calls = gemini.calls + images.calls + speech.calls
    failed = gemini.failed + images.failed + speech.failed
    record("providers-30pct-503-429", runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
           lost=audit["lost"], duplicates=audit["duplicates"], orphans=chaos.orphans(),
           recovery_s=chaos.completed_after(ids, started),
           notes=f"Gemini, Stability and Google TTS fakes over HTTP; {failed} of {calls} calls failed (503/429); "
                 "recovery column: time from start to completion")
    assert failed > 0.2 * calls
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"]


def test_a_rejected_key_fails_fast_with_no_retry_and_a_reason(chaos):
    # given: an image service that rejects the configured key (401)
    with FakeStability("another-key") as images:
        http_providers(chaos, images=images)
        chaos.start("all", threads=4)

        # when
        ids, started = run_projects(chaos, 1)
        final = chaos.wait_all(ids, timeout_s=60)[ids[0]]
        requests = len(images.generations())

    # then: one request, no retry; the project failed with a reason naming the setting; a dead letter
    took = (final.updated_at.replace(tzinfo=UTC) - started).total_seconds()
    record("provider-401-fails-fast", runs=1, passed=int(final.status == "failed" and requests == 1),
           lost=0, duplicates=0, orphans=chaos.orphans(), recovery_s=[took],
           notes=f"Stability fake answers 401; {requests} request(s) sent; recovery column: seconds to the failure; "
                 f"reason: {final.error}")
    assert final.status == "failed" and final.failed_stage == "images"
    assert "YTMAKER_STABILITY_API_KEY" in final.error and "rejected" in final.error
    assert requests == 1, "a rejected key must not be retried"
    assert attempts(chaos.rt, ids[0])["images"] == 1
    assert [letter.actor for letter in list_dead(chaos.rt.redis)] == ["generate_images"]
    assert took < 20


def test_a_hung_provider_call_is_cut_at_its_time_limit_and_retried(chaos):
    # given: an image service whose first answer never comes (held for an hour), and a 3 s call time limit
    with FakeStability(KEY) as images:
        images.fail(Reply(delay_s=3600))
        http_providers(chaos, images=images, stability_timeout_s=3)
        chaos.start("all", threads=4)

        # when
        ids, started = run_projects(chaos, 1)
        final = chaos.wait_all(ids, timeout_s=90)[ids[0]]
        requests = len(images.generations())

    # then: the call was cut and made again; the project completed once
    audit = chaos.audit(ids)
    record("provider-call-hangs", runs=1, passed=int(final.status == "completed"), lost=audit["lost"],
           duplicates=audit["duplicates"], orphans=chaos.orphans(), recovery_s=chaos.completed_after(ids, started),
           notes=f"first Stability request never answered; cut by the 3 s call timeout; {requests} requests; "
                 "recovery column: start to completion")
    assert final.status == "completed", final.error
    assert requests >= 2
    assert audit["lost"] == 0 and audit["duplicates"] == 0


def test_a_hung_ffmpeg_is_killed_at_the_render_time_limit_and_the_render_retried(chaos):
    # given: the first FFmpeg of the fleet never ends; renders have a 5 s time limit
    chaos.configure(env=dict(CHAOS_FFMPEG="hang-once"), render_time_limit_ms=5000, **QUICK_RECOVERY)
    chaos.start("all", threads=4)

    # when
    ids, started = run_projects(chaos, 1)
    chaos.wait_until(chaos.ffmpeg_running, 60, "the hung FFmpeg")
    hung = set(chaos.ffmpeg_running())
    final = chaos.wait_all(ids, timeout_s=90)[ids[0]]

    # then: the hung process is gone, the render ran again and the project completed once
    audit = chaos.audit(ids)
    eventually(lambda: not hung & set(chaos.ffmpeg_running()), timeout_s=10)  # its SIGKILL may still be landing
    still = hung & set(chaos.ffmpeg_running())
    record("ffmpeg-hangs", runs=1, passed=int(final.status == "completed" and not still), lost=audit["lost"],
           duplicates=audit["duplicates"], orphans=len(still) + chaos.orphans(),
           recovery_s=chaos.completed_after(ids, started),
           notes="first FFmpeg reads an endless source; render time limit 5 s; recovery column: start to completion")
    assert still == set(), "the hung FFmpeg outlived its time limit"
    assert final.status == "completed", final.error
    assert attempts(chaos.rt, ids[0])["render"] == 2
    assert audit["lost"] == 0 and audit["duplicates"] == 0 and audit["leftovers"] == []
