"""Where a form sends the user back to: the page named in `next`, when it is on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str) -> str:
    """`next` from the form (or the query) when it points into this site, else `fallback`. Django's
    check also refuses the forms browsers read as another host (`//evil`, `/\\evil`, `https:evil`)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return fallback
