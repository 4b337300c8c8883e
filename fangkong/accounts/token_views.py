"""API tokens: each user lists, creates and revokes their own; the key is shown once, then only its hash is kept."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fangkong.accounts.models import ApiToken
from fangkong.audit.models import Action
from fangkong.audit.services import record


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What the token is for, e.g. the gate tablet of 青和居小区."))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("This field is required."))
        return name


def _area_code(user) -> str:
    area = user.home_area
    return area.code if area else ""


def _audit(user, token: ApiToken, changes: dict) -> None:
    # The key itself is never logged; the prefix is enough to recognise a token.
    record(user, Action.TOKEN, token, object_type="accounts.apitoken", object_repr=f"{token.name} ({token.prefix}…)",
           area_code=_area_code(user), changes=changes)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            token, new_key = ApiToken.issue(request.user, form.cleaned_data["name"])
            _audit(request.user, token, {"name": [None, token.name], "prefix": [None, token.prefix]})
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked", "-created_at")
    response = render(request, "accounts/tokens/list.html", {"form": form, "tokens": tokens, "new_key": new_key})
    if new_key:
        response["Cache-Control"] = "no-store"  # the key must not linger in a cache
    return response


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    with transaction.atomic():
        token = get_object_or_404(ApiToken.objects.select_for_update(), pk=token_id, user=request.user)
        if not token.revoked:
            token.revoked = True
            token.save(update_fields=["revoked"])
            _audit(request.user, token, {"revoked": [False, True]})
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("tokens:list")
