from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrosscheckConfig(AppConfig):
    name = "fangkong.crosscheck"
    label = "crosscheck"
    verbose_name = _("Finding the hidden")

    def ready(self) -> None:
        from fangkong.crosscheck import exports, jobs
        from fangkong.jobs.exports import register_export
        from fangkong.jobs.registry import register

        for kind in jobs.KINDS:  # the cross-check every five minutes; the evidence import
            register(kind)
        register_export(exports.EXPORT)  # the to-do list's XLSX runs as a background job
