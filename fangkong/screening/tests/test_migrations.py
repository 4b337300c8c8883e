"""0002: a person's open items of the old layout (one per reason) become one item with every reason."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fangkong.screening.testing import reached
from fangkong.screening.visits import record_visit

BEFORE = [("screening", "0001_initial")]
AFTER = [("screening", "0003_follow_up_one_open_per_person")]


@pytest.mark.django_db(transaction=True)
def test_open_items_per_reason_are_merged_into_one_per_person(city):
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    visit = record_visit(city.users["grid_a"], city.households["a101"], reached(zhang, li)).visit
    checks = {c.resident_id: c.pk for c in visit.checks.all()}
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("screening", "FollowUp")
        now = timezone.now()
        for resident, reason, status in ((zhang, "symptoms", "open"), (zhang, "fever", "open"), (zhang, "fever", "dismissed"),
                                         (li, "possible_contact", "open")):
            old.objects.create(resident_id=resident.pk, visit_id=visit.pk, person_check_id=checks[resident.pk], reason=reason,
                               area_code=visit.area_code, status=status, created_at=now)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("screening", "FollowUp")
        rows = sorted(new.objects.values_list("resident_id", "status", "reason", "reasons"))
        assert rows == sorted([(zhang.pk, "open", "fever", 3), (zhang.pk, "dismissed", "fever", 1),
                               (li.pk, "open", "possible_contact", 4)])
    finally:
        # Leave the database as every later test expects it: all migrations applied.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
