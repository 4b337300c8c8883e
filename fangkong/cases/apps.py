from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "fangkong.cases"
    verbose_name = _("Four categories")

    def ready(self) -> None:
        from fangkong.cases import exports
        from fangkong.cases.jobs import RESULTS
        from fangkong.cases.services import follow_moved_residents
        from fangkong.jobs.exports import register_export
        from fangkong.jobs.registry import register
        from fangkong.people.moves import RESIDENTS_MOVED

        register(RESULTS)  # the lab results import runs as a background job

        RESIDENTS_MOVED.register(follow_moved_residents)
        register_export(exports.EXPORT)  # the targets export runs as a background job
