from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        from fangkong.accounts.models import Role
        from fangkong.core.landing import register_landing
        from fangkong.core.panels import Panel, register_panel
        from fangkong.core.partitions import PartitionedTable, register
        from fangkong.jobs.exports import register_export
        from fangkong.screening import exports
        from fangkong.screening.panels import day_list_start, household_visits
        from fangkong.screening.retention import before_purge

        register_landing(Role.GRID_WORKER, day_list_start)  # a grid worker's day starts at the day list
        register_panel("household", Panel("screening-visits", "screening/_household_visits.html", household_visits))
        # Daily tables partitioned by day on PostgreSQL; the checks before the visits they point at.
        register(PartitionedTable("screening_personcheck", "date", "retention_screening_days", before_purge))
        register(PartitionedTable("screening_visit", "date", "retention_screening_days"))
        register_export(exports.EXPORT)  # the coverage report's XLSX runs as a background job
