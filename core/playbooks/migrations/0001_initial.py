# The playbook records move from procurement to playbooks with their rows: the state gets the model
# here, the database renames the table (constraints, indexes and the foreign keys that point at it
# follow the table), and the content type is relabelled so its permissions stay attached.

import django.db.models.deletion
import uuid
from django.db import migrations, models


def _relabel(apps, schema_editor, source, target):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label=target, model='recommendation').exists():
        ContentType.objects.filter(app_label=source, model='recommendation').update(app_label=target)


def content_type_to_playbooks(apps, schema_editor):
    _relabel(apps, schema_editor, 'procurement', 'playbooks')


def content_type_to_procurement(apps, schema_editor):
    _relabel(apps, schema_editor, 'playbooks', 'procurement')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('alerts', '0005_reading_fingerprint_db_default'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('inventory', '0007_position_identity'),
        ('procurement', '0003_purchase_order_closed_short'),
        ('tenants', '0001_initial'),
        # Transfers point a foreign key at the table in their first migration: that runs before the rename.
        ('transfers', '0003_transfer_plan_one_at_a_time'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE procurement_recommendation RENAME TO playbooks_recommendation',
                    reverse_sql='ALTER TABLE playbooks_recommendation RENAME TO procurement_recommendation',
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='Recommendation',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('kind', models.CharField(choices=[('markdown', 'Markdown suggestion'), ('clearance', 'Clearance plan'), ('transfer', 'Transfer proposal')], max_length=16)),
                        ('grade', models.CharField(max_length=8)),
                        ('status', models.CharField(choices=[('proposed', 'Proposed'), ('accepted', 'Accepted'), ('rejected', 'Rejected'), ('superseded', 'Superseded: the alert changed grade or closed')], default='proposed', max_length=16)),
                        ('method', models.CharField(help_text='How the figures were reached.', max_length=32)),
                        ('figures', models.JSONField(default=dict)),
                        ('summary', models.TextField()),
                        ('decided_by', models.CharField(blank=True, default='', max_length=200)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_note', models.CharField(blank=True, default='', max_length=500)),
                        ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='playbook_records', to='alerts.alert')),
                        ('position', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.position')),
                        ('sku', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.sku')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
                        ('warehouse', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.warehouse')),
                    ],
                    options={
                        'ordering': ['created_at', 'id'],
                        'abstract': False,
                        'indexes': [models.Index(fields=['tenant', 'status', 'created_at'], name='recommendation_tenant_status')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'proposed')), fields=('alert',), name='recommendation_one_proposed_per_alert'), models.UniqueConstraint(fields=('alert', 'kind'), name='recommendation_once_per_alert_kind')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_to_playbooks, content_type_to_procurement),
    ]
