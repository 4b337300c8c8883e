"""What the retention purge does for medical observation before it removes old days of health reports:
it keeps each day's count per area code (`ReportDaySummary`), which survives the reports."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from fangkong.observation.models import HealthReport, ReportDaySummary


def before_purge(cutoff: dt.date, dry_run: bool) -> dict[str, int]:
    """The purge hook of the health reports (registered in ObservationConfig.ready)."""
    rows = list(HealthReport.objects.filter(date__lt=cutoff).values("date", "area_code").order_by()
                .annotate(reports=Count("id"), files=Count("file_id", distinct=True),
                          with_symptoms=Count("id", filter=Q(symptoms__gt=0))))
    if not dry_run and rows:
        ReportDaySummary.objects.filter(date__in={row["date"] for row in rows}).delete()
        ReportDaySummary.objects.bulk_create([ReportDaySummary(**row) for row in rows], batch_size=2000)
    return {"observation_report_day_summaries": len(rows)}
