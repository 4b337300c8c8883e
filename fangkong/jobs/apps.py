from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "fangkong.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from fangkong.core.health import register_report
        from fangkong.jobs.housekeeping import register_housekeeping
        from fangkong.jobs.monitor import queue_state, register_metrics

        register_housekeeping()
        register_report("queue", queue_state)  # /readyz tells the queue's depth and its live workers
        register_metrics()  # and /metrics, as gauges
