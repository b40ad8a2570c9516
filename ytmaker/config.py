"""Configuration, read from ``YTMAKER_*`` environment variables (and ``.env``) in one place.

Everything else receives a :class:`Settings` and never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ytmaker.graph import MINUTE_MS, policy_groups, stage


@dataclass(frozen=True)
class StagePolicy:
    """Retries, first backoff and time limit of one stage, as configured."""

    max_retries: int
    backoff_ms: int
    time_limit_ms: int
    max_backoff_ms: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YTMAKER_", env_file=".env", extra="ignore")

    # Where things live. No Redis URL means embedded mode: in-process broker and worker.
    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("ytmaker-data")

    # Providers per stage (the offline ones do real work without network).
    script_provider: Literal["offline", "gemini", "openai"] = "offline"
    image_provider: Literal["offline", "instant", "stability", "pexels"] = "offline"
    # One message per segment's image, spread over every assets worker thread and process, instead of a
    # loop in one thread. "auto": on for the remote provider (its latency is waiting, not work), off for
    # the local ones (drawing a slide is CPU in the worker's own process; a message per slide only adds overhead).
    image_fanout: Literal["auto", "on", "off"] = "auto"
    # The instant image provider waits this long per image: a remote provider's latency, for benchmarks.
    instant_image_delay_s: float = Field(default=0.0, ge=0)
    speech_provider: Literal["espeak", "instant", "google", "edge"] = "espeak"
    render_quality: Literal["final", "draft", "tiny"] = "final"
    # Background music: a file, or a folder to pick one from (per project); none by default.
    music: Path | None = None
    subtitles: bool = True
    # Burned-in captions (ytmaker.media.subtitles.CaptionStyle; a project's own choice overrides these): "words"
    # highlights each word as it is said (Chinese: each phrase), "sentences" shows the cues only, "off" burns none
    # (subtitles.srt/.vtt are still written while subtitles is on), "auto": words for 9:16, sentences for 16:9.
    captions: Literal["auto", "words", "sentences", "off"] = "auto"
    caption_font_size: int = Field(default=0, ge=0, le=400)  # pixels at 1080p; 0: 56 for 16:9, 64 for 9:16
    caption_color: str = Field(default="#FFFFFF", pattern=r"^#[0-9a-fA-F]{6}$")
    caption_highlight_color: str = Field(default="#FFD400", pattern=r"^#[0-9a-fA-F]{6}$")
    caption_outline_color: str = Field(default="#101010", pattern=r"^#[0-9a-fA-F]{6}$")
    caption_outline: float = Field(default=0, ge=0, le=40)  # pixels at 1080p; 0: 7 % of the font size
    caption_position: Literal["bottom", "center", "top"] = "bottom"
    # Avatar clips (when the avatars stage made them) shown picture-in-picture: which corner, cut to a circle or not.
    avatar_corner: Literal["top-right", "top-left", "bottom-right", "bottom-left"] = "top-right"
    avatar_circle: bool = False
    publisher: Literal["folder", "youtube"] = "folder"
    avatar_provider: Literal["none", "did"] = "none"
    # "instant": render and thumbnail write a tiny pre-made clip and picture without FFmpeg, so an
    # orchestration benchmark measures the stages' bookkeeping, not encoding (bench/orchestration).
    renderer: Literal["ffmpeg", "instant"] = "ffmpeg"

    # Prometheus metrics served by each worker instance (ytmaker.metrics); None: on in distributed mode.
    metrics: bool | None = None
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9191
    # This instance forks the exposition server for its port; false: it only writes counters for the one that does.
    metrics_serve: bool = True

    # Project defaults.
    language: str = ""  # "": each project's language is detected from its text (ytmaker/language.py)
    voice: str = ""
    video_format: Literal["16:9", "9:16"] = "16:9"
    llm_model: str = "gemini-2.5-flash"
    max_text_bytes: int = 200_000
    max_segments: int = 40

    # Inputs other than text (ytmaker/sources): a URL's page, a PDF or a .docx. A fetch goes only to public addresses
    # (checked after DNS and on every redirect) unless private ones are allowed, for a trusted setup or the tests.
    fetch_allow_private: bool = False
    fetch_max_bytes: int = Field(default=10_000_000, ge=1)  # a page, PDF or document, before extraction
    fetch_timeout_s: float = Field(default=20.0, gt=0)  # the whole fetch, redirects included
    fetch_max_redirects: int = Field(default=5, ge=0)

    # Retries, first backoff (ms, doubled each retry, with jitter) and time limits (ms): one
    # YTMAKER_<GROUP>_MAX_RETRIES, _BACKOFF_MS and _TIME_LIMIT_MS per policy group of the stage
    # table, its row's values the defaults (declared from the table so that they cannot drift apart).
    for _group, _policy in policy_groups().items():
        for _field in ("max_retries", "backoff_ms", "time_limit_ms"):
            __annotations__[f"{_group}_{_field}"] = int
            vars()[f"{_group}_{_field}"] = getattr(_policy, _field)
    del _group, _policy, _field
    max_backoff_ms: int = 60 * MINUTE_MS

    # Idle workers are woken by each enqueue instead of polling every dramatiq_worker_timeout (ytmaker.wakeup).
    wakeup: bool = True

    # Recovery (docs/reliability.md): a queued stage with no worker after this long is sent again.
    redrive_after_s: int = 120
    # A running stage writes a heartbeat this often; one silent for the lease is taken over.
    stage_heartbeat_s: float = 5
    stage_lease_s: float = 15
    # Every worker process tries the recovery pass this often (one per interval runs fleet-wide); 0: only periodiq's minute job.
    recovery_interval_s: float = 5
    # A worker silent this long counts as dead: its fetched, unacked messages go back on their queues.
    worker_heartbeat_timeout_s: float = 15
    progress_ttl_s: int = 7 * 24 * 3600
    # Worker threads of the embedded (in-process) worker.
    embedded_threads: int = Field(default=4, ge=1)
    # `ytmaker batch` in embedded mode: projects made at once (each renders with FFmpeg on every core)
    batch_concurrency: int = Field(default=2, ge=1)
    # schedules (ytmaker.schedules): a TOML file of [[schedule]] tables, run by `periodiq ytmaker.scheduler`
    schedules_file: Path | None = None

    # YouTube: the OAuth token is stored by `ytmaker auth youtube` (keyring, else a 0600 file).
    youtube_base_url: str = "https://www.googleapis.com"
    youtube_token_uri: str = "https://oauth2.googleapis.com/token"
    youtube_privacy: Literal["private", "unlisted", "public"] = "private"
    youtube_publish_at: str | None = None  # ISO 8601 with a time zone; needs privacy "private"
    youtube_category_id: str = "22"  # People & Blogs
    # status.containsSyntheticMedia: auto declares it when a realistic provider (Stability, D-ID, neural voices) is used
    youtube_synthetic: Literal["auto", "on", "off"] = "auto"
    # YouTube's daily quota (ytmaker.quota): videos.insert calls, and the units every other call shares
    youtube_daily_uploads: int = Field(default=100, ge=1)
    youtube_daily_units: int = Field(default=10_000, ge=1)
    youtube_chunk_size: int = 40 * 256 * 1024  # bytes, a multiple of 256 KiB
    youtube_timeout_s: float = 60.0
    youtube_attempts: int = Field(default=3, ge=1)  # within one message; then Dramatiq retries resume it

    # D-ID talking-head avatars (avatar_provider "did").
    did_api_key: SecretStr | None = None
    did_base_url: str = "https://api.d-id.com"
    did_source_url: str = ""  # the presenter's image URL
    did_script: Literal["audio", "text"] = "audio"  # narrate with our audio, or D-ID's own voice
    did_voice: str = "en-US-JennyNeural"  # voice of the text script (Microsoft provider)
    did_poll_first_s: float = 5.0
    did_poll_max_s: float = 60.0
    did_max_wait_s: float = 1800.0
    did_timeout_s: float = 60.0

    # Gemini script writer (script_provider "gemini"); the model is the project's llm_model.
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None  # None: Google's endpoint
    gemini_input_chars: int = Field(default=60_000, ge=1000)  # longer texts are cut at a sentence
    gemini_timeout_s: float = 120.0

    # Any OpenAI-compatible chat server (script_provider "openai"): OpenAI, DeepSeek, Qwen, Groq, Ollama
    # (http://localhost:11434/v1), vLLM. The key is optional (local servers need none).
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    openai_stream: bool = True  # stream the answer (a server that answers in one body is read whole)
    openai_timeout_s: float = 180.0

    # Microsoft Edge's neural voices (speech_provider "edge", no key): rate and pitch as edge-tts takes them.
    edge_rate: str = Field(default="+0%", pattern=r"^[+-]\d{1,3}%$")
    edge_pitch: str = Field(default="+0Hz", pattern=r"^[+-]\d{1,3}Hz$")
    edge_timeout_s: float = 60.0
    edge_url: str = ""  # "": Microsoft's endpoint; a ws:// or wss:// URL replaces it (a relay, the tests' fake)

    # Pexels stock videos and photos (image_provider "pexels"); clips are cached in <data_dir>/pexels by id.
    pexels_api_key: SecretStr | None = None
    pexels_base_url: str = "https://api.pexels.com"
    pexels_rate_per_hour: int = Field(default=200, ge=1)  # shared by all workers through Redis
    pexels_max_download_mb: int = Field(default=200, ge=1)
    pexels_timeout_s: float = 60.0

    # Stability AI images (image_provider "stability").
    stability_api_key: SecretStr | None = None
    stability_base_url: str = "https://api.stability.ai"
    stability_rate_per_10s: int = Field(default=150, ge=1)  # shared by all workers through Redis
    stability_timeout_s: float = 60.0
    # Moderation refused an image: True puts the offline slide in its place (with a warning on
    # the asset), False fails the stage with ContentRejected.
    moderation_fallback: bool = True

    # Google Cloud Text-to-Speech (speech_provider "google"); voice and language come per project.
    google_tts_api_key: SecretStr | None = None
    google_tts_base_url: str = "https://texttospeech.googleapis.com"
    google_tts_sample_rate: int = 24_000
    google_tts_timeout_s: float = 60.0

    # The HTTP service (`ytmaker serve`, ytmaker/service): SSE heartbeat comments, the largest request body read,
    # browser origins allowed by CORS (comma-separated; empty: CORS off), project creations per token and window.
    api_heartbeat_s: float = Field(default=15.0, gt=0)
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_max_upload_bytes: int = Field(default=200_000_000, ge=1024)  # multipart: a PDF, your own images and clips
    cors_origins: str = ""
    api_create_limit: int = Field(default=30, ge=1)
    api_create_window_s: float = Field(default=60.0, gt=0)

    # Short retries inside one provider call, before the stage's longer retries.
    provider_quick_attempts: int = Field(default=3, ge=1)
    provider_quick_max_wait_s: float = 10.0

    @property
    def embedded(self) -> bool:
        return not self.redis_url

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics if self.metrics is not None else not self.embedded

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'ytmaker.db'}"

    @property
    def fans_out_images(self) -> bool:
        return self.image_fanout == "on" or (self.image_fanout == "auto" and self.image_provider in ("stability", "pexels"))

    def policy(self, stage_name: str) -> StagePolicy:
        group = stage(stage_name).policy.group
        return StagePolicy(
            max_retries=getattr(self, f"{group}_max_retries"),
            backoff_ms=getattr(self, f"{group}_backoff_ms"),
            time_limit_ms=getattr(self, f"{group}_time_limit_ms"),
            max_backoff_ms=self.max_backoff_ms,
        )
