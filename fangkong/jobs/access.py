"""Who may see a job: its owner; colleagues who may start such work themselves (can_import) and whose scope
covers the area it was started in (its status and counts, not its file); system jobs, those who watch the
whole city (core.permissions.can_see_system_jobs)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from fangkong.core import permissions
from fangkong.core.scope import ScopedUser
from fangkong.jobs.models import Job


def access_job(user: permissions.Account, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).select_related("user").first()
    if job is None:
        raise Http404
    if job.user_id == getattr(user, "pk", None):
        return job
    if job.user_id is None and permissions.can_see_system_jobs(user):
        return job
    if permissions.can_import(user) and Job.objects.restrict(user).filter(pk=job_id).exists():
        return job
    raise PermissionDenied


def is_owner(user: ScopedUser, job: Job) -> bool:
    return job.user_id is not None and job.user_id == getattr(user, "pk", None)
