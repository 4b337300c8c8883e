"""One follow-up item per flagged person with every reason (was: one item per reason).

Existing items get their reason as a bit of `reasons`; a person's several open items become one
(the oldest, with the union of the reasons). Open items were not acted on yet, so the merged ones
are removed. The new unique constraint follows in 0003, in its own transaction.
"""

from django.conf import settings
from django.db import migrations, models

BITS = {"fever": 1, "symptoms": 2, "possible_contact": 4}
ORDER = ("fever", "symptoms", "possible_contact")


def merge_open_items(apps, schema_editor) -> None:
    FollowUp = apps.get_model("screening", "FollowUp")
    for reason, bit in BITS.items():
        FollowUp.objects.filter(reason=reason).update(reasons=bit)
    kept: dict[int, object] = {}
    extra: list[int] = []
    for item in FollowUp.objects.filter(status="open").order_by("resident_id", "created_at", "id").iterator():
        first = kept.get(item.resident_id)
        if first is None:
            kept[item.resident_id] = item
            continue
        first.reasons |= item.reasons
        extra.append(item.pk)
    if not extra:
        return
    merged = [item for item in kept.values() if item.reasons & (item.reasons - 1)]  # more than one bit
    for item in merged:
        item.reason = next(r for r in ORDER if item.reasons & BITS[r])
    FollowUp.objects.bulk_update(merged, ["reasons", "reason"], batch_size=500)
    for start in range(0, len(extra), 500):
        FollowUp.objects.filter(pk__in=extra[start:start + 500]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0005_importbatch_kind'),
        ('screening', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='followup',
            name='followup_one_open_per_reason',
        ),
        migrations.AddField(
            model_name='followup',
            name='reasons',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='reasons'),
        ),
        migrations.RunPython(merge_open_items, migrations.RunPython.noop),
    ]
