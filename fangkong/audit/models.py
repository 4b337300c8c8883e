"""The audit log: every reveal of personal data and every change, with before/after values."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    REVEAL = "reveal", _("Reveal personal data")
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    POLICY = "policy", _("Policy change")
    LOGIN = "login", _("Log-in")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    TOKEN = "token", _("API token")


class AuditLog(models.Model):
    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("user"))
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # Area of the object (materialized-path code): commanders browse their own subtree only.
    area_code = models.CharField(max_length=15, blank=True, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_repr}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING
