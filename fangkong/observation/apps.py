from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservationConfig(AppConfig):
    name = "fangkong.observation"
    label = "observation"
    verbose_name = _("Medical observation")

    def ready(self) -> None:
        from fangkong.core.partitions import PartitionedTable
        from fangkong.core.partitions import register as register_partitioned
        from fangkong.facilities.beds import ADMITTED
        from fangkong.jobs.registry import register
        from fangkong.observation import jobs
        from fangkong.observation.escalation import follow_admission
        from fangkong.observation.moves import follow_moved_residents
        from fangkong.observation.retention import before_purge
        from fangkong.people.moves import RESIDENTS_MOVED

        register(jobs.KIND)  # run every five minutes by the queue
        RESIDENTS_MOVED.register(follow_moved_residents)
        ADMITTED.register(follow_admission)
        register_partitioned(PartitionedTable("observation_healthreport", "date", "retention_observation_report_days", before_purge))
