"""The observation migrations run backwards and forwards on the test database (SQLite or PostgreSQL),
and the models have no change without a migration."""

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_the_observation_tables_migrate_down_and_up_again():
    call_command("migrate", "observation", "zero", verbosity=0)
    assert "observation_observationfile" not in connection.introspection.table_names()
    call_command("migrate", "observation", verbosity=0)
    tables = connection.introspection.table_names()
    assert {"observation_observationfile", "observation_healthreport", "observation_alert"} <= set(tables)


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "observation", "cases", check=True, dry_run=True, verbosity=0)
