"""The site's URLs plus /bench/hello/: the smallest logged-in Django page — the same middleware
(sessions, log-in, CSRF, CSP, session limits, audit context), the same base template with the user's
menu, no query of its own. bench/load.py measures the city's morning as a fraction of it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from fangkong.urls import handler400, handler403, handler404, handler500  # noqa: F401
from fangkong.urls import urlpatterns as site

HELLO = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<h1>Hello</h1>{% endblock %}')


@login_required
def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(HELLO.render({}, request))


urlpatterns = [path("bench/hello/", hello, name="bench_hello"), *site]
