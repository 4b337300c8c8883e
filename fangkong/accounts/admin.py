"""Django admin for superusers: create accounts with a role and a scope.

The admin bypasses area scoping, so only superusers (is_staff + is_superuser) may use it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.models import ApiToken, User


class HandedOutPasswordForm(AdminPasswordChangeForm):
    """A password an administrator sets is handed out: its owner replaces it at the first log-in."""

    def save(self, commit: bool = True):
        self.user.must_change_password = True
        return super().save(commit=commit)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = HandedOutPasswordForm
    list_display = ("username", "first_name", "role", "area", "compound", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "area__name")
    autocomplete_fields = ("area", "compound")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ("role", "area", "compound", "facility", "phone", "must_change_password")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Role and scope"), {"fields": ("role", "area", "compound", "facility")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked")
    readonly_fields = ("key_hash", "prefix", "created_at", "last_used_at")
    list_filter = ("revoked",)


def superuser_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superuser_only
admin.site.site_header = _("Fangkong administration")
