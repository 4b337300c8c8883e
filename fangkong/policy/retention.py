"""The retention purge (PIPL: personal information is deleted when its purpose is served).

`purge(before, dry_run)` removes, for every daily table registered in `fangkong.core.partitions`, the
rows of the days before the cutoff: on PostgreSQL it drops whole day partitions, on SQLite it deletes.
The cutoff of a table is `before` or, without it, today minus the policy's retention for that table;
a `before` later than the policy allows is refused (change the policy first). The owning apps' hooks
run first and keep what the command centre needs (per-area daily counts) and remove what points at
the days (handled follow-up items). Everything runs in one transaction; a real run is written to the
audit log with its counts. The job queue runs it daily; `fangkong purge` runs it by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import partitions
from fangkong.policy.schema import Policy
from fangkong.policy.services import _first_city_code, current_policy


class RetentionError(Exception):
    """The purge cannot run as asked (the message says why, in the user's language)."""


def cutoffs(policy: Policy, today: dt.date, before: dt.date | None = None) -> dict[str, dt.date]:
    """The first day kept, per registered table."""
    result = {}
    for entry in partitions.REGISTRY.values():
        days = int(getattr(policy, entry.retention))
        limit = today - dt.timedelta(days=days)
        if before is not None and before > limit:
            raise RetentionError(_("The policy keeps these rows for %(days)d days: nothing from %(day)s on may be "
                                   "purged yet. Change the retention in the policy first.")
                                 % {"days": days, "day": limit.isoformat()})
        result[entry.table] = before or limit
    return result


def _audit_totals(counts: dict[str, Any], limits: dict[str, dt.date]) -> dict[str, Any]:
    return {
        "before": min(limits.values()).isoformat(),
        "rows": sum(counts[f"{table}_rows"] for table in limits),
        "days": sum(counts[f"{table}_partitions"] for table in limits),
        "summaries": sum(value for key, value in counts.items() if key.endswith("_summaries")),
        "follow_ups": sum(value for key, value in counts.items() if key.endswith("_follow_ups")),
    }


def purge(before: dt.date | None = None, *, dry_run: bool = False, today: dt.date | None = None,
          using: str = "default") -> dict[str, Any]:
    """Remove the daily rows past retention; the counts (what would go, with `dry_run`)."""
    today = today or timezone.localdate()
    limits = cutoffs(current_policy(), today, before)
    connection = connections[using]
    counts: dict[str, Any] = {"dry_run": dry_run, "today": today.isoformat()}
    try:
        with transaction.atomic(using=using):
            for table, cutoff in limits.items():
                entry = partitions.REGISTRY[table]
                counts[f"{table}_before"] = cutoff.isoformat()
                if entry.before_purge is not None:
                    counts.update(entry.before_purge(cutoff, dry_run))
                removed = partitions.purge_table(connection, table, entry.day_column, cutoff, dry_run)
                counts[f"{table}_rows"] = removed["rows"]
                counts[f"{table}_partitions"] = removed["partitions"]
            if not dry_run:
                # The audit log reads in words (audit.labels NOTES): totals here, the per-table figures are
                # in the command's JSON line and the job's counts.
                record(None, Action.DELETE, object_type="policy.retention",
                       object_repr=f"< {min(limits.values()).isoformat()}", area_code=_first_city_code(),
                       changes=_audit_totals(counts, limits))
    except partitions.PurgeRefused as exc:
        raise RetentionError(str(exc)) from exc
    return counts
