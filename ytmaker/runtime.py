"""The running system's parts, built once from :class:`Settings`: database, broker, progress, keys, providers.

Plain stage functions receive a runtime as an argument (tests build their
own with :func:`build_runtime`); actors and other entry points use the
process's one, :func:`get_runtime`. The entry points that build a broker with
middleware (``ytmaker.actors``, the embedded runner) hand it over with
:func:`use_process_broker`, so every runtime of the process sends through it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import dramatiq
import redis as redis_lib
from dramatiq.brokers.redis import RedisBroker

from ytmaker.broker import build_broker
from ytmaker.config import Settings
from ytmaker.db.session import Database
from ytmaker.errors import InvalidInput
from ytmaker.graph import weights
from ytmaker.keys import Keys, MemoryKeys, RedisKeys
from ytmaker.progress import MemoryProgressStore, ProgressStore, RedisProgressStore
from ytmaker.providers.registry import Providers


@dataclass
class Runtime:
    settings: Settings
    db: Database
    broker: dramatiq.Broker
    progress: ProgressStore
    keys: Keys
    redis: redis_lib.Redis | None  # None in embedded mode

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
    def providers(self) -> Providers:
        return Providers(self.settings, self.data_dir, redis=self.redis)

    def close(self) -> None:
        if "providers" in self.__dict__:  # built: close the providers' HTTP clients
            self.providers.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, broker: dramatiq.Broker | None = None,
                  redis: redis_lib.Redis | None = None) -> Runtime:
    """Connect to the configured database and Redis; embedded mode (no Redis URL) keeps its state in this process.

    Without ``broker``: the process's broker (:func:`use_process_broker`) when it is of the
    configured kind, else a new one that only sends (no middleware).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    progress: ProgressStore
    keys: Keys
    if settings.redis_url:
        redis = redis or connect_redis(settings.redis_url)
        progress = RedisProgressStore(redis, weights=weights(), ttl_s=settings.progress_ttl_s)
        keys = RedisKeys(redis)
    else:
        redis = None
        progress, keys = MemoryProgressStore(weights=weights()), MemoryKeys()
    return Runtime(settings=settings, db=Database(settings.resolved_database_url),
                   broker=broker if broker is not None else _broker_for(settings),
                   progress=progress, keys=keys, redis=redis)


def connect_redis(url: str) -> redis_lib.Redis:
    try:
        return redis_lib.Redis.from_url(url, health_check_interval=30)
    except ValueError as exc:
        raise InvalidInput(f"YTMAKER_REDIS_URL is not a Redis URL: {exc}") from exc


def _broker_for(settings: Settings) -> dramatiq.Broker:
    process = _process_broker
    if process is not None and isinstance(process, RedisBroker) == bool(settings.redis_url):
        return process
    return build_broker(settings)


_lock = threading.Lock()
_current: Runtime | None = None
_process_broker: dramatiq.Broker | None = None


def use_process_broker(broker: dramatiq.Broker) -> None:
    """The broker the process's runtime sends through (an entry point's, with its middleware)."""
    global _process_broker
    with _lock:
        _process_broker = broker


def get_runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = build_runtime(Settings(), broker=_process_broker)
        return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime
