"""The Celery application of batch jobs: broker settings for at-least-once delivery over Redis.

* ``task_acks_late``: a message is acknowledged after the file's outcome is written, so a worker that dies
  mid-file leaves it unacknowledged in Redis (``unacked``), and it is delivered again once the visibility
  timeout has passed.
* ``task_reject_on_worker_lost``: with the prefork pool, a child killed mid-file puts its message back at once.
* ``worker_prefetch_multiplier = 1``: a worker holds no more files than it runs.
* ``visibility_timeout``: must exceed the longest file (upload plus analysis) and every retry delay;
  ``unacked_restore_interval`` is how often a worker looks for messages past it.
"""

from __future__ import annotations

import os
from typing import Any

from laughter._exceptions import MissingDependencyError

__all__ = [
    "DEFAULT_BROKER_URL",
    "DEFAULT_QUEUE",
    "DEFAULT_VISIBILITY_TIMEOUT_S",
    "TASK_NAME",
    "broker_url",
    "make_app",
]

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "laughter.batch"
DEFAULT_VISIBILITY_TIMEOUT_S = 7200.0
TASK_NAME = "laughter.batch.analyze_file"
BROKER_ENV = "LAUGHTER_BROKER_URL"
INSTALL_HINT = "batch jobs need Celery and Redis: pip install 'laughter-client[batch]'"


def broker_url(flag: str | None = None) -> str:
    """``--broker``, else ``LAUGHTER_BROKER_URL``, else a Redis on this host."""
    return flag or os.environ.get(BROKER_ENV) or DEFAULT_BROKER_URL


def make_app(url: str, *, visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S) -> Any:
    """A Celery application on the Redis broker at ``url`` (no result backend: outcomes go to the job)."""
    try:
        import celery
    except ImportError:
        raise MissingDependencyError(INSTALL_HINT) from None
    app = celery.Celery("laughter", broker=url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_ignore_result=True,
        task_default_queue=DEFAULT_QUEUE,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": max(1.0, min(10.0, visibility_timeout_s / 4)),
            "unacked_restore_throttle": 1,
        },
    )
    return app
