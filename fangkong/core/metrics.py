"""Prometheus metrics at `/metrics` (prometheus_client), closed to the public.

What is measured:
- `fangkong_http_request_duration_seconds{view, method}`: a histogram of each request's time in Django, labelled
  with the URL resolver's view name (`people:resident`, never the path with its ids or the query string;
  `unmatched` when no route matched).
- `fangkong_http_requests_total{view, status}`: requests by view and status class (`2xx`…`5xx`).
- `fangkong_job_duration_seconds{kind}` and `fangkong_jobs_total{kind, outcome}` (outcome `ok` or `failed`):
  what the background jobs report through `observe_job` / `time_job`.
- Any gauge an app registers with `register_gauge_callback` (a queue's depth), computed at scrape time.

The API for other apps (call it from anywhere; it never raises into the caller's work):

    from fangkong.core import metrics
    metrics.observe_job("crosscheck", seconds=4.2, ok=True)
    with metrics.time_job("import-residents"):       # observes the duration, ok=False if it raises
        ...
    # in AppConfig.ready(): the queue's depth, asked at every scrape (keep fn quick: one indexed query)
    metrics.register_gauge_callback("jobs_queue_depth", "Jobs waiting, by queue.", waiting_by_queue,
                                    label="queue")   # fn returns {"default": 3, ...}; without label, a number

Who may scrape: a client address in METRICS_ALLOWED_IPS (addresses or networks, default the loopback; the
address is the one ForwardedClientMiddleware took from nginx's X-Forwarded-For, so a public request through
nginx is refused even though nginx connects from the loopback), or a request with `Authorization: Bearer
<METRICS_TOKEN>` (when the token is set). Anyone else gets the site's ordinary 404 page, as for any
unknown address. `/metrics` is answered in the middleware, before the host check and the HTTPS redirect (a
Prometheus on the same machine scrapes 127.0.0.1:8000 directly), and never touches the session or database
(unless a registered gauge does).

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set in the environment (deploy/systemd/
fangkong-web.service sets it to its RuntimeDirectory; deploy/gunicorn.conf.py folds a dead worker's files,
fangkong/core/metrics_files.py), each process writes its samples there and a scrape, answered by any one
worker, sums them all (prometheus_client's multiprocess mode). Without it the figures are those of the one
process that answers. The job worker (fangkong-worker.service) joins with the same PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from fangkong.core.logs import view_label

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
PREFIX = "fangkong_"

REQUEST_SECONDS = Histogram(
    "fangkong_http_request_duration_seconds", "Time to answer a request in Django, by view.",
    ["view", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120))
REQUESTS = Counter("fangkong_http_requests", "Requests answered, by view and status class.", ["view", "status"])
JOB_SECONDS = Histogram(
    "fangkong_job_duration_seconds", "Time a background job took, by kind.", ["kind"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400))
JOBS = Counter("fangkong_jobs", "Background jobs finished, by kind and outcome (ok, failed).", ["kind", "outcome"])


# --- the API for other apps --------------------------------------------------------------------------------------

def observe_job(kind: str, seconds: float, ok: bool) -> None:
    """One finished job: its duration and whether it succeeded. `kind` is the job's name (a handful of
    values, never an id). Never raises: a metric that cannot be written (an unwritable multiprocess
    directory) is logged, and the job goes on."""
    try:
        JOB_SECONDS.labels(kind).observe(max(0.0, seconds))
        JOBS.labels(kind, "ok" if ok else "failed").inc()
    except Exception as exc:  # noqa: BLE001 - metrics never fail the work they measure
        logger.warning("metrics: job %s not recorded (%s)", kind, type(exc).__name__)


@contextmanager
def time_job(kind: str) -> Iterator[None]:
    """`with time_job("crosscheck"): ...` observes the duration, and ok=False when the block raises."""
    start = time.perf_counter()
    ok = False
    try:
        yield
        ok = True
    finally:
        observe_job(kind, time.perf_counter() - start, ok)


@dataclass(frozen=True)
class GaugeCallback:
    name: str
    help: str
    fn: Callable[[], float | Mapping[str, float]]
    label: str | None


_gauges: dict[str, GaugeCallback] = {}
NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def register_gauge_callback(name: str, help: str, fn: Callable[[], float | Mapping[str, float]],
                            label: str | None = None) -> None:
    """A gauge computed at scrape time by `fn` (a queue's depth): `fn()` returns a number, or, with `label`,
    a mapping of that label's values to numbers. The name gets the `fangkong_` prefix if it lacks it.
    Registering a name again replaces its callback (ready() may run twice in tests). A callback that raises is
    logged and left out of that scrape; it never fails the scrape."""
    if not NAME.match(name) or (label is not None and not NAME.match(label)):
        raise ValueError(f"not a Prometheus metric or label name: {name!r} / {label!r}")
    full = name if name.startswith(PREFIX) else PREFIX + name
    _gauges[full] = GaugeCallback(full, help, fn, label)


def unregister_gauge_callback(name: str) -> None:
    _gauges.pop(name if name.startswith(PREFIX) else PREFIX + name, None)


class GaugeCallbacks(Collector):
    """Collects the registered gauge callbacks (in the scraping process, so multiprocess mode needs no
    files for them)."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        for gauge in list(_gauges.values()):
            try:
                value = gauge.fn()
                family = GaugeMetricFamily(gauge.name, gauge.help, labels=[gauge.label] if gauge.label else None)
                if gauge.label:
                    assert isinstance(value, Mapping)
                    for label_value, number in value.items():
                        family.add_metric([str(label_value)], float(number))
                else:
                    assert not isinstance(value, Mapping)
                    family.add_metric([], float(value))
            except Exception as exc:  # noqa: BLE001 - one bad gauge must not fail the scrape
                logger.warning("metrics: the gauge %s failed (%s)", gauge.name, type(exc).__name__)
                continue
            yield family


_callbacks = GaugeCallbacks()
REGISTRY.register(_callbacks)


# --- the request side ---------------------------------------------------------------------------------------------

def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(view, method).observe(seconds)
    REQUESTS.labels(view, f"{status // 100}xx").inc()


def exposition() -> bytes:
    """The text a scrape reads: this process's metrics, or every process's in multiprocess mode."""
    if settings.METRICS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.METRICS_MULTIPROC_DIR)
        registry.register(_callbacks)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def allowed_networks(entries: list[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


class MetricsMiddleware:
    """Times every request by view (cheap: two clock reads and two labelled updates) and answers `/metrics`
    to the allowed clients. Stands right after ForwardedClientMiddleware, which sets the client's address."""

    METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = allowed_networks(settings.METRICS_ALLOWED_IPS)
        self.token = settings.METRICS_TOKEN.encode()

    def permitted(self, request: HttpRequest) -> bool:
        if self.token:
            header = request.META.get("HTTP_AUTHORIZATION", "")
            if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), self.token):
                return True
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH and request.method in ("GET", "HEAD") and self.permitted(request):
            response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
            response["Cache-Control"] = "no-store"
            return response
        # Anything else, a refused scrape included (the site's 404 page, as for any unknown address).
        start = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in self.METHODS else "other"
        observe_request(view_label(request), method or "other", response.status_code, time.perf_counter() - start)
        return response
