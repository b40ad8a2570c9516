"""Choosing each stage's provider from configuration, importing it only when used."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ytmaker.config import Settings


class Providers:
    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir

    @cached_property
    def script_writer(self):
        from ytmaker.providers.offline_writer import OfflineScriptWriter

        return OfflineScriptWriter()

    @cached_property
    def images(self):
        if self.settings.image_provider == "instant":
            from ytmaker.providers.instant import InstantImages

            return InstantImages()
        from ytmaker.providers.slides import SlideImages

        return SlideImages()

    @cached_property
    def speech(self):
        if self.settings.speech_provider == "instant":
            from ytmaker.providers.instant import InstantSpeech

            return InstantSpeech()
        from ytmaker.providers.espeak import EspeakSpeech

        return EspeakSpeech()

    def publisher(self, target: str):
        from ytmaker.providers.folder import FolderPublisher

        return FolderPublisher(self.data_dir / "published")
