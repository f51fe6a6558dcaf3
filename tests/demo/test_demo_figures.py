"""A fresh demo shows what README says it shows, and leaves the user room under the RFQ hourly
limit for their own first red stock-outs."""

import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.alerts.models import Alert, AlertEvent, AlertEventKind, Grade, RuleCode
from core.demo.seed import DEMO_TENANT_SLUG
from core.inventory.models import DailyFact, Position
from core.procurement.models import ProcurementLimits, Rfq, RfqInvitation
from core.webhooks.models import OutboxEvent
from tenants.models import Tenant
from tests.support.ingest import push_rows
from tests.support.world import Caller, key_client
from workers.tasks.evaluation import evaluation_incremental
from workers.tasks.procurement import procurement_respond

README = Path(settings.BASE_DIR) / "README.md"
# README gives each figure as its range over the seven weekdays: the data follow a weekly pattern,
# which falls on another weekday each day (measured with the demo's seed on each weekday). A fresh
# run may lie 5 % (at least 1) outside the range, so that a small change of a rule passes while
# README cannot drift from what the demo shows.
TOLERANCE = 0.05


def readme_says(pattern: str) -> tuple[int, ...]:
    text = " ".join(README.read_text().split())  # README wraps its lines anywhere
    match = re.search(pattern, text)
    assert match, f"README no longer says {pattern!r}"
    return tuple(int(group) for group in match.groups())


def assert_within(what: str, value: int, low: int, high: int) -> None:
    slack = max(1, round(TOLERANCE * high))
    assert low - slack <= value <= high + slack, f"a fresh demo has {value} {what}; README says {low} to {high}"


def key_of(output: str, label: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if label in line)


def test_a_fresh_demo_shows_what_readme_says_and_leaves_room_for_the_users_first_rfqs(db):
    # Given a fresh demo (seeded, evaluated, responded to, as `make demo` does before serving)
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out, stderr=StringIO())
    output = out.getvalue()
    tenant = Tenant.objects.get(slug=DEMO_TENANT_SLUG)
    alerts = Alert.objects.filter(tenant=tenant)
    rfqs = Rfq.objects.filter(tenant=tenant)

    # Then its figures are README's
    low, high, alerts_low, alerts_high = readme_says(r"(\d+) to (\d+) of the 600 positions carry (\d+) to (\d+) alerts")
    assert_within("positions with alerts", alerts.values("position_id").distinct().count(), low, high)
    assert_within("alerts", alerts.count(), alerts_low, alerts_high)
    low, high, invited_low, invited_high = readme_says(
        r"each red stock-out opens an RFQ \((\d+) to (\d+), of which (\d+) to (\d+) invite an express backup"
    )
    assert_within("RFQs", rfqs.count(), low, high)
    inviting = rfqs.filter(Exists(RfqInvitation.objects.filter(rfq=OuterRef("pk")))).count()
    assert_within("RFQs inviting a backup", inviting, invited_low, invited_high)
    red_stock_outs = alerts.filter(rule=RuleCode.STOCK_OUT_RISK, grade=Grade.RED, active=True)
    assert set(rfqs.values_list("alert_id", flat=True)) == set(red_stock_outs.values_list("pk", flat=True))

    # and none of its RFQs was held, with a default hour's worth of room left under its limit
    held = AlertEvent.objects.filter(tenant_id=tenant.pk, kind=AlertEventKind.RESPONSE_HELD)
    assert not held.filter(data__limit="rfqs_per_hour").exists()
    admin = key_client(key_of(output, "admin (staff)"))
    limits = admin.get(f"/api/v1/tenants/{tenant.slug}/procurement-limits/").json()
    demo_limit, default_limit = readme_says(
        r"The demo tenant's RFQ limit is (\d+) an hour \(`rfqs_per_hour`; (\d+) for other tenants\)"
    )
    assert (limits["rfqs_per_hour"], ProcurementLimits().rfqs_per_hour) == (demo_limit, default_limit)
    assert limits["rfqs_per_hour"] - rfqs.count() >= default_limit

    # When the user's ERP pushes a sale that empties a position the demo left quiet
    sold_lately = DailyFact.objects.filter(
        position=OuterRef("pk"), units_sold__gt=0, day__gte=timezone.now().date() - timedelta(days=28)
    )
    position = (
        Position.objects.filter(tenant=tenant, on_hand__gt=0, reserved=0, in_transit=0)
        .filter(Exists(sold_lately))
        .exclude(Exists(Alert.objects.filter(position=OuterRef("pk"), rule=RuleCode.STOCK_OUT_RISK)))
        .select_related("sku", "warehouse")
        .order_by("id")
        .first()
    )
    assert position is not None, "the demo leaves no quiet, selling position"
    sale = {
        "kind": "sale",
        "sku": position.sku.code,
        "warehouse": position.warehouse.code,
        "quantity": position.on_hand,
        "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "external_ref": "the-users-first-stock-out",
        "unit_price": str(position.sku.list_price),
    }
    erp = Caller(client=key_client(key_of(output, "(erp)")))
    assert push_rows(erp, tenant.slug, "movements", [sale]).status_code in (200, 201)
    # and the worker evaluates it and responds, as it does within seconds
    evaluation_incremental(str(tenant.pk))
    alert = Alert.objects.get(position=position, rule=RuleCode.STOCK_OUT_RISK, active=True)
    assert alert.grade == Grade.RED
    events = OutboxEvent.objects.filter(tenant=tenant, data__alert_id=str(alert.pk))
    procurement_respond(list(events.values_list("id", flat=True)))

    # Then its RFQ opens at once
    opened = admin.get(f"/api/v1/tenants/{tenant.slug}/rfqs/", {"alert_id": str(alert.pk)}).json()["results"]
    assert [rfq["status"] for rfq in opened] == ["open"]
