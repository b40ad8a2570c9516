"""The running system's parts, built once from :class:`Settings`: database, Redis, progress, providers.

Actors look it up with :func:`get_runtime`; plain stage functions receive it as
an argument, so tests build their own with :func:`build_runtime`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ytmaker.config import Settings
from ytmaker.db.session import Database
from ytmaker.errors import InvalidInput
from ytmaker.progress import ProgressStore


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: object
    progress: ProgressStore
    _providers: dict = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def path(self, relative: str) -> Path:
        return self.data_dir / relative

    def relative(self, path: Path) -> str:
        return str(path.resolve().relative_to(self.data_dir))

    def project_dir(self, project_id: str) -> Path:
        return self.data_dir / "projects" / project_id

    @cached_property
    def providers(self):
        from ytmaker.providers.registry import Providers

        return Providers(self.settings, self.data_dir, redis=self.redis)

    def close(self) -> None:
        if "providers" in self.__dict__:  # built: close the providers' HTTP clients
            self.providers.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, redis=None) -> Runtime:
    """Connect to the configured database and Redis (an in-process fake in embedded mode)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if redis is None:
        redis = connect_redis(settings.redis_url)
    db = Database(settings.resolved_database_url)
    return Runtime(settings=settings, db=db, redis=redis, progress=ProgressStore(redis, ttl_s=settings.progress_ttl_s))


_embedded_redis = None


def connect_redis(url: str | None):
    """A Redis client for ``url``; without one, a process-wide in-memory Redis (fakeredis)."""
    global _embedded_redis
    if url:
        import redis

        try:
            return redis.Redis.from_url(url, health_check_interval=30)
        except ValueError as exc:
            raise InvalidInput(f"YTMAKER_REDIS_URL is not a Redis URL: {exc}") from exc
    if _embedded_redis is None:
        import fakeredis

        _embedded_redis = fakeredis.FakeRedis()
    return _embedded_redis


_lock = threading.Lock()
_current: Runtime | None = None


def get_runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = build_runtime(Settings())
        return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime
