from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrosscheckConfig(AppConfig):
    name = "fangkong.crosscheck"
    label = "crosscheck"
    verbose_name = _("Finding the hidden")

    def ready(self) -> None:
        from fangkong.crosscheck import jobs
        from fangkong.jobs.registry import register

        for kind in jobs.KINDS:  # the cross-check every five minutes; the evidence import
            register(kind)
