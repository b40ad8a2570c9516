"""Choosing each stage's provider from configuration, importing it only when used."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ytmaker.config import Settings


class Providers:
    def __init__(self, settings: Settings, data_dir: Path, *, redis=None) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.redis = redis  # shared state of providers across workers (rate limits)
        self._closables: list = []  # what was opened here (HTTP clients, SDK clients), closed by close()

    def _owned(self, thing):
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

    def _key(self, name: str) -> str:
        """The API key in setting ``name``, registered for masking; missing -> CredentialsRejected."""
        from ytmaker.errors import CredentialsRejected
        from ytmaker.logs import register_secret

        secret = getattr(self.settings, name)
        value = secret.get_secret_value().strip() if secret is not None else ""
        if not value:
            raise CredentialsRejected(f"no API key configured: set YTMAKER_{name.upper()} (or choose an offline provider)")
        register_secret(value)
        return value

    def _quick_retry(self):
        from ytmaker.providers.retrying import QuickRetry

        return QuickRetry(attempts=self.settings.provider_quick_attempts, max_wait_s=self.settings.provider_quick_max_wait_s)

    @cached_property
    def script_writer(self):
        if self.settings.script_provider == "gemini":
            from ytmaker.providers.gemini import GeminiScriptWriter

            return self._owned(GeminiScriptWriter(api_key=self._key("gemini_api_key"), base_url=self.settings.gemini_base_url,
                                                  input_chars=self.settings.gemini_input_chars,
                                                  timeout_s=self.settings.gemini_timeout_s, retry=self._quick_retry()))
        from ytmaker.providers.offline_writer import OfflineScriptWriter

        return OfflineScriptWriter()

    @cached_property
    def images(self):
        if self.settings.image_provider == "stability":
            import httpx

            from ytmaker.providers.stability import StabilityImages
            from ytmaker.runtime import connect_redis

            s = self.settings
            return StabilityImages(api_key=self._key("stability_api_key"),
                                   client=self._owned(httpx.Client(base_url=s.stability_base_url, timeout=s.stability_timeout_s)),
                                   redis=self.redis if self.redis is not None else connect_redis(s.redis_url),
                                   rate_limit=s.stability_rate_per_10s, rate_window_s=10.0,
                                   moderation_fallback=s.moderation_fallback, retry=self._quick_retry())
        if self.settings.image_provider == "instant":
            from ytmaker.providers.instant import InstantImages

            return InstantImages(delay_s=self.settings.instant_image_delay_s)
        from ytmaker.providers.slides import SlideImages

        return SlideImages()

    @cached_property
    def speech(self):
        if self.settings.speech_provider == "google":
            import httpx

            from ytmaker.providers.google_tts import GoogleSpeech

            s = self.settings
            return GoogleSpeech(api_key=self._key("google_tts_api_key"),
                                client=self._owned(httpx.Client(base_url=s.google_tts_base_url, timeout=s.google_tts_timeout_s)),
                                sample_rate=s.google_tts_sample_rate, retry=self._quick_retry())
        if self.settings.speech_provider == "instant":
            from ytmaker.providers.instant import InstantSpeech

            return InstantSpeech()
        from ytmaker.providers.espeak import EspeakSpeech

        return EspeakSpeech()

    @cached_property
    def avatars(self):
        """The D-ID client, or None when avatars are off (the stage is then skipped)."""
        if self.settings.avatar_provider == "none":
            return None
        from ytmaker.providers.did import build_did

        return self._owned(build_did(self.settings))

    def publisher(self, target: str):
        if target == "youtube":
            from ytmaker.providers.youtube import build_youtube

            return build_youtube(self.settings, self.data_dir)
        from ytmaker.providers.folder import FolderPublisher

        return FolderPublisher(self.data_dir / "published")
