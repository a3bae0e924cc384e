"""The project's log records land in the replica's Serve log (logs/serve/replica_*.log) at
LOG_LEVEL, with the replica's name, like Serve's own lines.

Serve configures only its `ray.serve` logger. Without this, a warning such as "Redis
unavailable, sessions fall back to memory" reached the worker's stderr without a replica's
name, and INFO records not at all.
"""

from __future__ import annotations

import logging

SERVE_LOGGER = "ray.serve"
APP_PACKAGES = (
    "access",
    "cluster",
    "conversation",
    "deployments",
    "graphs",
    "models",
    "practice",
    "response_cache",
    "retrieval",
    "service",
)


class ToServeLog(logging.Handler):
    """Hands each record to the Serve logger's handlers (file, format, replica context)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(SERVE_LOGGER).handle(record)


def route_app_logs(level: str) -> None:
    """Called in each deployment's constructor; idempotent."""
    for name in APP_PACKAGES:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, ToServeLog) for handler in logger.handlers):
            logger.addHandler(ToServeLog())
        logger.setLevel(level)
        logger.propagate = False
