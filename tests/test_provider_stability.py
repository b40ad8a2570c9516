"""StabilityImages against a fake Stable Image Core endpoint, with its rate limit in Redis."""

from __future__ import annotations

import threading
import time
import uuid

import fakeredis
import httpx
import pytest
from PIL import Image

from tests.fakes.server import Reply
from tests.fakes.stability import FakeStability, error, moderation
from ytmaker.errors import ContentRejected, CredentialsRejected, InvalidInput, ProviderUnavailable, QuotaExceeded
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.ratelimit import MemoryRateLimiter, RedisRateLimiter
from ytmaker.providers.retrying import QuickRetry
from ytmaker.providers.stability import StabilityImages

KEY = "sk-FAKE-stability-key-0123456789"


@pytest.fixture
def fake():
    with FakeStability(KEY) as server:
        yield server


def provider(fake, *, redis=None, timeout_s=5.0, limiter=None, rate_key=None, rate_limit=150, rate_window_s=10.0,
             **kwargs) -> StabilityImages:
    """The provider on its own HTTP client; its rate limit in Redis (a fake one unless given) unless ``limiter``."""
    kwargs.setdefault("retry", QuickRetry(attempts=3, first_wait_s=0.01, max_wait_s=2))
    if limiter is None:
        limiter = RedisRateLimiter(redis or fakeredis.FakeRedis(), name=rate_key or f"test-{uuid.uuid4().hex}",
                                   limit=rate_limit, window_s=rate_window_s)
    client = httpx.Client(base_url=fake.url, timeout=timeout_s)
    return StabilityImages(api_key=kwargs.pop("api_key", KEY), client=client, limiter=limiter, **kwargs)


def image_request(index=0, ratio="16:9") -> ImageRequest:
    width, height = (320, 180) if ratio == "16:9" else (180, 320)
    return ImageRequest(index=index, description="A honeybee dancing on a golden honeycomb, macro photo",
                        caption="Honeybees talk by dancing.", topic="How bees talk", width=width, height=height,
                        aspect_ratio=ratio)


def test_an_image_is_requested_as_multipart_with_a_bearer_key_and_fitted_to_the_video(fake, tmp_path):
    out = tmp_path / "000.png"

    warning = provider(fake).generate(image_request(ratio="9:16"), out)

    assert warning is None
    [call] = fake.generations()
    assert call.headers["authorization"] == f"Bearer {KEY}"
    assert call.headers["accept"] == "image/*"
    assert call.headers["content-type"].startswith("multipart/form-data; boundary=")
    form = call.form()
    assert form["prompt"] == "A honeybee dancing on a golden honeycomb, macro photo"
    assert form["aspect_ratio"] == "9:16"
    assert form["output_format"] == "png"
    assert "text" in form["negative_prompt"]
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (180, 320)
        assert image.getpixel((90, 160)) == (200, 120, 40)  # the fake's image, not a slide


@pytest.mark.parametrize("reply", [moderation(), "filtered"], ids=["403-content-moderation", "finish-reason-filtered"])
def test_moderation_falls_back_to_the_offline_slide_with_a_warning(fake, tmp_path, reply):
    fake.fail(fake.filtered() if reply == "filtered" else reply)
    out = tmp_path / "001.png"

    warning = provider(fake).generate(image_request(index=1), out)

    assert "image 2" in warning and "offline slide" in warning
    assert len(fake.generations()) == 1  # moderation is not retried
    with Image.open(out) as image:
        assert image.size == (320, 180)
        assert image.getpixel((160, 90)) not in ((200, 120, 40), (0, 0, 0))


def test_moderation_fails_the_segment_when_fallback_is_off(fake, tmp_path):
    fake.fail(moderation())
    out = tmp_path / "000.png"

    with pytest.raises(ContentRejected, match="moderation"):
        provider(fake, moderation_fallback=False).generate(image_request(), out)

    assert not out.exists()


@pytest.mark.parametrize("reply, expected", [
    (error(401, "unauthorized", "authorization: invalid or missing"), CredentialsRejected),
    (error(403, "forbidden", "account has no access"), CredentialsRejected),
    (error(400, "bad_request", "prompt: too long"), InvalidInput),
    (error(413, "payload_too_large", "request too large"), InvalidInput),
    (error(422, "invalid_language", "English is the only supported language"), InvalidInput),
])
def test_refusals_are_permanent_and_not_retried(fake, tmp_path, reply, expected):
    fake.fail(reply)

    with pytest.raises(expected) as info:
        provider(fake).generate(image_request(), tmp_path / "x.png")

    assert len(fake.generations()) == 1
    assert KEY not in str(info.value)


def test_an_account_out_of_credits_is_a_quota_error_not_retried(fake, tmp_path):
    fake.fail(error(402, "payment_required", "lack sufficient credits to make this request"))

    with pytest.raises(QuotaExceeded, match="out of credits"):
        provider(fake).generate(image_request(), tmp_path / "x.png")
    assert len(fake.generations()) == 1


@pytest.mark.parametrize("status, expected", [(400, InvalidInput), (502, ProviderUnavailable)])
def test_a_malformed_error_body_still_maps_by_status(fake, tmp_path, status, expected):
    fake.fail(Reply(status, b'{"id": "e1", "name": ', {"Content-Type": "application/json"}))

    with pytest.raises(expected, match=str(status)):
        provider(fake, retry=QuickRetry(attempts=1)).generate(image_request(), tmp_path / "x.png")


def test_a_wrong_key_is_rejected_naming_the_setting_but_not_the_key(fake, tmp_path):
    with pytest.raises(CredentialsRejected) as info:
        provider(fake, api_key="sk-wrong-key-987654").generate(image_request(), tmp_path / "x.png")

    assert "YTMAKER_STABILITY_API_KEY" in str(info.value) and "sk-wrong-key-987654" not in str(info.value)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_in_the_call_then_transient(fake, tmp_path, status):
    fake.fail(*[error(status, "server_error", "try later")] * 3)

    with pytest.raises(ProviderUnavailable):
        provider(fake).generate(image_request(), tmp_path / "x.png")

    assert len(fake.generations()) == 3


def test_a_server_error_then_success_gives_the_image(fake, tmp_path):
    fake.fail(error(502, "bad_gateway", "upstream"))

    assert provider(fake).generate(image_request(), tmp_path / "x.png") is None
    assert len(fake.generations()) == 2


def test_a_429_locks_every_worker_out_for_the_retry_after(fake, tmp_path):
    redis = fakeredis.FakeRedis()
    key = f"test-{uuid.uuid4().hex}"
    fake.fail(error(429, "rate_limit_exceeded", "You have exceeded the rate limit", **{"Retry-After": "60"}))

    with pytest.raises(ProviderUnavailable) as info:
        provider(fake, redis=redis, rate_key=key).generate(image_request(), tmp_path / "a.png")
    assert info.value.retry_after == 60
    assert len(fake.generations()) == 1

    # Another worker, sharing Redis, does not call the API during the lockout.
    with pytest.raises(ProviderUnavailable) as info:
        provider(fake, redis=redis, rate_key=key).generate(image_request(), tmp_path / "b.png")
    assert 50 < info.value.retry_after <= 60
    assert len(fake.generations()) == 1


def test_a_short_retry_after_is_waited_out_in_the_call(fake, tmp_path):
    fake.fail(error(429, "rate_limit_exceeded", "slow down", **{"Retry-After": "0"}))

    assert provider(fake).generate(image_request(), tmp_path / "x.png") is None
    assert len(fake.generations()) == 2


def test_a_slow_answer_past_the_timeout_is_transient(fake, tmp_path):
    fake.fail(Reply(delay_s=1.0))

    with pytest.raises(ProviderUnavailable, match="timed out"):
        provider(fake, timeout_s=0.2, retry=QuickRetry(attempts=1)).generate(image_request(), tmp_path / "x.png")


def test_an_unreadable_image_is_transient(fake, tmp_path):
    fake.fail(Reply(200, b"\x89PNG garbage", {"Content-Type": "image/png", "finish-reason": "SUCCESS"}))

    with pytest.raises(ProviderUnavailable, match="cannot be read"):
        provider(fake, retry=QuickRetry(attempts=1)).generate(image_request(), tmp_path / "x.png")


def test_an_aspect_ratio_the_api_lacks_is_refused_before_any_request(fake, tmp_path):
    request = image_request()
    odd = ImageRequest(**{**request.__dict__, "aspect_ratio": "4:3"})

    with pytest.raises(InvalidInput, match="4:3"):
        provider(fake).generate(odd, tmp_path / "x.png")
    assert fake.generations() == []


def test_in_embedded_mode_a_429_locks_out_the_processs_other_requests(fake, tmp_path):
    limiter = MemoryRateLimiter(name="stability", limit=150, window_s=10.0)
    fake.fail(error(429, "rate_limit_exceeded", "You have exceeded the rate limit"))  # no Retry-After: the documented 60 s

    with pytest.raises(ProviderUnavailable) as info:
        provider(fake, limiter=limiter).generate(image_request(), tmp_path / "a.png")
    assert info.value.retry_after == 60 and "locked out for 60 s" in str(info.value)

    with pytest.raises(ProviderUnavailable) as info:  # another thread's provider, same limiter: no request sent
        provider(fake, limiter=limiter).generate(image_request(), tmp_path / "b.png")
    assert 50 < info.value.retry_after <= 60
    assert len(fake.generations()) == 1


def test_two_workers_share_one_rate_limit_through_redis(fake, tmp_path, redis_client):
    """Two providers, each with its own Redis connection and HTTP client, stay under 5 requests per 1 s together."""
    import redis

    key = f"test-{uuid.uuid4().hex}"
    def own_connection():
        return redis.Redis(connection_pool=redis.ConnectionPool(**redis_client.connection_pool.connection_kwargs))

    workers = [provider(fake, redis=own_connection(), rate_key=key,
                        rate_limit=5, rate_window_s=1.0) for _ in range(2)]
    errors = []

    def run(worker, indexes):
        for i in indexes:
            try:
                worker.generate(image_request(index=i), tmp_path / f"{i}.png")
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(workers[n % 2], range(n, 11, 3))) for n in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    arrivals = sorted(r.at for r in fake.generations())
    assert len(arrivals) == 11
    # No 0.9 s span (a margin for the hop from Redis to the server) holds more than 5 requests...
    assert max(sum(1 for b in arrivals if a <= b < a + 0.9) for a in arrivals) <= 5
    # ...and 11 requests at 5 per second need a third window.
    assert arrivals[-1] - started >= 1.9
    redis_client.delete(f"ytmaker:ratelimit:{key}", f"ytmaker:ratelimit:{key}:lockout")
