"""The registry: the one check of each API key, the clients it builds, the rate limiter by mode."""

from __future__ import annotations

import subprocess
import sys

import fakeredis
import httpx
import pytest

from tests.conftest import fast_settings
from ytmaker.errors import CredentialsRejected, InvalidInput
from ytmaker.logs import mask
from ytmaker.providers.folder import FolderPublisher
from ytmaker.providers.ratelimit import MemoryRateLimiter, RedisRateLimiter
from ytmaker.providers.registry import Providers

STABILITY_KEY = "sk-registry-stability-31415"


@pytest.mark.parametrize("settings, attribute, variable", [
    ({"image_provider": "stability"}, "images", "YTMAKER_STABILITY_API_KEY"),
    ({"speech_provider": "google", "google_tts_api_key": " "}, "speech", "YTMAKER_GOOGLE_TTS_API_KEY"),
    ({"avatar_provider": "did", "did_source_url": "https://example.org/p.jpg"}, "avatars",
     "YTMAKER_DID_API_KEY (or set YTMAKER_AVATAR_PROVIDER=none)"),
])
def test_a_missing_key_is_refused_naming_the_variable(tmp_path, settings, attribute, variable):
    providers = Providers(fast_settings(tmp_path, **settings), tmp_path)

    with pytest.raises(CredentialsRejected) as caught:
        getattr(providers, attribute)

    assert variable in str(caught.value)
    assert providers._closables == []  # no HTTP client was opened for a provider that cannot work


def test_the_key_is_registered_for_masking_and_given_to_the_client_as_is(tmp_path):
    providers = Providers(fast_settings(tmp_path, image_provider="stability", stability_api_key=f" {STABILITY_KEY}\n",
                                        stability_base_url="https://stability.test"), tmp_path)

    images = providers.images

    assert images._api_key == STABILITY_KEY
    assert STABILITY_KEY not in mask(f"echoed: {STABILITY_KEY}")
    assert isinstance(images.client, httpx.Client) and str(images.client.base_url) == "https://stability.test"
    providers.close()
    assert images.client.is_closed


def test_without_redis_the_stability_limit_is_kept_in_the_process(tmp_path):
    settings = fast_settings(tmp_path, image_provider="stability", stability_api_key=STABILITY_KEY,
                             stability_rate_per_10s=7)

    embedded = Providers(settings, tmp_path).images.limiter
    shared = Providers(settings, tmp_path, redis=fakeredis.FakeRedis()).images.limiter

    assert isinstance(embedded, MemoryRateLimiter) and (embedded.limit, embedded.window_s) == (7, 10.0)
    assert isinstance(shared, RedisRateLimiter) and (shared.limit, shared.window_ms) == (7, 10_000)


def test_d_id_without_a_presenter_image_is_refused_and_its_client_closed(tmp_path, monkeypatch):
    built: list[httpx.Client] = []
    original = Providers._http
    monkeypatch.setattr(Providers, "_http", staticmethod(lambda *a: built.append(original(*a)) or built[-1]))
    providers = Providers(fast_settings(tmp_path, avatar_provider="did", did_api_key="did-key-2718"), tmp_path)

    with pytest.raises(InvalidInput, match="YTMAKER_DID_SOURCE_URL"):
        providers.avatars  # noqa: B018 - building it is the check

    assert len(built) == 1 and built[0].is_closed and providers._closables == []


def test_an_unauthorised_youtube_publisher_closes_the_client_built_for_it(tmp_path, monkeypatch):
    built: list[httpx.Client] = []
    original = Providers._http
    monkeypatch.setattr(Providers, "_http", staticmethod(lambda *a: built.append(original(*a)) or built[-1]))
    providers = Providers(fast_settings(tmp_path), tmp_path)

    with pytest.raises(CredentialsRejected, match="ytmaker auth youtube"):
        providers.publisher("youtube")

    assert len(built) == 1 and built[0].is_closed


def test_every_publisher_can_be_closed(tmp_path):
    publisher = Providers(fast_settings(tmp_path), tmp_path).publisher("folder")

    assert isinstance(publisher, FolderPublisher)
    publisher.close()  # part of the protocol: nothing to release, and no error


def test_the_registry_does_not_import_the_runtime(tmp_path):
    """No cycle runtime <-> registry: not on import, nor when building Stability without Redis."""
    code = ("import sys; from pathlib import Path; from ytmaker.config import Settings;"
            "from ytmaker.providers.registry import Providers;"
            f"s = Settings(_env_file=None, data_dir=Path({str(tmp_path)!r}), image_provider='stability',"
            "             stability_api_key='k');"
            f"Providers(s, Path({str(tmp_path)!r})).images;"
            "print('ytmaker.runtime' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    assert result.stdout.strip() == "False"
