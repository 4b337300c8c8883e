"""The demo evidence: the demo grid worker finds to-dos of every kind, and running it again adds nothing."""

import json

import pytest
from django.core.management import call_command

from fangkong.accounts.models import User
from fangkong.crosscheck.models import Kind, ToDo
from fangkong.crosscheck.services import todos_in
from fangkong.demo.city import build_city


@pytest.fixture
def demo(db):
    build_city(2000, 11)
    call_command("demo-accounts")


def test_the_demo_grid_worker_has_to_dos_and_a_second_run_adds_nothing(demo, capsys):
    call_command("demo-evidence")
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["meter"]["created"] > 100 and all(summary["errors"] == 0 for summary in first.values())
    grid = User.objects.get(username="grid")
    kinds = {todo.kind for todo in todos_in(grid, grid.area.code)}
    assert kinds == {Kind.POWERED, Kind.LIT, Kind.RETURNEE_UNREGISTERED, Kind.RETURNEE_UNSCREENED}
    community = User.objects.get(username="community")
    assert todos_in(community, community.area.code).count() == ToDo.objects.count() == 5
    count = ToDo.objects.count()
    call_command("demo-evidence")
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert all(summary["created"] == 0 for summary in again.values())
    assert ToDo.objects.count() == count
