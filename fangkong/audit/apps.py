from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "fangkong.audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from fangkong.audit import signals  # noqa: F401  (log-in events)
