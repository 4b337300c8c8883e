"""The client's address behind nginx: taken from X-Forwarded-For only when the proxy itself is trusted, so
the self-report links' rate limits, the log-in lock-out and the audit log tell clients apart."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import Action, AuditLog
from fangkong.core.middleware import forwarded_client

TRUSTED = frozenset({"127.0.0.1", "::1"})


def test_the_right_most_untrusted_address_is_the_client():
    assert forwarded_client("203.0.113.7", TRUSTED) == "203.0.113.7"
    assert forwarded_client("10.9.9.9, 203.0.113.7", TRUSTED) == "203.0.113.7"  # the left one is the client's claim
    assert forwarded_client("203.0.113.7, 127.0.0.1", TRUSTED) == "203.0.113.7"
    assert forwarded_client("2001:db8::1", TRUSTED) == "2001:db8::1"
    assert forwarded_client("not-an-address", TRUSTED) == ""
    assert forwarded_client("127.0.0.1", TRUSTED) == ""


@pytest.mark.django_db
def test_behind_the_proxy_each_client_has_its_own_rate_limit(settings):
    settings.SELF_REPORT_RATE_LIMITS = {"address": (2, 600)}
    url = reverse("selfreport:report", args=["no-such-token"])
    first = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    second = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert [first.get(url).status_code for _ in range(3)] == [404, 404, 429]
    assert second.get(url).status_code == 404  # another phone on the same proxy is not limited by the first


@pytest.mark.django_db
def test_a_header_from_an_untrusted_peer_is_ignored(settings):
    settings.SELF_REPORT_RATE_LIMITS = {"address": (2, 600)}
    url = reverse("selfreport:report", args=["no-such-token"])
    statuses = [Client(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").get(url).status_code
                for i in range(3)]
    assert statuses == [404, 404, 429]  # a client rotating its own header stays one client


@pytest.mark.django_db
def test_the_audit_log_records_the_client_behind_the_proxy(city, password):
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.post(reverse("accounts:login"), {"username": city.users["grid_a"].username, "password": password})
    entry = AuditLog.objects.filter(action=Action.LOGIN).latest("id")
    assert entry.ip_address == "203.0.113.9"
