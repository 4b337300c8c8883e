"""Live progress of a running job, through the cache: the job's work runs in one transaction (so a killed
worker leaves nothing behind), and rows written inside it are invisible to the job page until the commit.
With REDIS_URL every web process and worker shares the cache; the demo runs jobs in its own process."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 6 * 3600


def _key(job_id: int) -> str:
    return f"jobs:progress:{job_id}"


class Progress:
    """Called by a job as it goes: `progress(message, done=rows, total=rows)`."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = 0
        self.total: int | None = None
        self.message = ""

    def __call__(self, message: str = "", *, done: int | None = None, total: int | None = None) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if message:
            self.message = str(message)[:300]
        try:
            cache.set(_key(self.job_id), {"done": self.done, "total": self.total, "message": self.message},
                      TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the cache (Redis) away: the job goes on without a live bar
            logger.warning("job %s: progress not shown, the cache is unavailable (%s)", self.job_id,
                           type(exc).__name__)


def live(job_id: int) -> dict[str, Any] | None:
    try:
        return cache.get(_key(job_id))
    except Exception:  # noqa: BLE001 - the cache away: the page shows the job's last saved state
        return None


def forget(job_id: int) -> None:
    try:
        cache.delete(_key(job_id))
    except Exception:  # noqa: BLE001 - it expires by itself
        pass
