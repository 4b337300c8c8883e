"""The language comes from the user's choice or the deployment's LANGUAGE_CODE, not the browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_english_browser_gets_the_chinese_deployment_zh(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in response.content.decode() and response["Content-Language"] == "zh-hans"


def test_the_users_choice_wins_and_sticks_zh(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in response.content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-hans"' in client.get(reverse("accounts:login")).content.decode()


def test_an_unknown_choice_falls_back_to_the_deployments_language_zh(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert 'lang="zh-hans"' in client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_english_deployment_stays_english_for_a_chinese_browser(client, settings):
    settings.LANGUAGE_CODE = "en"
    assert 'lang="en"' in client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
