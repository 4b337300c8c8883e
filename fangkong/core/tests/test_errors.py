"""Error pages speak the user's language in the site's layout and say what to do."""

import pytest
from django.test import Client
from django.urls import path

from fangkong import urls as project_urls

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [*project_urls.urlpatterns, path("boom/", _boom)]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


def test_a_missing_page_in_chinese_has_the_layout_and_says_what_to_do(city, login, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = login(city.users["community"]).get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'class="site-header"' in page and 'class="site-footer"' in page
    assert "页面不存在" in page and "Not Found" not in page


def test_a_renewed_self_report_link_tells_the_resident_to_ask_the_grid_worker(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    for url in ("/r/renewed-token/", "/o/renewed-token/"):
        response = Client().get(url)
        assert response.status_code == 404
        assert "网格员" in response.content.decode(), url


def test_a_page_outside_the_role_is_a_styled_403(city, login):
    response = login(city.users["grid_a"]).get("/audit/")
    assert response.status_code == 403
    assert 'class="site-header"' in response.content.decode() and "You may not do this" in response.content.decode()


def test_a_server_error_is_a_styled_page_in_chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'class="site-header"' in page and "再试" in page and "Server Error" not in page


def test_too_many_requests_is_a_styled_429(settings):
    settings.SELF_REPORT_RATE_LIMITS = {"address": (0, 600)}
    response = Client().get("/r/any-token/")
    assert response.status_code == 429 and response["Retry-After"] == "600"
    assert 'class="site-header"' in response.content.decode()


def test_the_favicon_is_found():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
