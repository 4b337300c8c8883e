"""`fangkong demo-tracing` fills the tracing screens of the demo once."""

import pytest
from django.core.management import call_command

from fangkong.demo.city import build_city

pytestmark = pytest.mark.django_db


def test_the_demo_has_investigations_contacts_links_a_cluster_and_tasks_once():
    from fangkong.accounts.models import User
    from fangkong.tracing import chains
    from fangkong.tracing.demo import build_demo_tracing
    from fangkong.tracing.models import Contact, DisinfectionTask, InfectionLink, Investigation, MatchState

    build_city(1500, 7)
    call_command("demo-cases", stdout=None)
    call_command("demo-tracing", stdout=None)
    assert Investigation.objects.count() > 5
    states = set(Contact.objects.values_list("match_state", flat=True))
    assert {MatchState.AUTO_DOCUMENT, MatchState.CANDIDATES} <= states
    assert Contact.objects.filter(is_close=True, queued_at__isnull=False).exists()
    assert Contact.objects.filter(is_close=False).exists()
    assert DisinfectionTask.objects.filter(kind="public").exists() and DisinfectionTask.objects.filter(status="done").exists()
    assert InfectionLink.objects.exists()
    assert chains.clusters(User(is_superuser=True), "42")
    assert build_demo_tracing() == {}  # idempotent
