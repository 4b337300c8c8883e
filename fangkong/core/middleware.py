"""The UI language: the user's own choice (the footer's switch, Django's set_language, kept in the
language cookie) or else the deployment's LANGUAGE_CODE, never the browser's Accept-Language: a
Chinese deployment speaks Chinese on an English-configured phone until its user switches.

Replaces django.middleware.locale.LocaleMiddleware (no i18n URL prefixes are used here).

Also here: the Permissions-Policy header (PermissionsPolicyMiddleware); the other security headers are
Django's (settings: SECURE_REFERRER_POLICY, X_FRAME_OPTIONS…) and django-csp's."""

from __future__ import annotations

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
