"""Supplier offers live in supply (see supply's 0001, which renames the table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('procurement', '0004_recommendation_to_playbooks'),
        ('supply', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='rfqinvitation',
                    name='offer',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supply.supplieroffer'),
                ),
                migrations.DeleteModel(
                    name='SupplierOffer',
                ),
            ],
        ),
    ]
