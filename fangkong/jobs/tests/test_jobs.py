"""Background jobs through the in-process queue (the SQLite demo's, and the tests'): the job row, the runner's
two transactions, the pages, who sees what, the schedule and the upkeep. The procrastinate queue on
PostgreSQL, with real workers, is in test_worker.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.audit.models import Action, AuditLog
from fangkong.jobs import registry, scheduler
from fangkong.jobs.housekeeping import expire_jobs
from fangkong.jobs.models import Job, JobStatus
from fangkong.jobs.progress import Progress
from fangkong.jobs.queue import submit
from fangkong.jobs.registry import JobError, JobKind, Outcome
from fangkong.jobs.runner import run_job

pytestmark = pytest.mark.django_db


def _count_audit(job: Job, progress: Progress) -> Outcome:
    """A job whose work is visible: one audit entry per run, in the job's transaction."""
    progress("half way", done=1, total=2)
    AuditLog.objects.create(action=Action.EXPORT, object_type="test.job", object_id=str(job.pk))
    if job.params.get("fail") == "user":
        raise JobError("The file has no header row.")
    if job.params.get("fail") == "bug":
        raise ZeroDivisionError
    return Outcome(counts={"written": 1, "secret_code": 7}, file_name="导出.xlsx", file_type="application/x-test",
                   file_data=b"cells")


TEST_KIND = JobKind("test-count", "Test count", _count_audit, back_url_name="jobs:list", count_labels={"written": "Written"})


@pytest.fixture(autouse=True)
def _test_kind():
    registry.register(TEST_KIND)
    yield
    registry.KINDS.pop(TEST_KIND.name, None)


def test_a_submitted_job_runs_in_process_and_keeps_its_result_but_not_its_input(city):
    job = submit("test-count", user=city.users["community"], input_name="名单.xlsx", input_data=b"rows")
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert job.result == {"written": 1, "secret_code": 7} and job.done_count == 1 and job.total_count == 2
    assert bytes(job.input_data) == b"" and bytes(job.result_data) == b"cells"
    assert job.area_code == city.users["community"].area.code and job.user == city.users["community"]
    assert job.started_at <= job.finished_at


def test_a_finished_job_run_again_counts_nothing_twice(city):
    job = submit("test-count", user=city.users["community"])
    assert run_job(job.pk) == JobStatus.DONE
    assert AuditLog.objects.filter(object_type="test.job").count() == 1


def test_a_job_killed_half_way_runs_again_from_the_start(city):
    # What a dead worker leaves: the job marked running, nothing of its work committed.
    job = Job.objects.create(kind="test-count", user=city.users["community"], status=JobStatus.RUNNING, attempts=1)
    assert run_job(job.pk) == JobStatus.DONE
    job.refresh_from_db()
    assert job.attempts == 2 and AuditLog.objects.filter(object_type="test.job").count() == 1


def test_a_job_that_keeps_killing_its_worker_is_given_up(city, settings):
    settings.JOBS_MAX_ATTEMPTS = 3
    job = Job.objects.create(kind="test-count", user=city.users["community"], status=JobStatus.RUNNING, attempts=3)
    assert run_job(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "3" in job.message and not AuditLog.objects.filter(object_type="test.job").exists()


def test_a_users_error_is_shown_and_nothing_of_the_job_is_kept(city):
    job = submit("test-count", user=city.users["community"], params={"fail": "user"}, input_data=b"rows")
    assert job.status == JobStatus.FAILED and job.message == "The file has no header row."
    assert not AuditLog.objects.filter(object_type="test.job").exists()  # rolled back with the job
    assert bytes(job.input_data) == b""


def test_a_bug_fails_the_job_with_a_plain_message_and_no_traceback(city):
    job = submit("test-count", user=city.users["community"], params={"fail": "bug"})
    assert job.status == JobStatus.FAILED
    assert "error in Fangkong" in job.message and "ZeroDivision" not in job.message


def test_an_unknown_kind_is_refused_before_anything_is_written(city):
    with pytest.raises(KeyError):
        submit("no-such-kind", user=city.users["community"])
    assert not Job.objects.exists()


def test_the_job_page_shows_labelled_counts_only_and_the_owner_downloads_the_file_audit_logged(city, login):
    owner = city.users["community"]
    job = submit("test-count", user=owner)
    page = login(owner).get(f"/jobs/{job.pk}/").content.decode()
    assert "Written" in page and "secret_code" not in page
    assert f"/jobs/{job.pk}/download/" in page and "Test count" in page
    response = login(owner).get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"cells"
    assert AuditLog.objects.filter(action=Action.EXPORT, object_type="jobs.job", object_id=str(job.pk)).count() == 1


def test_others_of_the_area_see_the_state_but_not_the_file_and_other_areas_nothing(city, login):
    job = submit("test-count", user=city.users["community"])
    street = login(city.users["street"])
    assert street.get(f"/jobs/{job.pk}/").status_code == 200
    assert f"/jobs/{job.pk}/download/" not in street.get(f"/jobs/{job.pk}/").content.decode()
    assert street.get(f"/jobs/{job.pk}/download/").status_code == 403
    for outsider in ("grid_a", "other_community", "volunteer"):
        assert login(city.users[outsider]).get(f"/jobs/{job.pk}/").status_code == 403, outsider
        assert login(city.users[outsider]).get(f"/jobs/{job.pk}/status/").status_code == 403, outsider
    assert login(city.users["grid_a"]).get("/jobs/999999/").status_code == 404


def test_the_status_answers_live_progress_while_the_job_runs(city, login):
    owner = city.users["community"]
    job = Job.objects.create(kind="test-count", user=owner, area_code=owner.area.code, status=JobStatus.RUNNING)
    Progress(job.pk)("300 rows written", done=300, total=1000)
    state = login(owner).get(f"/jobs/{job.pk}/status/").json()
    assert state["finished"] is False and state["percent"] == 30 and state["message"] == "300 rows written"
    page = login(owner).get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="job-progress"' in page and 'value="30"' in page and "jobs/progress.js" in page


def test_the_list_shows_my_jobs_and_the_scheduled_ones_only_to_the_city(city, login):
    mine = submit("test-count", user=city.users["community"])
    system = submit("test-count")
    page = login(city.users["community"]).get("/jobs/").content.decode()
    assert f"/jobs/{mine.pk}/" in page and f"/jobs/{system.pk}/" not in page
    assert login(city.users["community"]).get("/jobs/?system=1").status_code == 403
    assert login(city.users["district"]).get(f"/jobs/{system.pk}/").status_code == 403
    city_page = login(city.users["city"]).get("/jobs/?system=1").content.decode()
    assert f"/jobs/{system.pk}/" in city_page and f"/jobs/{mine.pk}/" not in city_page
    assert login(city.users["city"]).get(f"/jobs/{system.pk}/").status_code == 200


def test_the_schedule_runs_each_kind_once_per_cron_tick(city):
    every_5 = JobKind("test-every-5", "Every five", _count_audit, cron="*/5 * * * *")
    registry.register(every_5)
    try:
        at = timezone.make_aware(dt.datetime(2020, 2, 10, 9, 7))
        assert scheduler.last_tick("*/5 * * * *", at) == timezone.make_aware(dt.datetime(2020, 2, 10, 9, 5))
        on_tick = timezone.make_aware(dt.datetime(2020, 2, 10, 9, 10))
        assert scheduler.last_tick("*/5 * * * *", on_tick) == on_tick
        assert every_5 in scheduler.due_kinds(timezone.now())
        jobs = [job for job in scheduler.run_due() if job.kind == "test-every-5"]
        assert len(jobs) == 1 and jobs[0].user is None and jobs[0].status == JobStatus.DONE
        assert every_5 not in scheduler.due_kinds(timezone.now())
    finally:
        registry.KINDS.pop("test-every-5")


def test_the_upkeep_wipes_old_result_files_and_deletes_old_jobs(city, settings):
    settings.JOBS_RESULT_HOURS, settings.JOBS_KEEP_DAYS = 24, 30
    fresh = submit("test-count", user=city.users["community"])
    old = submit("test-count", user=city.users["community"])
    ancient = submit("test-count", user=city.users["community"])
    now = timezone.now()
    Job.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(hours=25))
    Job.objects.filter(pk=ancient.pk).update(created_at=now - dt.timedelta(days=31))
    outcome = expire_jobs(fresh, Progress(fresh.pk))
    assert outcome.counts["jobs_deleted"] == 1
    assert bytes(Job.objects.get(pk=fresh.pk).result_data) == b"cells"
    assert bytes(Job.objects.get(pk=old.pk).result_data) == b""
    assert not Job.objects.filter(pk=ancient.pk).exists()


def test_with_the_cache_away_a_job_still_runs_without_its_live_bar(city, monkeypatch, caplog):
    from fangkong.jobs import progress as live_progress

    class Away:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")
            return fail

    monkeypatch.setattr(live_progress, "cache", Away())
    job = submit("test-count", user=city.users["community"])
    assert job.status == JobStatus.DONE and live_progress.live(job.pk) is None
    assert "the cache is unavailable" in caplog.text


def test_the_scheduled_jobs_page_keeps_to_its_tab_across_pages(city, login):
    Job.objects.bulk_create([Job(kind="test-count", status=JobStatus.DONE) for _ in range(35)])
    page = login(city.users["city"]).get("/jobs/?system=1").content.decode()
    assert "system=1" in page[page.index('class="pager"'):] and "page=2" in page
