# A transfer's playbook record lives in the playbooks app: the foreign key's target changes in the
# state only, as the database constraint followed the renamed table.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('playbooks', '0001_initial'),
        ('transfers', '0003_transfer_plan_one_at_a_time'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='transferrequest',
                    name='recommendation',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='playbooks.recommendation'),
                ),
            ],
        ),
    ]
