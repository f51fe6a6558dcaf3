# The playbook records moved to the playbooks app with their table (playbooks 0001): procurement
# forgets the model in the state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('playbooks', '0001_initial'),
        ('procurement', '0003_purchase_order_closed_short'),
        ('transfers', '0004_recommendation_in_playbooks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Recommendation'),
            ],
        ),
    ]
