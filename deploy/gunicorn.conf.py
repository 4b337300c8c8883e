"""gunicorn for Fangkong behind nginx on the same machine (deploy/nginx/fangkong.conf proxies to `bind`).

Installed as /etc/fangkong/gunicorn.conf.py and run by deploy/systemd/fangkong-web.service:
    /opt/fangkong/venv/bin/gunicorn -c /etc/fangkong/gunicorn.conf.py fangkong.wsgi
Any setting can be overridden for one run with gunicorn's own GUNICORN_CMD_ARGS (e.g. "--workers 4").
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

# Loopback only: nginx is the only client (TLS, static files, request buffering for slow phones).
bind = "127.0.0.1:8000"

# Sync workers: each request holds one worker, nginx buffers slow uploads and downloads in front of it.
# The usual 2 x cores + 1; on a machine shared with PostgreSQL, fewer.
workers = multiprocessing.cpu_count() * 2 + 1

# The slowest requests are imports (IMPORT_MAX_UPLOAD_BYTES, 50 MB by default) and XLSX exports; nginx's
# proxy_read_timeout (deploy/nginx/fangkong.conf) is a little longer, so gunicorn's own timeout answers first.
timeout = 120
graceful_timeout = 30
keepalive = 5

# Each worker is replaced after about ten thousand requests (spread by the jitter so they do not all restart at
# once): memory that grows slowly in a long-lived process is given back. Not fewer: at a city morning's rate a
# thousand requests is 5-25 s of a worker's life, and each restart costs about a second of CPU and cold caches
# (bench/load.py saw a 6 s p99 from it).
max_requests = 10000
max_requests_jitter = 1000

# nginx on the same machine sets X-Forwarded-Proto; trust it from there only. (Django itself reads it with
# SECURE=1: SECURE_PROXY_SSL_HEADER in fangkong/settings.py.)
forwarded_allow_ips = "127.0.0.1"

# Logs to stdout/stderr: the journal (journalctl -u fangkong-web).
accesslog = "-"
errorlog = "-"
loglevel = "info"

# No query string (%(q)s, or %(r)s, which contains it): searches carry names, phone numbers and ID numbers.
# No referrer either: it is a page of this site, with its query string. The client is nginx's
# X-Forwarded-For (%(h)s is always 127.0.0.1 here). Self-report links (/r/<token>/, /o/<token>/) are
# masked by SafeLogger below: the token is the personal link.
access_log_format = '%({x-forwarded-for}i)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

SELF_REPORT_PATH = re.compile(r"^/(r|o)/[^/]+/")


class SafeLogger(Logger):
    """gunicorn's logger with the token of a self-report link replaced by "-" in the access log."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = SELF_REPORT_PATH.sub(r"/\1/-/", atoms.get("U") or "")
        return atoms


logger_class = SafeLogger


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by fangkong-web.service): the dead worker's
    counters and histograms are folded into one archive file per type (they stay counted, its files go:
    fangkong/core/metrics_files.py), its live gauges leave the sum."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from fangkong.core.metrics_files import fold_dead_process

        fold_dead_process(worker.pid, path)
