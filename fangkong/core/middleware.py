"""The UI language: the user's own choice (the footer's switch, Django's set_language, kept in the
language cookie) or else the deployment's LANGUAGE_CODE, never the browser's Accept-Language: a
Chinese deployment speaks Chinese on an English-configured phone until its user switches.

Replaces django.middleware.locale.LocaleMiddleware (no i18n URL prefixes are used here).

Also here: the client's address behind the reverse proxy (ForwardedClientMiddleware), and the
Permissions-Policy header (PermissionsPolicyMiddleware); the other security headers are
Django's (settings: SECURE_REFERRER_POLICY, X_FRAME_OPTIONS…) and django-csp's."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin


def chosen_language(request: HttpRequest) -> str:
    choice = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if choice:
        try:
            return translation.get_supported_language_variant(choice)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class LanguageMiddleware(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> None:
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


# What the pages may ask of the device: nothing yet. The gate scanner page (a later issue) will allow
# camera=(self) on its own response, where it reads QR codes; everywhere else the camera stays off.
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"


class PermissionsPolicyMiddleware(MiddlewareMixin):
    """The Permissions-Policy header on every response (a view that needs more sets its own)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class ForwardedClientMiddleware:
    """The client's address behind the reverse proxy. nginx connects from a trusted address
    (settings.TRUSTED_PROXIES, default the loopback) and names the client in X-Forwarded-For; from any other
    peer the header is a client's own claim and is ignored. The address replaces REMOTE_ADDR before
    anything reads it: the self-report links' per-address rate limits, the log-in lock-out (django-axes)
    and the audit log would otherwise see one client, the proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if peer in self.trusted and forwarded:
            client = forwarded_client(forwarded, self.trusted)
            if client:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


def forwarded_client(header: str, trusted: frozenset[str]) -> str:
    """The right-most address of X-Forwarded-For that is not a trusted proxy (the ones to its left were
    written by the client and prove nothing); "" when the header holds no valid address."""
    for part in reversed(header.split(",")):
        candidate = part.strip()
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:
            return ""
        if address not in trusted:
            return address
    return ""
