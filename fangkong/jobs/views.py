"""The job pages: a person's own jobs, one job with its progress bar, counts, report link and result file,
and the scheduled (system) jobs for those who see the whole city."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.jobs import progress, registry
from fangkong.jobs.access import access_job, is_owner
from fangkong.jobs.models import Job, JobStatus
from fangkong.jobs.runner import AUDIT

PER_PAGE = 30


def kind_label(name: str) -> str:
    kind = registry.KINDS.get(name)
    return str(kind.label) if kind else name


def counts_shown(job: Job) -> list[tuple[str, object]]:
    """The job's counts under their labels (a count without a label is not shown: no code in the UI)."""
    kind = registry.KINDS.get(job.kind)
    labels = kind.count_labels if kind else {}
    return [(str(labels[key]), value) for key, value in (job.result or {}).items() if key in labels]


def back_url(job: Job) -> str:
    kind = registry.KINDS.get(job.kind)
    if kind and kind.back:
        try:
            return kind.back(job)
        except NoReverseMatch:
            return ""
    if kind and kind.back_url_name:
        try:
            return reverse(kind.back_url_name)
        except NoReverseMatch:
            return ""
    return ""


def status_of(job: Job) -> dict:
    live = None if job.finished else progress.live(job.pk)
    done = live["done"] if live else job.done_count
    total = live["total"] if live else job.total_count
    percent = job.percent if job.finished or not total else min(100, int(100 * done / total))
    return {"id": job.pk, "status": job.status, "status_label": str(job.get_status_display()),
            "finished": job.finished, "done": done, "total": total, "percent": percent,
            "message": (live or {}).get("message") or job.message}


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    system = request.GET.get("system") == "1"
    if system and not permissions.can_see_system_jobs(request.user):
        raise PermissionDenied
    jobs = Job.objects.filter(user=None) if system else Job.objects.filter(user=request.user)
    page = Paginator(jobs.defer("input_data", "result_data"), PER_PAGE).get_page(request.GET.get("page"))
    rows = [(job, kind_label(job.kind)) for job in page.object_list]
    return render(request, "jobs/list.html", {
        "page": page, "rows": rows, "system": system,
        "can_see_system": permissions.can_see_system_jobs(request.user),
    })


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    if job.status == JobStatus.DONE and job.result_url and is_owner(request.user, job) and "stay" not in request.GET:
        # The job page is the waiting room: once done, its owner goes on to the result with its report.
        return redirect(job.result_url)
    return render(request, "jobs/detail.html", {
        "job": job, "label": kind_label(job.kind), "state": status_of(job), "counts": counts_shown(job),
        "owner": is_owner(request.user, job), "back_url": back_url(job),
        "has_file": bool(job.result_name) and job.status == JobStatus.DONE and bool(job.result_data),
    })


@login_required
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(status_of(access_job(request.user, job_id)))


@login_required
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    if not is_owner(request.user, job):
        raise PermissionDenied  # result files hold personal data: only the person who asked downloads them
    if job.status != JobStatus.DONE or not job.result_name or not job.result_data:
        raise Http404
    audit = (job.result or {}).get(AUDIT)
    if isinstance(audit, dict):
        # An export: the entry names what was exported (the area, its filters and rows), as the page's own
        # export did before it became a job, and the file.
        record(request.user, Action.EXPORT, None, object_type=audit.get("object_type", ""),
               object_id=audit.get("object_id", ""), object_repr=audit.get("object_repr", ""),
               area_code=audit.get("area_code") or job.area_code,
               changes={**(audit.get("changes") or {}), "file": job.result_name})
    else:
        record(request.user, Action.EXPORT, job, area_code=job.area_code, changes={"file": job.result_name})
    return FileResponse(io.BytesIO(bytes(job.result_data)), as_attachment=True, filename=job.result_name,
                        content_type=job.result_type or "application/octet-stream")
