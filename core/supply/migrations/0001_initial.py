"""Supplier offers move from procurement to supply, rows and all.

Only the state moves: the table is renamed in place (its rows, constraints, indexes and the
foreign keys that point at it stay), and procurement's 0004 drops its copy from the state.
"""

import django.core.validators
import django.db.models.deletion
import uuid
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inventory', '0007_position_identity'),
        ('procurement', '0003_purchase_order_closed_short'),
        ('tenants', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE procurement_supplieroffer RENAME TO supply_supplieroffer',
                    reverse_sql='ALTER TABLE supply_supplieroffer RENAME TO procurement_supplieroffer',
                ),
            ],
            state_operations=[
        migrations.CreateModel(
            name='SupplierOffer',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('rank', models.PositiveSmallIntegerField(help_text='1 is the primary supplier; 2 and up are backups, in order.', validators=[django.core.validators.MinValueValidator(1)])),
                ('lead_time_days', models.PositiveSmallIntegerField()),
                ('unit_price', models.DecimalField(decimal_places=4, max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('min_order_quantity', models.PositiveIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1)])),
                ('capacity_per_week', models.PositiveIntegerField(blank=True, help_text='Units a week; empty if unknown.', null=True)),
                ('reliability', models.DecimalField(decimal_places=3, default=Decimal('0.900'), help_text="Share of orders delivered complete and on time, 0 to 1; kept from the supplier's receipts against its purchase orders once it has any.", max_digits=4, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1)])),
                ('freight_per_unit', models.DecimalField(decimal_places=4, default=Decimal('0'), max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('duty_rate', models.DecimalField(decimal_places=4, default=Decimal('0'), help_text='Duty as a share of the unit price (0.05 = 5 %).', max_digits=5, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(5)])),
                ('sku', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='supplier_offers', to='inventory.sku')),
                ('supplier', models.ForeignKey(limit_choices_to={'kind': 'supplier'}, on_delete=django.db.models.deletion.CASCADE, related_name='supplier_offers', to='tenants.partner')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
            ],
            options={
                'ordering': ['created_at', 'id'],
                'abstract': False,
                'indexes': [models.Index(fields=['tenant', 'sku', 'rank'], name='supplier_offer_sku_rank')],
                'constraints': [models.UniqueConstraint(fields=('tenant', 'sku', 'supplier'), name='supplier_offer_unique_sku_supplier'), models.CheckConstraint(condition=models.Q(('rank__gte', 1)), name='supplier_offer_rank_positive'), models.CheckConstraint(condition=models.Q(('lead_time_days__gte', 0)), name='supplier_offer_lead_time_not_negative'), models.CheckConstraint(condition=models.Q(('unit_price__gte', 0)), name='supplier_offer_unit_price_not_negative'), models.CheckConstraint(condition=models.Q(('min_order_quantity__gte', 1)), name='supplier_offer_moq_positive'), models.CheckConstraint(condition=models.Q(('capacity_per_week__isnull', True), ('capacity_per_week__gte', 0), _connector='OR'), name='supplier_offer_capacity_not_negative'), models.CheckConstraint(condition=models.Q(('reliability__gte', 0), ('reliability__lte', 1)), name='supplier_offer_reliability_share')],
            },
        ),
            ],
        ),
    ]
