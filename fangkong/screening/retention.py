"""What the retention purge does for the screening before it removes old days of visits and checks.

- It keeps the day's aggregate per area code (`DaySummary`): households, visits, households screened,
  self-reports, persons reached and flagged. Summaries of a day are rewritten while its visits exist
  and survive them.
- Follow-up items are personal data too: a handled item whose source visit lies before the cutoff goes
  with its day. An open item still waiting for someone keeps its day: the purge refuses, naming how
  many, until they are taken up or dismissed (a fever nobody followed up on is not forgotten by a job).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from fangkong.areas.models import Household
from fangkong.core.partitions import PurgeRefused
from fangkong.screening.models import (
    SCREENED_OUTCOMES,
    DaySummary,
    FollowUp,
    FollowUpStatus,
    Method,
    PersonCheck,
    Visit,
)


def summarise_days(cutoff: dt.date, dry_run: bool = False) -> int:
    """Write the summaries of every day before `cutoff` that still has visits; the number of summaries."""
    visits = (Visit.objects.filter(date__lt=cutoff).values("date", "area_code").order_by()
              .annotate(visits=Count("id"),
                        screened=Count("household_id", distinct=True, filter=Q(outcome__in=SCREENED_OUTCOMES)),
                        self_reports=Count("id", filter=Q(method=Method.ONLINE, recorded_by__isnull=True))))
    checks = {(row["date"], row["area_code"]): (row["reached"], row["flagged"]) for row in
              PersonCheck.objects.filter(date__lt=cutoff).values("date", "area_code").order_by()
              .annotate(reached=Count("id", filter=Q(present=True)), flagged=Count("id", filter=Q(flags__gt=0)))}
    rows = list(visits)
    if dry_run or not rows:
        return len(rows)
    households = dict(Household.objects.filter(area_code__in={row["area_code"] for row in rows})
                      .values("area_code").annotate(n=Count("id")).order_by().values_list("area_code", "n"))
    summaries = []
    for row in rows:
        reached, flagged = checks.get((row["date"], row["area_code"]), (0, 0))
        summaries.append(DaySummary(
            date=row["date"], area_code=row["area_code"], households=households.get(row["area_code"], 0),
            visits=row["visits"], screened=row["screened"], self_reports=row["self_reports"],
            persons_reached=reached, persons_flagged=flagged))
    DaySummary.objects.filter(date__in={row["date"] for row in rows}).delete()
    DaySummary.objects.bulk_create(summaries, batch_size=2000)
    return len(summaries)


def before_purge(cutoff: dt.date, dry_run: bool) -> dict[str, int]:
    """The purge hook of the screening tables (registered in ScreeningConfig.ready)."""
    old_items = FollowUp.objects.filter(visit__date__lt=cutoff)
    still_open = old_items.filter(status=FollowUpStatus.OPEN).count()
    if still_open:
        raise PurgeRefused(_("%(n)d open follow-up items come from visits before %(day)s: take them up or dismiss "
                             "them first.") % {"n": still_open, "day": cutoff.isoformat()})
    summaries = summarise_days(cutoff, dry_run)
    handled = old_items.count()
    if not dry_run and handled:
        FollowUp.objects.filter(pk__in=list(old_items.values_list("pk", flat=True))).delete()
    return {"screening_day_summaries": summaries, "screening_follow_ups": handled}
