"""/metrics: a request's view name (not its path) in the scrape, refused (the 404 page) from an address that is
not allowed, also through nginx, open with the bearer token; the API other apps call (jobs, gauges); the
multiprocess mode summing several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.test import Client

from fangkong.core import metrics
from fangkong.core.metrics_files import fold_dead_process


def scrape(client: Client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


@pytest.mark.django_db
def test_the_scrape_shows_a_request_by_its_view_name_never_its_path(city, login):
    person = city.residents[next(iter(city.residents))]
    client = login(city.users["city"])
    assert client.get(f"/residents/{person.pk}/?q=13800138000").status_code == 200
    text = scrape(client)
    assert 'fangkong_http_request_duration_seconds_count{method="GET",view="people:resident"}' in text
    assert 'fangkong_http_requests_total{status="2xx",view="people:resident"}' in text
    assert f"/residents/{person.pk}/" not in text and "13800138000" not in text
    client.get("/no-such-page/")
    assert 'fangkong_http_requests_total{status="4xx",view="unmatched"}' in scrape(client)


@pytest.mark.django_db
def test_refused_from_an_address_not_allowed_with_the_sites_404(client, settings):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert b"fangkong_http" not in response.content
    # Through nginx (a trusted proxy on the loopback) for a public client: X-Forwarded-For names the client.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 404
    # A wrong token proves nothing.
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    response = Client().get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_bearer_token_opens_it_from_anywhere(settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    client = Client()  # a new client: the middleware reads the settings when the handler is built
    text = scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus")
    assert "fangkong_http_requests_total" in text


@pytest.mark.django_db
def test_allowed_networks(settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.2.0/24"]
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.77").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db
def test_jobs_and_gauge_callbacks_appear_in_the_scrape(client):
    metrics.observe_job("test-kind", 1.5, ok=True)
    metrics.observe_job("test-kind", 0.2, ok=False)
    with pytest.raises(RuntimeError), metrics.time_job("test-timed"):
        raise RuntimeError("boom")
    metrics.register_gauge_callback("test_queue_depth", "Jobs waiting.", lambda: {"default": 3, "slow": 1},
                                    label="queue")
    metrics.register_gauge_callback("test_plain", "A number.", lambda: 7)
    metrics.register_gauge_callback("test_broken", "Raises.", lambda: 1 / 0)
    try:
        text = scrape(client)
    finally:
        for name in ("test_queue_depth", "test_plain", "test_broken"):
            metrics.unregister_gauge_callback(name)
    assert 'fangkong_jobs_total{kind="test-kind",outcome="ok"}' in text
    assert 'fangkong_jobs_total{kind="test-kind",outcome="failed"}' in text
    assert 'fangkong_jobs_total{kind="test-timed",outcome="failed"} 1.0' in text
    assert 'fangkong_job_duration_seconds_count{kind="test-kind"}' in text
    assert 'fangkong_test_queue_depth{queue="default"} 3.0' in text
    assert "fangkong_test_plain 7.0" in text
    assert "fangkong_test_broken" not in text  # left out, the scrape still answers
    with pytest.raises(ValueError):
        metrics.register_gauge_callback("bad name", "x", lambda: 1)


def test_multiprocess_mode_sums_the_workers(tmp_path):
    """Two processes with PROMETHEUS_MULTIPROC_DIR count requests; a third one's scrape shows both."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "fangkong.settings_demo"}
    worker = textwrap.dedent("""
        import django; django.setup()
        from fangkong.core import metrics
        metrics.observe_request("people:resident", "GET", 200, 0.01)
        metrics.observe_job("mp-kind", 2.0, ok=True)
    """)
    scraper = textwrap.dedent("""
        import django; django.setup()
        from fangkong.core import metrics
        print(metrics.exposition().decode())
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=120)
    out = subprocess.run([sys.executable, "-c", scraper], env=env, check=True, timeout=120, capture_output=True,
                         text=True).stdout
    assert 'fangkong_http_requests_total{status="2xx",view="people:resident"} 2.0' in out
    assert 'fangkong_jobs_total{kind="mp-kind",outcome="ok"} 2.0' in out


def test_a_dead_workers_files_are_folded_into_the_archive_and_the_sums_stay(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "fangkong.settings_demo"}
    worker = textwrap.dedent("""
        import os, django; django.setup()
        from fangkong.core import metrics
        metrics.observe_request("people:resident", "GET", 200, 0.2)
        print(os.getpid())
    """)
    scraper = "import django; django.setup(); from fangkong.core import metrics; print(metrics.exposition().decode())"

    def run(code: str) -> str:
        return subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120, capture_output=True,
                              text=True).stdout

    pids = [int(run(worker)) for _ in range(3)]
    before = run(scraper)
    for pid in pids:
        fold_dead_process(pid, str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_archive.db", "histogram_archive.db"]
    after = run(scraper)
    assert 'fangkong_http_requests_total{status="2xx",view="people:resident"} 3.0' in after
    assert 'fangkong_http_request_duration_seconds_bucket{le="0.25",method="GET",view="people:resident"} 3.0' in after
    assert sorted(line for line in before.splitlines() if "people:resident" in line) == \
        sorted(line for line in after.splitlines() if "people:resident" in line)
