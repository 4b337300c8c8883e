"""The job page in the browser: a community worker watches a running import's progress bar move, and when the
job finishes the page takes them to its result; the city commander reads the scheduled jobs."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.jobs.models import Job, JobStatus
from fangkong.jobs.progress import Progress
from fangkong.jobs.scheduler import run_due
from fangkong.people.models import ImportBatch
from tests.e2e.helpers import log_in, shoot


def test_the_progress_bar_follows_a_running_job_and_the_page_goes_on_to_the_result(e2e_city, phone: Page):
    page = phone
    owner = e2e_city.users["community"]
    job = Job.objects.create(kind="roster-import", user=owner, area_code=owner.area.code, status=JobStatus.RUNNING,
                             input_name="青和居名册.xlsx")
    progress = Progress(job.pk)  # the live server runs in this process: the same cache as a worker's
    progress("已写入 12000 行，3 行有错误", done=12_000, total=40_000)
    log_in(page, "community")
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("h1")).to_have_text("居民名册导入")
    expect(page.locator("#job-status")).to_have_text("运行中")
    expect(page.locator("#job-progress")).to_have_attribute("value", "30")
    shoot(page, "job-progress.png")
    progress("已写入 30000 行，3 行有错误", done=30_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "75")  # polled, without a reload
    expect(page.locator("#job-message")).to_contain_text("30000")

    batch = ImportBatch.objects.create(user=owner, filename="青和居名册.xlsx", created=39_997, error_rows=3,
                                       area_code=owner.area.code)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, result={"created": 39_997, "errors": 3},
                                         result_url=f"/import/{batch.pk}/")
    expect(page).to_have_url(re.compile(rf"/import/{batch.pk}/$"))  # done: on to the result and its report
    expect(page.locator("#count-created b")).to_have_text("39997")


def test_the_city_commander_reads_the_scheduled_jobs(e2e_city, desktop: Page):
    run_due()
    page = desktop
    log_in(page, "city")
    page.get_by_role("link", name="后台任务", exact=True).click()
    page.get_by_role("link", name="定时任务", exact=True).click()
    rows = page.locator("table.jobs tbody tr")
    expect(rows.filter(has_text="医学观察预警")).to_have_count(1)
    expect(rows.filter(has_text="查漏补缺比对")).to_contain_text("已完成")
    rows.filter(has_text="医学观察预警").get_by_role("link").click()
    expect(page.locator("#job-status")).to_have_text("已完成")
    expect(page.locator(".stats")).to_contain_text("漏报")
    shoot(page, "jobs-scheduled.png")
