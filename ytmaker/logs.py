"""structlog setup: key=value lines on a terminal, JSON otherwise, with known secrets masked."""

from __future__ import annotations

import logging
import sys

import structlog

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it would appear in a log line."""
    if value and len(value) >= 6:
        _secrets.add(value)


def mask(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


def _mask_secrets(_logger, _name, event_dict):
    if _secrets:
        for key, value in event_dict.items():
            if isinstance(value, str):
                event_dict[key] = mask(value)
    return event_dict


def configure_logging(level: int = logging.INFO) -> None:
    renderer = structlog.dev.ConsoleRenderer(colors=False) if sys.stderr.isatty() else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
