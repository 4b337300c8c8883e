"""Facility staff are bound to a real facility: the provisional `facility_id` integer becomes a foreign
key to facilities.Facility (same column name). Numbers that name no facility are cleared first (before
this migration no facility could exist); such accounts see nothing until they are bound again."""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling_facility_ids(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Facility = apps.get_model("facilities", "Facility")
    existing = set(Facility.objects.values_list("pk", flat=True))
    User.objects.exclude(facility_id__isnull=True).exclude(facility_id__in=existing).update(facility_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("facilities", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(clear_dangling_facility_ids, migrations.RunPython.noop),
        migrations.RemoveField(model_name="user", name="facility_id"),
        migrations.AddField(
            model_name="user",
            name="facility",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="staff", to="facilities.facility", verbose_name="facility"),
        ),
    ]
