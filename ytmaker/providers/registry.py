"""Choosing each stage's provider from configuration, importing it only when used.

The registry is the one place that reads the providers' settings: it checks
each API key (and registers it for masking), builds each HTTP client with its
base URL and timeout, and closes what it built.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ytmaker.config import Settings
from ytmaker.errors import CredentialsRejected
from ytmaker.logs import register_secret

if TYPE_CHECKING:
    import httpx

    from ytmaker.providers.base import ImageProvider, Publisher, ScriptWriter, SpeechProvider
    from ytmaker.providers.did import DIDClient
    from ytmaker.providers.ratelimit import RateLimiter
    from ytmaker.providers.retrying import QuickRetry

T = TypeVar("T")

#: The longest a connection may take to open, whatever a provider's read timeout.
CONNECT_TIMEOUT_S = 15.0


class Providers:
    def __init__(self, settings: Settings, data_dir: Path, *, redis: Any = None) -> None:
        self.settings = settings
        self.data_dir = data_dir
        #: Providers' state shared across workers (rate limits); None in embedded mode (one process): kept in memory.
        self.redis = redis
        self._closables: list[Any] = []  # what was opened here (HTTP clients, SDK clients), closed by close()

    def _owned(self, thing: T) -> T:
        """Remember ``thing`` to close it with the runtime."""
        self._closables.append(thing)
        return thing

    def close(self) -> None:
        """Close every HTTP connection the providers built so far hold (Runtime.close calls this)."""
        while self._closables:
            thing = self._closables.pop()
            try:
                thing.close()
            except Exception as exc:  # noqa: BLE001 - closing must not hide the runtime's own shutdown
                import structlog

                structlog.get_logger(__name__).warning("provider_close_failed", error=type(exc).__name__)

    def _key(self, name: str, *, otherwise: str = "choose an offline provider") -> str:
        """The API key in setting ``name``, registered for masking; missing -> CredentialsRejected.

        The only check of a key: the clients take it as given.
        """
        secret = getattr(self.settings, name)
        value = secret.get_secret_value().strip() if secret is not None else ""
        if not value:
            raise CredentialsRejected(f"no API key configured: set YTMAKER_{name.upper()} (or {otherwise})")
        register_secret(value)
        return value

    @staticmethod
    def _http(base_url: str, timeout_s: float) -> httpx.Client:
        import httpx

        return httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)))

    def _quick_retry(self) -> QuickRetry:
        from ytmaker.providers.retrying import QuickRetry

        return QuickRetry(attempts=self.settings.provider_quick_attempts, max_wait_s=self.settings.provider_quick_max_wait_s)

    @cached_property
    def script_writer(self) -> ScriptWriter:
        if self.settings.script_provider == "gemini":
            from ytmaker.providers.gemini import GeminiScriptWriter

            return self._owned(GeminiScriptWriter(api_key=self._key("gemini_api_key"), base_url=self.settings.gemini_base_url,
                                                  input_chars=self.settings.gemini_input_chars,
                                                  timeout_s=self.settings.gemini_timeout_s, retry=self._quick_retry()))
        if self.settings.script_provider == "openai":
            from ytmaker.providers.openai_chat import OpenAIScriptWriter

            s = self.settings
            key = s.openai_api_key.get_secret_value().strip() if s.openai_api_key is not None else ""
            register_secret(key)  # optional: local servers (Ollama, vLLM) take none
            return self._owned(OpenAIScriptWriter(client=self._owned(self._http(s.openai_base_url, s.openai_timeout_s)),
                                                  api_key=key or None, base_url=s.openai_base_url, model=s.openai_model,
                                                  stream=s.openai_stream, input_chars=s.gemini_input_chars,
                                                  timeout_s=s.openai_timeout_s, retry=self._quick_retry()))
        from ytmaker.providers.offline_writer import OfflineScriptWriter

        return OfflineScriptWriter()

    @cached_property
    def images(self) -> ImageProvider:
        if self.settings.image_provider == "stability":
            from ytmaker.providers.stability import StabilityImages

            s = self.settings
            key = self._key("stability_api_key")
            return StabilityImages(api_key=key, client=self._owned(self._http(s.stability_base_url, s.stability_timeout_s)),
                                   limiter=self._rate_limiter("stability", limit=s.stability_rate_per_10s, window_s=10.0),
                                   moderation_fallback=s.moderation_fallback, retry=self._quick_retry())
        if self.settings.image_provider == "pexels":
            from ytmaker.providers.pexels import PexelsFootage
            from ytmaker.providers.slides import SlideImages

            s = self.settings
            key = self._key("pexels_api_key")
            return PexelsFootage(api_key=key, client=self._owned(self._http(s.pexels_base_url, s.pexels_timeout_s)),
                                 cache_dir=self.data_dir / "pexels", max_download_bytes=s.pexels_max_download_mb * 2**20,
                                 limiter=self._rate_limiter("pexels", limit=s.pexels_rate_per_hour, window_s=3600.0),
                                 retry=self._quick_retry(), fallback=SlideImages())
        if self.settings.image_provider == "instant":
            from ytmaker.providers.instant import InstantImages

            return InstantImages(delay_s=self.settings.instant_image_delay_s)
        from ytmaker.providers.slides import SlideImages

        return SlideImages()

    def _rate_limiter(self, name: str, *, limit: int, window_s: float) -> RateLimiter:
        """Shared by every worker through Redis; in embedded mode (no Redis given) by this process's threads."""
        if self.redis is None:
            from ytmaker.providers.ratelimit import MemoryRateLimiter

            return MemoryRateLimiter(name=name, limit=limit, window_s=window_s)
        from ytmaker.providers.ratelimit import RedisRateLimiter

        return RedisRateLimiter(self.redis, name=name, limit=limit, window_s=window_s)

    @cached_property
    def speech(self) -> SpeechProvider:
        """The configured voice, wrapped so numbers are said as people say them and each language run gets its voice
        (the instant provider, which says nothing, is not)."""
        if self.settings.speech_provider == "instant":
            from ytmaker.providers.instant import InstantSpeech

            return InstantSpeech()
        from ytmaker.providers.mixed_speech import MixedSpeech

        return MixedSpeech(self._voice())

    def _voice(self) -> SpeechProvider:
        if self.settings.speech_provider == "google":
            from ytmaker.providers.google_tts import GoogleSpeech

            s = self.settings
            key = self._key("google_tts_api_key")
            return GoogleSpeech(api_key=key, client=self._owned(self._http(s.google_tts_base_url, s.google_tts_timeout_s)),
                                sample_rate=s.google_tts_sample_rate, retry=self._quick_retry())
        if self.settings.speech_provider == "edge":
            from ytmaker.providers.edge import EdgeSpeech

            s = self.settings
            return EdgeSpeech(rate=s.edge_rate, pitch=s.edge_pitch, timeout_s=s.edge_timeout_s, endpoint=s.edge_url or None,
                              retry=self._quick_retry())
        from ytmaker.providers.espeak import EspeakSpeech

        return EspeakSpeech()

    @cached_property
    def avatars(self) -> DIDClient | None:
        """The D-ID client, or None when avatars are off (the stage is then skipped)."""
        if self.settings.avatar_provider == "none":
            return None
        from ytmaker.providers.did import build_did

        s = self.settings
        key = self._key("did_api_key", otherwise="set YTMAKER_AVATAR_PROVIDER=none")
        client = self._http(s.did_base_url, s.did_timeout_s)
        try:
            did = build_did(s, api_key=key, client=client)
        except BaseException:
            client.close()
            raise
        self._owned(client)
        return did

    def publisher(self, target: str) -> Publisher:
        """A publisher for one upload; the caller closes it (which closes its HTTP client)."""
        if target == "youtube":
            from ytmaker.providers.youtube import build_youtube

            client = self._http(self.settings.youtube_base_url, self.settings.youtube_timeout_s)
            try:
                return build_youtube(self.settings, self.data_dir, client=client)
            except BaseException:
                client.close()
                raise
        from ytmaker.providers.folder import FolderPublisher

        return FolderPublisher(self.data_dir / "published")
