"""Error pages in the site's layout and the user's language: what happened and what to do.

Django's defaults are bare English pages; residents on a renewed QR link, grid workers on a phone and
commanders alike get these instead (403, 404, 400, 413, 429 and 500; a failed CSRF check is a 403 too).

A request over Django's limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS,
DATA_UPLOAD_MAX_NUMBER_FILES) raises when its form or body is first read — in the CSRF middleware, a view
or the API — and Django hands the exception to the 400 handler, `bad_request`: it says which limit was
passed. A body too large is 413 Content Too Large (the size is the problem: sending less succeeds); too
many fields or files stays 400 (the form itself is wrong). Under /api/ every 400 and 413 is JSON in the
API's shape, {"detail": "..."}.

While the database cannot be reached (a restart, a failover) a request gets 503 with Retry-After, never a
500: `DatabaseUnavailableMiddleware` catches the error a view raises, `server_error` the one a middleware
raises (the session, the user). Both render without touching the database, and the request is logged as
one warning line without its data, not as a server error.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable

from django import db
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# The REST API (fangkong/urls.py): its errors are JSON, {"detail": "..."}, as ninja's own.
API_PREFIX = "/api/"

RETRY_AFTER_UNAVAILABLE_S = 60


def _database_unavailable_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [db.OperationalError, db.InterfaceError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is installed wherever PostgreSQL is used
        pass
    else:
        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(errors)


DATABASE_UNAVAILABLE_ERRORS = _database_unavailable_errors()


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be reached or dropped the connection (Django's and psycopg's own errors)."""
    return isinstance(exc, DATABASE_UNAVAILABLE_ERRORS)


# The public token links (household self-report, observation self-report): no log-in, opened from a QR code.
TOKEN_LINK_PREFIXES = ("/r/", "/o/")


def _is_token_link(request: HttpRequest) -> bool:
    return request.path.startswith(TOKEN_LINK_PREFIXES)


def error_page(request: HttpRequest, status: int, title: str, message: str, advice: str) -> HttpResponse:
    return render(request, "errors/error.html", {
        "status": status, "title": title, "message": message, "advice": advice,
        "token_link": _is_token_link(request),
    }, status=status)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    status = 400
    if isinstance(exception, RequestDataTooBig):
        status = 413
        title = _("Too large to accept")
        message = _("The form or file sent is too large: at most %(size)s MB.") % {
            "size": _megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)}
        advice = _("Send less at a time: shorter texts, or the rows split over several files.")
    elif isinstance(exception, TooManyFieldsSent):
        title = _("Too many fields")
        message = _("The form has too many fields.")
        advice = _("Send at most %(count)s fields at a time: split the rows over several forms or files.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    elif isinstance(exception, TooManyFilesSent):
        title = _("Too many files")
        message = _("Too many files were sent at once: at most %(count)s.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
        advice = _("Send the files in several smaller batches.")
    else:
        title = _("The request could not be understood")
        message = _("Something in the request was malformed, perhaps a link cut short.")
        advice = _("Go back, reload the page and try again.")
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})
    return error_page(request, status, title, message, advice)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, _("You may not do this"),
                      _("Your role or your area does not cover this page or this action."),
                      _("If you need it for your work, ask whoever manages your account to extend your role or area."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403, _("The form had expired"),
                      _("The page was open too long or cookies are blocked, so the form could not be accepted."),
                      _("Reload the page and send the form again; nothing was saved."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_token_link(request):
        return error_page(request, 404, _("This link is no longer valid"),
                          _("The link or QR code you opened is not known: it may have been renewed or mistyped."),
                          _("Ask your grid worker for the new link or QR code."))
    return error_page(request, 404, _("Page not found"),
                      _("There is no such page, or it lies outside the area you may see."),
                      _("Check the address, or start again from the home page."))


def too_many_requests(request: HttpRequest, retry_after_s: int = 600) -> HttpResponse:
    response = error_page(request, 429, _("Too many requests"),
                          _("This address has sent more requests than allowed in a short time."),
                          _("Please wait a few minutes and try again."))
    response["Retry-After"] = str(retry_after_s)
    return response


def service_unavailable(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """503 while the database is unreachable: the styled page (the API: JSON), Retry-After, rendered without
    the database; logged as one warning (the error's class and the route, no data), not as a server error."""
    match = getattr(request, "resolver_match", None)
    logger.warning("Database unavailable (%s): %s %s answered 503", type(exc).__name__ if exc else "-",
                   request.method, match.route if match else "-")
    if request.path_info.startswith("/api/"):
        response = HttpResponse(json.dumps({"detail": _("The service is briefly unavailable; try again in a minute.")}),
                                content_type="application/json", status=503)
    else:
        try:
            response = render(request, "errors/503.html", status=503)
        except Exception:  # noqa: BLE001 - the last resort must not raise
            logger.exception("The 503 page could not be rendered")
            response = HttpResponse(
                "<!doctype html><meta charset='utf-8'><title>暂时无法使用 Briefly unavailable</title>"
                "<h1>服务暂时无法使用，请一分钟后再试 · The service is briefly unavailable, try again in a minute</h1>",
                status=503)
    response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE_S)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's log_response skips it
    return response


class DatabaseUnavailableMiddleware:
    """A view (or API endpoint) that finds the database unreachable answers 503, not 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return service_unavailable(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception: one a middleware raised (loading the session or the
    # user) when the database is down is a 503 as well.
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        return service_unavailable(request, exc)
    # The error may come from the database itself: render without touching it (no user, no session), and
    # fall back to a fixed bilingual page if even that fails.
    try:
        return render(request, "errors/500.html", status=500)
    except Exception:  # noqa: BLE001 - the last resort must not raise
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(
            "<!doctype html><meta charset='utf-8'><title>系统错误 Server error</title>"
            "<h1>系统出错，请稍后再试 · Server error, please try again later</h1>")
