"""Fixtures that build real things: databases (SQLite and PostgreSQL), Redis, brokers and workers.

Redis and PostgreSQL tests skip when the server is absent, except under CI
(``CI`` set), where a missing service is a failure.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import uuid

import dramatiq
import pytest

# Tests never read the developer's configuration.
for _key in [k for k in os.environ if k.startswith("YTMAKER_")]:
    del os.environ[_key]
os.environ.setdefault("dramatiq_worker_timeout", "50")

import ytmaker.actors  # noqa: E402,F401  (declares the actors)
from ytmaker.broker import use_broker  # noqa: E402
from ytmaker.config import Settings  # noqa: E402
from ytmaker.db.migrate import upgrade  # noqa: E402
from ytmaker.runtime import build_runtime, set_runtime, use_process_broker  # noqa: E402
from ytmaker.worker import build_worker_broker  # noqa: E402

# pytest-xdist runs the tests in two processes: each flushes a Redis database of its own (gw0: 15, gw1: 14)
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


def pytest_addoption(parser):
    parser.addoption("--skip-slow", action="store_true", help="skip tests marked slow (chaos, load)")


#: tests that start fleets of workers, servers or benchmarks and time them: with two test processes (pytest-xdist),
#: each runs with the machine to itself. A fleet beside another test's renders missed its 60 s waits, so a heavy test
#: holds a lock file exclusively while every other test holds it shared (``_machine_share``).
HEAVY = ("tests/chaos/", "tests/test_bench_smoke.py", "tests/test_service_bench.py", "tests/test_outage_")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="--skip-slow") if config.getoption("--skip-slow") else None
    for item in items:
        if skip is not None and "slow" in item.keywords:
            item.add_marker(skip)
        if item.nodeid.startswith(HEAVY):
            item.add_marker(pytest.mark.xdist_group("heavy"))


@pytest.fixture(autouse=True)
def _machine_share(request):
    """Under pytest-xdist: a heavy test waits for the other process's test to end and runs alone; others run side by side."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        yield
        return
    heavy = request.node.nodeid.startswith(HEAVY)
    with open(os.path.join(tempfile.gettempdir(), f"ytmaker-tests-{run}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if heavy else fcntl.LOCK_SH)
        yield  # the lock goes with the file's closing


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if IN_CI:
        pytest.fail(message + "; CI must provide it (.ci/run starts it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return client


@pytest.fixture(scope="session")
def postgres_engine():
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", exc)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_engine):
    """A PostgreSQL URL whose tables live in a schema of their own, dropped afterwards."""
    from sqlalchemy import text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with postgres_engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ytmaker.db'}"
    return request.getfixturevalue("postgres_url")


def fast_settings(tmp_path, **overrides) -> Settings:
    """Settings for tests: a temporary data dir, millisecond backoffs, draft renders, no Prometheus counters.

    A worker broker built in the test process would boot Dramatiq's Prometheus middleware there and write its
    counters into the machine-wide ``ytmaker-prometheus-<port>`` folder it was first imported with: another
    test's, whose workers were then read with this process's counts added (tests/test_metrics.py)."""
    values = dict(
        data_dir=tmp_path / "data",
        metrics=False,
        render_quality="draft",
        script_backoff_ms=10, assets_backoff_ms=10, render_backoff_ms=10, thumbnail_backoff_ms=10, upload_backoff_ms=10,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path, database_url):
    return fast_settings(tmp_path, database_url=database_url)


def worker_broker(settings: Settings) -> dramatiq.Broker:
    """A broker with the workers' middleware, made the global and the process's one (the actors move onto it)."""
    broker = use_broker(build_worker_broker(settings))
    use_process_broker(broker)
    broker.emit_after("process_boot")
    return broker


@pytest.fixture
def rt(settings, stub_broker):
    """An embedded runtime (in-process progress and keys) on the test database and the stub broker, installed as the process's."""
    runtime = build_runtime(settings, broker=stub_broker)
    upgrade(runtime.db)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()


@pytest.fixture
def stub_broker():
    broker = worker_broker(Settings(_env_file=None))
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
def stub_worker(stub_broker):
    worker = dramatiq.Worker(stub_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


def redis_runtime(tmp_path, database_url: str, redis_client, **overrides):
    """A runtime on real Redis (its test database, flushed before and after), installed as the process's (a generator
    for fixtures: ``yield from redis_runtime(...)``)."""
    redis_client.flushdb()
    settings = fast_settings(tmp_path, database_url=database_url, redis_url=REDIS_URL, **overrides)
    runtime = build_runtime(settings, broker=worker_broker(settings))
    upgrade(runtime.db)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()
    runtime.broker.flush_all()
    runtime.broker.close()
    redis_client.flushdb()


@pytest.fixture
def redis_rt(tmp_path, database_url, redis_client):
    """A runtime on real Redis (database 15, flushed) and the test database."""
    yield from redis_runtime(tmp_path, database_url, redis_client)


@pytest.fixture
def redis_broker(redis_rt):
    """The Redis runtime's broker (with the workers' middleware)."""
    return redis_rt.broker


@pytest.fixture
def redis_worker(redis_broker):
    worker = dramatiq.Worker(redis_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def instant_rt(tmp_path, database_url):
    """An embedded runtime whose providers and renderer are instant (a project takes a moment), on the worker broker."""
    settings = fast_settings(tmp_path, database_url=database_url, image_provider="instant", speech_provider="instant",
                             renderer="instant")
    broker = worker_broker(settings)
    runtime = build_runtime(settings, broker=broker)
    upgrade(runtime.db)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()
    broker.flush_all()
    broker.close()
