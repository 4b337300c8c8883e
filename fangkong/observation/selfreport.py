"""The self-report page of a person under observation: a link with an unguessable token (192+ bits),
no log-in, phone-sized. Rate limits are screening's (`allow`): every request per client address,
submissions per link. Only the masked name is shown; a closed file's link answers 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from fangkong.core.errors import FieldErrors
from fangkong.core.masking import mask_name
from fangkong.observation.files import file_by_token
from fangkong.observation.forms import ReportForm, add_field_errors
from fangkong.observation.models import HealthReport
from fangkong.observation.reports import record_self_report
from fangkong.observation.windows import window_for, window_list
from fangkong.policy.services import current_policy
from fangkong.screening.selfreport import allow, too_many


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, token: str) -> HttpResponse:
    if not allow("address", request.META.get("REMOTE_ADDR") or "-"):
        return too_many(request)
    file = file_by_token(token)
    if file is None:
        raise Http404
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not allow("link", f"obs:{file.pk}"):
            return too_many(request)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = record_self_report(file, temperature=data["temperature"], symptoms=data["symptoms"],
                                            client_id=data["client_id"], how=form.how_taken())
            except FieldErrors as exc:
                add_field_errors(form, exc.errors)
            else:
                return render(request, "observation/selfreport_done.html", {
                    "name": mask_name(file.resident.name), "report": result.report, "escalated": result.escalated})
    policy = current_policy()
    day, window = window_for(timezone.now(), policy)
    done = HealthReport.objects.filter(file=file, date=day, window_name=window).exists()
    return render(request, "observation/selfreport.html", {
        "name": mask_name(file.resident.name), "form": form, "file": file, "window": window, "done": done,
        "reports_per_day": policy.home_reports_per_day, "windows": window_list(policy),
    }, status=status)
