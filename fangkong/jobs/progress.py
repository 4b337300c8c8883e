"""Live progress of a running job, through the cache: the job's work runs in one transaction (so a killed
worker leaves nothing behind), and rows written inside it are invisible to the job page until the commit.
With REDIS_URL every web process and worker shares the cache; the demo runs jobs in its own process."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

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
        cache.set(_key(self.job_id), {"done": self.done, "total": self.total, "message": self.message},
                  TIMEOUT_SECONDS)


def live(job_id: int) -> dict[str, Any] | None:
    return cache.get(_key(job_id))


def forget(job_id: int) -> None:
    cache.delete(_key(job_id))
