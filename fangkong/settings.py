"""Settings come from the environment, with safe defaults for the demo (see README)."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The demo and the tests (FANGKONG_DEMO=1: set by `make demo` and the benchmarks; fangkong.settings_demo sets it
# for pytest and mypy) start with the defaults below: the published key, localhost, DEBUG if asked for. Anything
# else is a deployment and must bring its own key and host names (see unsafe_settings).
DEMO = env_bool("FANGKONG_DEMO", False)
DEMO_SECRET_KEY = "demo-only-insecure-key-set-SECRET_KEY-in-production"  # published in git: never a real key

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY if DEMO else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEMO else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def unsafe_settings(secret_key: str, allowed_hosts: list[str], debug: bool) -> list[str]:
    """What would make a deployment unsafe: a key anyone can read (sessions, password-reset and signed
    links could be forged), no host names (Host-header attacks), DEBUG (code, settings and personal data
    on error pages)."""
    problems = []
    if not secret_key:
        problems.append("SECRET_KEY is not set. Generate one: python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(50))'")
    elif secret_key == DEMO_SECRET_KEY or secret_key.startswith("django-insecure-"):
        problems.append("SECRET_KEY is the published demo key (or Django's insecure one): anyone could forge "
                        "sessions and signed links. Generate a new one.")
    elif len(secret_key) < 50 or len(set(secret_key)) < 5:
        problems.append("SECRET_KEY is too short or too simple: at least 50 random characters.")
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS is empty: set the host names the site is served under, comma-separated "
                        "(e.g. ALLOWED_HOSTS=fangkong.example.gov.cn).")
    if debug:
        problems.append("DEBUG is on: error pages would show code, settings and personal data. Unset DEBUG.")
    return problems


if not DEMO and (_problems := unsafe_settings(SECRET_KEY, ALLOWED_HOSTS, DEBUG)):
    # Raised while the settings load, so gunicorn's workers, `fangkong` and manage.py all stop here
    # (gunicorn runs no system checks).
    raise ImproperlyConfigured(
        "Fangkong refuses to start with unsafe settings:\n" + "".join(f"  - {p}\n" for p in _problems)
        + "For the demo and the tests on your own machine, set FANGKONG_DEMO=1 (as `make demo` does).")

# Behind TLS terminated at nginx (README, deployment): SECURE=1 makes the cookies HTTPS-only, redirects plain
# HTTP to HTTPS and sends HSTS (a year by default, over the host's subdomains too). It trusts the scheme
# nginx reports in X-Forwarded-Proto, which nginx must set on every request (it then overwrites whatever a
# client sent). SECURE_COOKIES=1 is the switch's older name.
SECURE = env_bool("SECURE", env_bool("SECURE_COOKIES", False))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
# Preloading is a decision for the owner of the registrable domain (the preload list takes only the apex,
# e.g. example.gov.cn, with all its subdomains), not for one application on it: check --deploy's W021 is
# silenced and no `preload` is sent.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",  # two-factor log-in (accounts.two_factor): authenticator apps (TOTP) and backup codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "ninja",  # the API docs' Swagger UI from our own static files, not a CDN (the Content-Security-Policy)
    "fangkong.core",
    "fangkong.accounts",
    "fangkong.audit",
    "fangkong.jobs",
    "fangkong.policy",
    "fangkong.areas",
    "fangkong.people",
    "fangkong.screening",
    "fangkong.facilities",
    "fangkong.cases",
    "fangkong.observation",
    "fangkong.crosscheck",
    "fangkong.tracing",
    "fangkong.demo",
]

# The reverse proxies whose X-Forwarded-For names the client (nginx on the same machine: the loopback).
TRUSTED_PROXIES = [a.strip() for a in os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if a.strip()]

MIDDLEWARE = [
    "fangkong.core.health.HealthMiddleware",  # /healthz and /readyz, before host checks, sessions and log-in
    "fangkong.core.middleware.ForwardedClientMiddleware",  # the client's address from the trusted proxy's header
    "fangkong.core.metrics.MetricsMiddleware",  # request times by view; /metrics for METRICS_ALLOWED_IPS / the token
    "fangkong.core.logs.RequestLogMiddleware",  # one structured line per request, without personal data
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fangkong.core.middleware.LanguageMiddleware",  # the user's choice or LANGUAGE_CODE, not Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # user.is_verified(): this session passed the second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fangkong.core.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "fangkong.accounts.middleware.SessionLimitMiddleware",  # idle timeout, lifetime, log-out everywhere
    "fangkong.audit.middleware.RequestContextMiddleware",
    "fangkong.accounts.middleware.TwoFactorMiddleware",  # the code (or enrolment) before any other page
    "fangkong.accounts.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
    "fangkong.core.dbrouter.ReplicaPinMiddleware",  # a user who changed data reads from the primary for a while
    "fangkong.core.error_pages.DatabaseUnavailableMiddleware",  # database unreachable: 503, not 500
]

# The cache holds rate-limit counters (self-report links): with several worker processes or machines
# they must share one, so production sets REDIS_URL (e.g. redis://127.0.0.1:6379/0). The demo keeps
# Django's in-process cache.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "fangkong")}}

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{PROJECT_DIR / 'fangkong.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A kept connection is checked before its first use in each request, so a restart of PostgreSQL
        # costs no request once it is back (during the restart: the 503 page, see core.error_pages).
        conn_health_checks=True,
    )
}
# Through pgbouncer in transaction mode (README, scaling out): a session's state does not outlive a
# transaction there, so no server-side cursors (Django's .iterator() uses them) and no prepared statements.
# The advisory lock the cross-check takes is transaction-scoped, which pgbouncer keeps. The job workers
# connect to PostgreSQL directly (procrastinate LISTENs for new jobs, a session feature).
DB_PGBOUNCER = env_bool("DB_PGBOUNCER", False)
if DB_PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer instead of failing at once; the demo serves a few users at a time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Background jobs (fangkong/jobs, DESIGN "Background jobs"): on PostgreSQL a procrastinate queue in the same
# database, run by `fangkong jobs-worker` (deploy/fangkong-worker.service); on SQLite (the demo) jobs run in the
# process that starts them and the schedule runs in the demo server's thread. Same code either way.
ON_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "procrastinate" if ON_POSTGRES else "inline")
if JOBS_BACKEND not in ("procrastinate", "inline"):
    raise ImproperlyConfigured(f"JOBS_BACKEND must be procrastinate or inline, got {JOBS_BACKEND!r}")
if JOBS_BACKEND == "procrastinate" and not ON_POSTGRES:
    raise ImproperlyConfigured("JOBS_BACKEND=procrastinate needs PostgreSQL (DATABASE_URL=postgres://...).")
if ON_POSTGRES:
    # Last: Fangkong's apps register their job kinds in ready() before procrastinate reads the schedule.
    INSTALLED_APPS.append("procrastinate.contrib.django")
PROCRASTINATE_ON_APP_READY = "fangkong.jobs.tasks.on_app_ready"  # registers the tasks and the schedule
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = ""
JOBS_MAX_ATTEMPTS = int(os.environ.get("JOBS_MAX_ATTEMPTS", "3"))  # a job that kills its worker stops here
JOBS_STALLED_SECONDS = int(os.environ.get("JOBS_STALLED_SECONDS", "60"))  # a silent worker's jobs go back
JOBS_RESULT_HOURS = int(os.environ.get("JOBS_RESULT_HOURS", "24"))  # result files (personal data) are wiped
JOBS_KEEP_DAYS = int(os.environ.get("JOBS_KEEP_DAYS", "30"))  # job rows (the history on the jobs pages)

# A streaming read replica of the PostgreSQL primary (README, deployment; scripts/ensure-replica.sh): the
# command centre's boards, reports and exports read from it (core.dbrouter), everything else from the
# primary. A user who just changed data reads from the primary for REPLICA_PIN_SECONDS; a replica that is
# down or more than REPLICA_MAX_LAG_SECONDS behind is not used. Unset: one database, as in the demo.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "5"))
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "30"))
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")), conn_health_checks=True)
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that does not answer costs a board at most this long before it reads from the primary.
        DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = 2
    # In the tests the replica reads the primary's test database (it exists there by replication).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["fangkong.core.dbrouter.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "areas:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Lock-out: 5 failed log-ins for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Failed log-ins are forgiven only when the log-in is complete: after the password for an account without
# two-factor, after the code for one with it (accounts.two_factor), so that logging in again with the password
# does not wipe the count of wrong codes.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# Security headers. Referrer: a page's address (with its ids) goes to no other site. Content-Security-Policy
# (django-csp): scripts, styles, images and fetches from this site only — no inline <script>, no onclick=,
# no style attributes (fangkong/static/fangkong.js, the apps' static CSS; core/tests/test_headers.py keeps
# the templates so); no frames, no plugins, forms post here only. Permissions-Policy: core.middleware.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the Swagger UI's icons are data: URLs in its stylesheet
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

SESSION_COOKIE_HTTPONLY = True
# How long a browser session lasts (core.permissions.session_limits; API tokens are not sessions). The roles
# of shared devices — grid and community workers, volunteers, gate guards, facility staff — end after 30
# minutes without a request (a phone put down or handed on; a worker on a round posts a visit every few
# minutes) and 12 hours after the log-in (one shift: the next shift on the same phone logs in as itself).
# Commanders and superusers work at their own desk, reading dashboards through long meetings: 2 hours idle,
# 24 hours in all.
SESSION_WORKER_IDLE_MINUTES = int(os.environ.get("SESSION_WORKER_IDLE_MINUTES", "30"))
SESSION_WORKER_MAX_HOURS = int(os.environ.get("SESSION_WORKER_MAX_HOURS", "12"))
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "24"))
# The cookie (and the stored session) outlive no session: the longest lifetime above, not Django's two weeks.
SESSION_COOKIE_AGE = max(SESSION_WORKER_MAX_HOURS, SESSION_MAX_HOURS) * 3600

# Two-factor log-in (django-otp; accounts.two_factor, README "Two-factor log-in"): a code from an authenticator
# app (TOTP) after the password, or one of ten single-use backup codes. Optional for everyone; required, when
# OTP_REQUIRED_FOR_WIDE_ROLES is on, for the accounts that see a whole district or more (city and district
# commanders, superusers: core.permissions.requires_two_factor) — without a device they are sent to enrol
# right after the password and can do nothing else first. On by default in a deployment; off in the demo and
# the tests (FANGKONG_DEMO=1), whose commanders log in with the published password alone.
OTP_REQUIRED_FOR_WIDE_ROLES = env_bool("OTP_REQUIRED_FOR_WIDE_ROLES", not DEMO)
OTP_TOTP_ISSUER = "Fangkong"  # the name the authenticator app shows beside the username
CSRF_FAILURE_VIEW = "fangkong.core.error_pages.csrf_failure"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # stored in UTC, shown in Shanghai time
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))

# `fangkong backup` writes its dumps here unless given --output (deploy/systemd/fangkong-backup.service).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", "."))

# Logs (fangkong.core.logs): one JSON object a line in a deployment (the journal), readable text in the demo;
# ID numbers, phones and self-report tokens are masked in every line. fangkong.request writes one line per
# request (view name, status, duration, user id, request id; never the path's ids or the query string) at
# REQUEST_LOG_LEVEL: INFO logs every request, WARNING only the 4xx and 5xx (the demo's default, beside
# runserver's own lines). Django's own 4xx warnings (which name the path) are left to that line.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEMO else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "fangkong.core.logs.JsonFormatter"},
                   "text": {"()": "fangkong.core.logs.TextFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "fangkong.request": {"level": os.environ.get("REQUEST_LOG_LEVEL", "WARNING" if DEMO else "INFO")},
        "django.request": {"level": "ERROR"},
    },
}

# Prometheus metrics at /metrics (fangkong.core.metrics): allowed from these client addresses or networks
# (after TRUSTED_PROXIES: the real client, not nginx) or with `Authorization: Bearer METRICS_TOKEN`; anyone
# else gets the 404 page. PROMETHEUS_MULTIPROC_DIR (set by deploy/systemd/fangkong-web.service, read by
# prometheus_client itself too) sums the figures of all gunicorn workers.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
try:
    [ipaddress.ip_network(entry, strict=False) for entry in METRICS_ALLOWED_IPS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

