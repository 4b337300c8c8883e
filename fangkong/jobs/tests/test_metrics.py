"""The jobs report to /metrics (core.metrics): each run's duration and outcome by kind; the queue's depth, its
oldest waiting job and its live workers as gauges when the procrastinate queue is in use."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from fangkong.jobs import monitor, registry
from fangkong.jobs.queue import submit
from fangkong.jobs.registry import JobError, JobKind, Outcome

pytestmark = pytest.mark.django_db


def _work(job, progress) -> Outcome:
    if job.params.get("fail"):
        raise JobError("The file has no header row.")
    return Outcome(counts={"written": 1})


KIND = JobKind("test-metrics", "Test metrics", _work, back_url_name="jobs:list", count_labels={"written": "Written"})


@pytest.fixture(autouse=True)
def _kind():
    registry.register(KIND)
    yield
    registry.KINDS.pop(KIND.name, None)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_run_is_timed_and_counted_by_kind_and_outcome(city):
    ok_before = _value("fangkong_jobs_total", kind="test-metrics", outcome="ok")
    failed_before = _value("fangkong_jobs_total", kind="test-metrics", outcome="failed")
    submit("test-metrics", user=city.users["community"])
    submit("test-metrics", user=city.users["community"], params={"fail": "user"})
    assert _value("fangkong_jobs_total", kind="test-metrics", outcome="ok") == ok_before + 1
    assert _value("fangkong_jobs_total", kind="test-metrics", outcome="failed") == failed_before + 1
    assert _value("fangkong_job_duration_seconds_count", kind="test-metrics") == ok_before + failed_before + 2
    text = Client().get("/metrics").content.decode()
    assert 'fangkong_jobs_total{kind="test-metrics",outcome="ok"}' in text


def test_the_queue_gauges_read_the_queue_state(monkeypatch):
    monkeypatch.setattr(monitor, "queue_state", lambda: {"waiting": 4, "running": 1, "oldest_waiting_s": 12.5,
                                                         "workers": 2})
    monkeypatch.setattr(monitor, "_scraped", (0.0, {}))
    text = Client().get("/metrics").content.decode()
    assert 'fangkong_jobs_queue_waiting{queue="fangkong"} 4.0' in text
    assert 'fangkong_jobs_queue_running{queue="fangkong"} 1.0' in text
    assert 'fangkong_jobs_queue_oldest_waiting_seconds{queue="fangkong"} 12.5' in text
    assert 'fangkong_jobs_workers{queue="fangkong"} 2.0' in text
    # In-process jobs (no queue): the gauges have no sample.
    monkeypatch.setattr(monitor, "queue_state", lambda: {})
    monkeypatch.setattr(monitor, "_scraped", (0.0, {}))
    assert "fangkong_jobs_queue_waiting{" not in Client().get("/metrics").content.decode()
