"""The household self-report page (居民自报): a link with an unguessable token, no log-in.

It counts as an online screening of the household for the day. Every request is rate-limited per
client address (so tokens cannot be guessed at speed) and submissions per link, with fixed windows
in Django's cache (the default in-process cache; production sets a shared cache so that every
worker process counts together). Names are shown masked; nothing else about the people is shown.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from fangkong.core.error_pages import too_many_requests
from fangkong.core.errors import FieldErrors
from fangkong.core.masking import mask_name
from fangkong.people.models import Resident
from fangkong.screening.forms import VisitForms
from fangkong.screening.links import link_by_token
from fangkong.screening.models import Visit
from fangkong.screening.visits import local_today, record_self_report, unreliable_checks

logger = logging.getLogger(__name__)

# (requests, seconds): per client address for every request, per link for submissions.
DEFAULT_LIMITS = {"address": (60, 600), "link": (12, 3600)}


def _limits() -> dict[str, tuple[int, int]]:
    return {**DEFAULT_LIMITS, **getattr(settings, "SELF_REPORT_RATE_LIMITS", {})}


def allow(bucket: str, key: str) -> bool:
    """Count one request in a fixed window; False once the bucket's limit is passed. With the shared cache
    (Redis) away the request is allowed and a warning logged: residents keep reporting through an outage
    of the cache, which guards against guessing tokens, not against the residents."""
    limit, window = _limits()[bucket]
    cache_key = f"fk:rate:{bucket}:{key}:{int(time.time() // window)}"
    try:
        if cache.add(cache_key, 1, window):
            return limit >= 1
        try:
            return cache.incr(cache_key) <= limit
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, window)
            return limit >= 1
    except Exception as exc:  # noqa: BLE001 - the cache server is away (redis.ConnectionError, timeouts)
        logger.warning("rate limit not counted: the cache is unavailable (%s)", type(exc).__name__)
        return True


def too_many(request: HttpRequest) -> HttpResponse:
    """The page for a client over its limit (429, try again in ten minutes); shared by every token link."""
    return too_many_requests(request, retry_after_s=600)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, token: str) -> HttpResponse:
    if not allow("address", request.META.get("REMOTE_ADDR") or "-"):
        return too_many(request)
    link = link_by_token(token)
    if link is None:
        raise Http404
    household = link.household
    residents = list(Resident.objects.filter(household=household).order_by("id"))
    forms = VisitForms(request.POST or None, residents, new_rows=0, self_report=True)
    status = 200
    if request.method == "POST":
        if not allow("link", str(link.pk)):
            return too_many(request)
        status = 400
        if forms.is_valid():
            try:
                result = record_self_report(link, forms.visit_input(method="online", outcome="reached"))
            except FieldErrors as exc:
                forms.add_errors(exc)
            else:
                return render(request, "screening/selfreport_done.html", {
                    "household": household, "visit": result.visit, "count": len(residents),
                    "unreliable": unreliable_checks(result.visit)})
    for form in forms.people:
        form.masked_name = mask_name(form.resident.name)
    today = Visit.objects.filter(household=household, date=local_today(), outcome__in=("reached", "vacant"))
    return render(request, "screening/selfreport.html", {
        "household": household, "forms": forms, "reported_today": today.order_by("-visited_at").first(),
    }, status=status)
