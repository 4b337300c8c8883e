from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    verbose_name = _("Contact tracing")

    def ready(self) -> None:
        from fangkong.cases.services import on_status_changed
        from fangkong.people.moves import RESIDENTS_MOVED
        from fangkong.tracing.investigations import case_status_changed
        from fangkong.tracing.moves import follow_moved_residents

        RESIDENTS_MOVED.register(follow_moved_residents)
        on_status_changed(case_status_changed)
