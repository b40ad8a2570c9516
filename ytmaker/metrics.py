"""Prometheus metrics of the workers: Dramatiq's middleware plus queue depths read from Redis.

Dramatiq's ``Prometheus`` middleware counts messages per queue and actor
(``dramatiq_messages_total``, ``dramatiq_message_errors_total``, ``..._retries_total``,
``..._rejects_total``, ``dramatiq_messages_inprogress``,
``dramatiq_message_duration_milliseconds``) in files shared by a worker
instance's processes, and a forked HTTP server exposes them. Ours serves the
same registry plus, at each scrape, what waits in Redis:

    ytmaker_queue_depth{queue}            messages waiting in the queue
    ytmaker_queue_delayed{queue}          messages waiting out a delay (retries, avatar polls)
    ytmaker_queue_dead_letters{queue}     messages that exhausted their retries (kept 7 days)

Instances on one machine that share ``YTMAKER_METRICS_PORT`` share the counters'
directory, so one of them serves them all and the others run with
``YTMAKER_METRICS_SERVE=false`` (each server process costs ~40 MB); instances
that should be scraped apart get ports of their own.
"""

from __future__ import annotations

import os
import tempfile

from ytmaker.config import Settings
from ytmaker.graph import queues

NAMESPACE = "dramatiq"


def metrics_dir(settings: Settings) -> str:
    """Where a worker instance's processes share their counters (one directory per metrics port)."""
    path = os.path.join(tempfile.gettempdir(), f"ytmaker-prometheus-{settings.metrics_port}")
    os.makedirs(path, exist_ok=True)
    return path


def prometheus_middleware(settings: Settings):
    """Dramatiq's Prometheus middleware serving on ``settings.metrics_port``, or None when metrics are off."""
    if not settings.metrics_enabled:
        return None
    # Dramatiq's module reads these when imported: set them first.
    os.environ["dramatiq_prom_host"] = settings.metrics_host
    os.environ["dramatiq_prom_port"] = str(settings.metrics_port)
    os.environ["dramatiq_prom_db"] = metrics_dir(settings)
    from dramatiq.middleware.prometheus import Prometheus

    serves = settings.metrics_serve

    class YtmakerPrometheus(Prometheus):
        @property
        def forks(self):
            # One exposition server per host is enough: instances that share a port share the counters' directory.
            return [serve_metrics] if serves else []

    return YtmakerPrometheus()


class QueueDepthCollector:
    """Reads queue, delay-queue and dead-letter sizes from Redis when Prometheus scrapes."""

    def __init__(self, redis) -> None:
        self.redis = redis

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily("ytmaker_queue_depth", "Messages waiting in the queue.", labels=["queue"])
        delayed = GaugeMetricFamily("ytmaker_queue_delayed", "Messages waiting out a delay.", labels=["queue"])
        dead = GaugeMetricFamily("ytmaker_queue_dead_letters", "Messages that exhausted their retries.", labels=["queue"])
        pipe = self.redis.pipeline(transaction=False)
        for queue in queues():
            pipe.llen(f"{NAMESPACE}:{queue}")
            pipe.llen(f"{NAMESPACE}:{queue}.DQ")
            pipe.zcard(f"{NAMESPACE}:{queue}.XQ")
        try:
            sizes = pipe.execute()
        except Exception:  # noqa: BLE001 - Redis down: the worker metrics are still worth serving
            return [depth, delayed, dead]
        for i, queue in enumerate(queues()):
            depth.add_metric([queue], sizes[3 * i])
            delayed.add_metric([queue], sizes[3 * i + 1])
            dead.add_metric([queue], sizes[3 * i + 2])
        return [depth, delayed, dead]


def registry(redis):
    """The multiprocess registry of Dramatiq's counters plus the queue depths."""
    import prometheus_client as prom
    from prometheus_client import multiprocess

    reg = prom.CollectorRegistry()
    multiprocess.MultiProcessCollector(reg)
    reg.register(QueueDepthCollector(redis))
    return reg


def serve_metrics() -> int:
    """The forked exposition process: ``GET /metrics`` (any path) on the configured port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    settings = Settings()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir(settings)
    import prometheus_client as prom
    import redis

    reg = registry(redis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            output = prom.generate_latest(reg)
            self.send_response(200)
            self.send_header("content-type", prom.CONTENT_TYPE_LATEST)
            self.end_headers()
            self.wfile.write(output)

        def log_message(self, fmt, *args):
            pass

    server = ThreadingHTTPServer((settings.metrics_host, settings.metrics_port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()
    return 0
