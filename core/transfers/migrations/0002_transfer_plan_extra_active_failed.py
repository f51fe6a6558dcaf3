"""Before one plan at a time per tenant becomes a constraint: of a tenant's queued or running plans,
all but the newest are marked failed (started twice before the limit; the newest is the one a
planner is following). Reversing leaves them failed: nothing to undo."""

from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.utils import timezone

ACTIVE = ["queued", "running"]


def fail_all_but_newest(apps, schema_editor):
    TransferPlan = apps.get_model("transfers", "TransferPlan")
    newest = (
        TransferPlan.objects.filter(tenant_id=OuterRef("tenant_id"), status__in=ACTIVE)
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )
    TransferPlan.objects.filter(status__in=ACTIVE).exclude(id=Subquery(newest)).update(
        status="failed",
        error="Superseded: a newer plan of the tenant was started while this one was waiting.",
        finished_at=timezone.now(),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('transfers', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(fail_all_but_newest, migrations.RunPython.noop),
    ]
