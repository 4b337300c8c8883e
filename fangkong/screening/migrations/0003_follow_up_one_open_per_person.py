from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0002_follow_up_one_item_per_person'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='followup',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('resident',), name='followup_one_open_per_person'),
        ),
    ]
