"""Lock-out status, read from django-axes' records: who is refused after repeated failed log-ins."""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone


def _recent_attempts(usernames: set[str]) -> QuerySet[AccessAttempt]:
    attempts = AccessAttempt.objects.filter(username__in=usernames)
    cool_off = get_cool_off()
    if cool_off is not None:  # without a cool-off, a lock-out lasts until it is cleared
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts


def failed_logins(usernames: set[str]) -> dict[str, int]:
    """Recent failed log-ins per username (the largest count over the addresses they came from)."""
    counts: dict[str, int] = {}
    for username, failures in _recent_attempts(usernames).values_list("username", "failures_since_start"):
        counts[username] = max(counts.get(username, 0), failures)
    return counts


def is_locked(failures: int) -> bool:
    return failures >= settings.AXES_FAILURE_LIMIT


def locked_usernames(usernames: set[str]) -> set[str]:
    """Those of the usernames that django-axes currently refuses (from at least one address)."""
    return {name for name, failures in failed_logins(usernames).items() if is_locked(failures)}
