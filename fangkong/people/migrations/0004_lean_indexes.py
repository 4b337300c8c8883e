"""Fewer, better indexes on residents (each one costs every row of a million-row import):
- the default-opclass and pattern-opclass btrees on area_code, and the raw-SQL covering index of
  0003, become one (area_code pattern-ops, special_groups) index that scoping and the tree counts
  (grouped by area code and special groups) read without touching the table;
- the name index takes the pattern opclass so that name-prefix search can use it;
- PostgreSQL expression indexes on reverse(phone) and reverse(doc_number) serve search by last digits
  (尾号); the first also finds whole phones, so the plain phone index goes;
- text keys compare bytes (pattern opclasses), cheaper to maintain than the database locale's collation.
"""

from django.db import migrations, models

TAIL_INDEXES = {  # name → column: search by last digits (尾号) as a prefix of the reversed value
    "resident_phone_tail_idx": "phone",
    "resident_doc_tail_idx": "doc_number",
}


def drop_raw_covering_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS resident_area_groups_idx")


def add_tail_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in TAIL_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON people_resident (reverse({column}) text_pattern_ops)")


def drop_tail_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in TAIL_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("areas", "0002_lean_indexes"),
        ("people", "0003_resident_area_groups_idx"),
    ]

    operations = [
        migrations.RunPython(drop_raw_covering_index, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="resident", name="resident_name_idx"),
        migrations.AlterField(model_name="resident", name="area_code", field=models.CharField(editable=False, max_length=15)),
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["area_code", "special_groups"], name="resident_area_groups_idx",
                               opclasses=["varchar_pattern_ops", "int2_ops"]),
        ),
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["name"], name="resident_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ),
        migrations.RemoveIndex(model_name="resident", name="resident_phone_idx"),  # reverse(phone) serves exact phones too
        migrations.RemoveConstraint(model_name="resident", name="resident_unique_document"),
        migrations.AddConstraint(
            model_name="resident",
            constraint=models.UniqueConstraint(fields=("doc_type", "doc_number"), name="resident_unique_document",
                                               opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
        ),
        migrations.RunPython(add_tail_indexes, drop_tail_indexes),
    ]
