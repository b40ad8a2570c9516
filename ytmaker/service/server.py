"""Running the service with uvicorn, and the rule that keeps a server without tokens on loopback."""

from __future__ import annotations

import gc
import ipaddress
import os

from ytmaker.errors import InvalidInput


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, tokens_exist: bool) -> None:
    """Refuse to listen beyond loopback while no API token exists (everyone could make videos)."""
    if not is_loopback(host) and not tokens_exist:
        raise InvalidInput(f"refusing to serve on {host} without an API token: anyone who reaches it could use it. "
                           "Create one first (`ytmaker token create NAME --admin`), or serve on 127.0.0.1")


#: how the parent tells its worker processes (``--workers``) that it listens beyond loopback (they inherit it)
_PUBLIC_ENV = "YTMAKER_SERVE_PUBLIC"


def serve(host: str, port: int, *, workers: int = 1) -> None:
    """Build the app on the process's runtime and run it until interrupted (``workers`` > 1: that many processes,
    distributed mode only: each has its own subscription; the embedded worker and its state are one process's)."""
    import uvicorn

    from ytmaker.service.app import _default_runtime, create_app
    from ytmaker.service.tokens import any_tokens

    rt = _default_runtime()
    check_host(host, tokens_exist=any_tokens(rt.db))
    public = not is_loopback(host)
    # proxy headers are trusted from loopback only (uvicorn's default): a reverse proxy on the same machine
    options = dict(host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
    if workers > 1:
        if rt.settings.embedded:
            raise InvalidInput("--workers needs distributed mode (YTMAKER_REDIS_URL): embedded mode keeps its "
                               "progress and its worker in one process")
        os.environ[_PUBLIC_ENV] = "1" if public else "0"
        uvicorn.run("ytmaker.service.server:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    app = create_app(rt, public=public)
    freeze_heap()
    uvicorn.run(app, **options)  # type: ignore[arg-type]


def worker_app():  # uvicorn's factory for --workers
    """The app of one ``--workers`` process."""
    from ytmaker.service.app import create_app

    app = create_app(public=os.environ.get(_PUBLIC_ENV) == "1")
    freeze_heap()
    return app


#: the collector's thresholds for a server: a full pass after 100 middle ones instead of 10. A full pass walks every
#: object of every held stream (up to ~150 ms with 1,000 streams, measured while requests still left cycles for it to
#: free: bench/live) and stalls their pushes; the young
#: passes stay small (a larger first threshold made each one 20-45 ms)
GC_THRESHOLDS = (700, 10, 100)


def freeze_heap() -> None:
    """Keep what start-up made (modules, the app, its routes) out of the collector's full passes: one took ~80 ms of
    the loop while 1,000 streams waited on it (bench/live)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
