from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    verbose_name = _("Contact tracing")

    def ready(self) -> None:
        from fangkong.cases.hooks import STATUS_CHANGED
        from fangkong.people.moves import RESIDENTS_MOVED
        from fangkong.tracing.investigations import case_status_changed
        from fangkong.tracing.moves import follow_moved_residents

        RESIDENTS_MOVED.register(follow_moved_residents)
        STATUS_CHANGED.register(case_status_changed)
