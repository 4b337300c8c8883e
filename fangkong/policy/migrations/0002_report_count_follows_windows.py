"""Stored versions whose report count disagrees with their windows (the schema now refuses that) take
the count of their windows: the windows are what the alert job and the self-report pages followed."""

from django.db import migrations


def count_from_windows(apps, schema_editor):
    PolicyVersion = apps.get_model("policy", "PolicyVersion")
    for version in PolicyVersion.objects.all():
        windows = version.data.get("home_report_windows")
        if isinstance(windows, list) and version.data.get("home_reports_per_day", 2) != len(windows):
            version.data["home_reports_per_day"] = len(windows)
            version.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(count_from_windows, migrations.RunPython.noop)]
