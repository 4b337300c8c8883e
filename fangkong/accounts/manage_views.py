"""Account management screens: list, create, edit, deactivate/reactivate, reset password, end its sessions,
unlock, reset its two-factor devices.

For commanders and community workers (the roles below theirs, inside their scope) and superusers.
Every account is reached through `access.access_account`: out of reach it answers 404, and users who
manage no accounts get 403. The domain operations and their audit entries are in `services`; new passwords are shown once, in
the response to the POST that made them, never stored in clear or put in a session.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts import importer, services, two_factor
from fangkong.accounts.access import access_account, managed_accounts
from fangkong.accounts.forms import REQUIRED, AccountFilterForm, AccountForm
from fangkong.accounts.lockouts import failed_logins, is_locked, locked_usernames
from fangkong.accounts.models import User
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.tabular import ImportFileError

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = 100


def _manager(request: HttpRequest) -> User:
    if not permissions.can_manage_accounts(request.user):
        raise PermissionDenied
    return request.user


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a password on the page must not linger in a cache
    return response


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    form = AccountFilterForm(request.GET or None, manager=manager)
    accounts = managed_accounts(manager)
    if form.is_bound:
        accounts = form.apply(accounts) if form.is_valid() else accounts.none()
    page = Paginator(accounts.order_by("-is_active", "username"), PAGE_SIZE).get_page(request.GET.get("page"))
    locked = locked_usernames({a.username for a in page.object_list})
    rows = [(a, scope_label(a)) for a in page.object_list]
    return render(request, "accounts/manage/list.html", {"form": form, "page": page, "rows": rows, "locked": locked})


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    form = AccountForm(request.POST or None, manager=manager, initial={"area": request.GET.get("area", ""),
                                                                          "role": request.GET.get("role", "")})
    if request.method == "POST":
        if form.is_valid():
            try:
                account, password = services.create_account(manager, form.to_input(), form.cleaned_data["password"])
            except FieldErrors as exc:
                form.add_field_errors(exc)
            else:
                messages.success(request, _("Account %(username)s created.") % {"username": account.username})
                if form.cleaned_data["password"]:
                    return redirect("manage:detail", pk=account.pk)
                return _no_store(_detail(request, account, new_password=password))
        return render(request, "accounts/manage/form.html", {"form": form, "required": REQUIRED}, status=400)
    return render(request, "accounts/manage/form.html", {"form": form, "required": REQUIRED})


def _detail(request: HttpRequest, account: User, *, new_password: str = "") -> HttpResponse:
    failures = failed_logins({account.username}).get(account.username, 0)
    return render(request, "accounts/manage/detail.html", {
        "account": account,
        "scope_name": scope_label(account, path=True),
        "locked": is_locked(failures),
        "failures": failures,
        "new_password": new_password,
        "two_factor": two_factor.summary(account),
    })


def scope_label(account: User, *, path: bool = False) -> str:
    """Where an account works: its compound, its area (with the areas above it, `path`) or its facility."""
    if account.compound_id:
        return f"{account.compound.community.name} › {account.compound.name}" if path else account.compound.name
    if account.area_id:
        return " › ".join([*(a.name for a in account.area.ancestors()), account.area.name]) if path else account.area.name
    if account.facility_id:
        return _("Facility #%(id)d") % {"id": account.facility_id}
    return ""


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_account(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = access_account(manager, pk)
    form = AccountForm(request.POST or None, manager=manager, account=account)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_account(manager, account, form.to_input())
            except FieldErrors as exc:
                form.add_field_errors(exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("manage:detail", pk=account.pk)
        return render(request, "accounts/manage/form.html", {"form": form, "account": account, "required": REQUIRED}, status=400)
    return render(request, "accounts/manage/form.html", {"form": form, "account": account, "required": REQUIRED})


@login_required
@require_POST
def account_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = services.set_active(manager, access_account(manager, pk), False)
    messages.success(request, _("Account %(username)s deactivated: it can no longer log in.") % {"username": account.username})
    return redirect("manage:detail", pk=account.pk)


@login_required
@require_POST
def account_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = services.set_active(manager, access_account(manager, pk), True)
    messages.success(request, _("Account %(username)s reactivated.") % {"username": account.username})
    return redirect("manage:detail", pk=account.pk)


@login_required
@require_POST
def account_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = access_account(manager, pk)
    password = services.reset_password(manager, account)
    messages.success(request, _("The password of %(username)s was reset.") % {"username": account.username})
    return _no_store(_detail(request, account, new_password=password))


@login_required
@require_POST
def account_end_sessions(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = access_account(manager, pk)
    services.end_sessions(manager, account)
    messages.success(request, _("Every session of %(username)s was ended: it must log in again on every device.")
                     % {"username": account.username})
    return redirect("manage:detail", pk=account.pk)


@login_required
@require_POST
def account_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = access_account(manager, pk)
    if services.unlock_account(manager, account):
        messages.success(request, _("Account %(username)s unlocked: it may log in again.") % {"username": account.username})
    else:
        messages.info(request, _("Account %(username)s was not locked.") % {"username": account.username})
    return redirect("manage:detail", pk=account.pk)


@login_required
@require_POST
def account_reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    manager = request.user
    account = access_account(manager, pk)
    if two_factor.reset(manager, account):
        messages.success(request, _("Two-factor log-in of %(username)s was reset: its devices and backup codes were "
                                    "removed and its sessions ended.") % {"username": account.username})
    else:
        messages.info(request, _("%(username)s had no two-factor devices.") % {"username": account.username})
    return redirect("manage:detail", pk=account.pk)


# --- Accounts in bulk ----------------------------------------------------------------------------------

class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Accounts file (XLSX or CSV)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".xlsx", ".csv"):
            raise forms.ValidationError(_("Only .xlsx and .csv files can be imported."))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s.")
                                        % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)})
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def account_import(request: HttpRequest) -> HttpResponse:
    """Upload → the counts, the rows with errors and the printable password sheet, in the one response
    to the POST (no-store): the passwords are never kept, so the sheet cannot be shown again."""
    manager = _manager(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": [(zh, key in importer.REQUIRED) for key, zh in importer.COLUMNS],
               "max_rows": importer.SCREEN_MAX_ROWS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = importer.import_accounts(manager, upload, filename=upload.name, max_rows=importer.SCREEN_MAX_ROWS)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            report = base64.b64encode(importer.error_report(result)).decode() if result.errors else ""
            return _no_store(render(request, "accounts/manage/import_result.html", {
                "result": result, "summary": result.summary(), "errors": result.errors[:SHOWN_ERRORS],
                "more_errors": max(0, len(result.errors) - SHOWN_ERRORS), "report": report, "xlsx": XLSX,
                "issued": result.issued, "filename": upload.name,
            }))
    return render(request, "accounts/manage/import.html", context, status=400 if form.errors else 200)


@login_required
def account_import_template(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return FileResponse(io.BytesIO(importer.template()), as_attachment=True, filename="账号导入模板.xlsx", content_type=XLSX)
