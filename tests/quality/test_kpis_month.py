"""Last month's KPIs computed by hand, read through kpis/, then closed into a report (event, CSV).

The alerts are real: raised by the engine on pushed stock, acknowledged, dismissed and resolved over
the API, answered by an awarded RFQ and an accepted clearance. The test then sets when each step
happened, in hours after the month's first midnight (M), as a month of use would have spread them:

| alert | rule            | opened | first reaction       | response              | closed              |
| X1 O1 | overstock       | M+1d   | ack M+1d 4h (4 h)    | -                     | resolved M+11d      |
| X2 O2 | overstock       | M+2d   | dismissed M+2d 10h   | -                     | dismissed (false)   |
| X3 S  | stock_out_risk  | M+3d   | ack M+3d 2h (2 h)    | RFQ awarded M+4d (24h)| open                |
| X4 O3 | overstock       | M+5d   | ack M+5d 20h (20 h)  | clearance M+6d 6h (30h)| open              |
| X5 S2 | stock_out_risk  | M+7d   | resolved M+8d (24 h) | - (RFQ not awarded)   | resolved M+8d       |

Closed in the month: X1 (stock still unsold: an outcome), X2 (a false alarm), X5 (no response, no
stock-out day at S2: a false alarm): 2 of 3. Time to acknowledge 2, 4, 10, 20, 24 h: median 10,
p90 20 + 0.6 x 4 = 22.4. Time to act 24, 30 h: median 27, p90 29.4. Clearance cycle: X1, 10 days.
Overstock held at the month's end: X4's O3, 90 units x unit cost 2 = 180.00.

Facts: A at W received 60 on M-10, sold 3 a day from M-10 to M+9 (out at the end of M+9), received
100 on M+15 and sold 3 a day from then to the month's end. Stock-out days M+9 .. M+14: 6. Lost demand:
M+9 sold its 3 at the rate of 3; M+10 .. M+14 each 60 sold over 19 in-stock days: 5 x 60 / 19.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.alerts.models import Alert, AlertEvent
from core.playbooks.models import Recommendation
from core.playbooks.records import recommendations_sync
from core.procurement.models import Rfq
from core.quality.kpi_reports import kpi_month_close
from core.quality.models import KpiMonthlyReport, WarningBacktest
from core.webhooks.models import Delivery, OutboxEvent
from core.webhooks.outbox import Event, outbox_emit
from tests.support.calls import error, evaluate, ok, pushed, url
from tests.support.procurement import backup_suppliers, quote, respond, short_stock
from workers.app import app
from workers.tasks.kpis import kpis_month_close
from workers.tasks.procurement import procurement_settle
from workers.tasks.webhooks import webhooks_deliver, webhooks_relay

TODAY = timezone.now().date()
M = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month's first day
MONTH = f"{M:%Y-%m}"
NEXT = (M + timedelta(days=32)).replace(day=1)
DAYS = (NEXT - M).days
FUTURE = (TODAY.replace(day=28) + timedelta(days=5)).replace(day=1)  # the month after the current one


def at(days: float) -> datetime:
    return datetime.combine(M, time.min, tzinfo=UTC) + timedelta(days=days)


def stamp(day_offset: int, hour: int = 12) -> str:
    return f"{M + timedelta(days=day_offset)}T{hour:02d}:00:00Z"


def the_alert(world, sku: str, rule: str) -> str:
    (alert,) = ok(world.admin.client.get(url(world, "alerts/"), {"sku": sku, "rule": rule, "active": "true"}))[
        "results"
    ]
    return alert["id"]


def act(world, alert_id: str, action: str, **body) -> None:
    ok(world.planner.client.post(url(world, f"alerts/{alert_id}/{action}/"), body, format="json"))


def happened(alert_id: str, **moments: datetime) -> None:
    """When each step of the alert's timeline happened (its kind -> the time)."""
    Alert.objects.filter(pk=alert_id).update(opened_at=moments["opened"])
    for kind, moment in moments.items():
        AlertEvent.objects.filter(alert_id=alert_id, kind=kind).update(created_at=moment)


def kpis(world, caller=None, **params):
    return (caller or world.admin).client.get(url(world, "kpis/"), params)


@pytest.fixture
def month(shop, request):
    """The month of the module docstring, in the shop's tenant; answers the shop. X2's dismissal
    reason is ``false_alarm`` unless the test gives another (indirect parametrization)."""
    world = shop
    pushed(
        world,
        "skus",
        [
            {"code": code, "name": code, "category": "C", "unit_cost": cost, "list_price": "4"}
            for code, cost in (("O1", "1"), ("O2", "1"), ("O3", "2"), ("S2", "1"), ("A", "1"))
        ],
    )
    # O1..O3: 100 received long ago, 10 sold 44 days ago: red overstock. S, S2: short (RFQs).
    rows = []
    for code in ("O1", "O2", "O3"):
        rows += [
            {"kind": "receipt", "sku": code, "warehouse": "W", "quantity": 100, "occurred_at": stamp(-200)},
            {"kind": "sale", "sku": code, "warehouse": "W", "quantity": 10, "occurred_at": stamp(-200 + 156)},
        ]
    rows += [
        {"kind": "receipt", "sku": "A", "warehouse": "W", "quantity": 60, "occurred_at": stamp(-10, 6)},
        {"kind": "receipt", "sku": "A", "warehouse": "W", "quantity": 100, "occurred_at": stamp(15, 6)},
    ]
    rows += [
        {"kind": "sale", "sku": "A", "warehouse": "W", "quantity": 3, "occurred_at": stamp(day), "unit_price": "4"}
        for day in [*range(-10, 10), *range(15, DAYS)]
    ]
    for number, row in enumerate(rows):
        row["external_ref"] = f"m-{number}"
    pushed(world, "movements", rows)
    suppliers = backup_suppliers(world, sku="S")
    backup_suppliers(world, sku="S2")
    short_stock(world, sku="S")
    short_stock(world, sku="S2", prefix="s2-")
    evaluate(world)
    respond(world)
    x1, x2, x4 = (the_alert(world, code, "overstock") for code in ("O1", "O2", "O3"))
    x3, x5 = (the_alert(world, code, "stock_out_risk") for code in ("S", "S2"))

    act(world, x1, "acknowledge")
    act(world, x1, "resolve")
    act(world, x2, "dismiss", reason=getattr(request, "param", "false_alarm"), note="seen")
    act(world, x3, "acknowledge")
    rfq = Rfq.objects.get(tenant=world.tenant, alert_id=x3)
    ok(quote(suppliers["cheap"], world, str(rfq.pk), unit_price="1.00", quantity=160, lead_time_days=4), 201)
    ok(quote(suppliers["quick"], world, str(rfq.pk), unit_price="0.98", quantity=150, lead_time_days=3), 201)
    assert procurement_settle(str(rfq.pk)) == "awarded"
    act(world, x4, "acknowledge")
    recommendations_sync(alert_ids=[x4])  # the procurement task proposed it already
    (record,) = ok(world.admin.client.get(url(world, "recommendations/"), {"alert_id": x4}))["results"]
    assert record["kind"] == "clearance"
    ok(world.planner.client.post(url(world, f"recommendations/{record['id']}/accept/"), {"note": ""}, format="json"))
    act(world, x5, "resolve")

    happened(x1, opened=at(1), acknowledged=at(1 + 4 / 24), resolved=at(11))
    happened(x2, opened=at(2), dismissed=at(2 + 10 / 24))
    happened(x3, opened=at(3), acknowledged=at(3 + 2 / 24))
    Rfq.objects.filter(pk=rfq.pk).update(awarded_at=at(4))
    happened(x4, opened=at(5), acknowledged=at(5 + 20 / 24))
    Recommendation.objects.filter(pk=record["id"]).update(decided_at=at(6.25))
    happened(x5, opened=at(7), resolved=at(8))
    world.alerts = {"X1": x1, "X2": x2, "X3": x3, "X4": x4, "X5": x5}
    return world


def short_stock_sold_in_month() -> int:
    """short_stock sells 10 a day on each of the 28 days up to today: those that fell in the month."""
    return sum(10 for day in range(28) if M <= TODAY - timedelta(days=day) < NEXT)


def test_the_months_kpis_by_hand_overall_and_by_rule(month) -> None:
    body = ok(kpis(month, month=MONTH))
    assert (body["month"], body["from"], body["to"], body["complete"], body["by"]) == (
        MONTH,
        str(M),
        str(NEXT - timedelta(days=1)),
        True,
        None,
    )
    overall = body["overall"]
    assert (overall["alerts_closed"], overall["false_alarms"], overall["false_alarm_rate"]) == (3, 2, 0.6667)
    assert overall["time_to_acknowledge_hours"] == {"count": 5, "median": 10.0, "p90": 22.4}
    assert overall["time_to_act_hours"] == {"count": 2, "median": 27.0, "p90": 29.4}
    assert overall["clearance_cycle_days"] == {"count": 1, "median": 10.0, "p90": 10.0}
    assert (overall["overstock_units_held"], overall["overstock_value_held"]) == (90, "180.00")
    assert overall["stock_out_days"] == 6
    sold = 3 * 10 + 3 * (DAYS - 15) + 2 * short_stock_sold_in_month()
    lost = 5 * 60 / 19
    assert overall["units_sold"] == sold
    assert overall["lost_units"] == round(lost, 2)
    assert overall["fill_rate"] == round(sold / (sold + lost), 4)
    assert overall["replay"] is None
    assert body["replay_source"].startswith(f"No succeeded warning backtest of the policies in force covers {MONTH}")
    assert set(body["definitions"]) >= {"false_alarm_rate", "fill_rate", "time_to_act_hours"}

    # Every SKU of the month is in category C and at warehouse W: one group each, the overall figures.
    for by, key in (("category", "C"), ("warehouse", "W")):
        assert ok(kpis(month, month=MONTH, by=by))["groups"] == [{"key": key, **overall}]

    by_rule = {group["key"]: group for group in ok(kpis(month, month=MONTH, by="rule"))["groups"]}
    assert set(by_rule) == {"overstock", "stock_out_risk"}
    shortage, overstock = by_rule["stock_out_risk"], by_rule["overstock"]
    assert (shortage["alerts_closed"], shortage["false_alarms"], shortage["false_alarm_rate"]) == (1, 1, 1.0)
    assert shortage["time_to_acknowledge_hours"] == {"count": 2, "median": 13.0, "p90": 21.8}
    assert shortage["time_to_act_hours"] == {"count": 1, "median": 24.0, "p90": 24.0}
    assert (overstock["alerts_closed"], overstock["false_alarms"], overstock["overstock_value_held"]) == (
        2,
        1,
        "180.00",
    )
    assert overstock["stock_out_days"] is None
    assert overstock["fill_rate"] is None


@pytest.mark.parametrize("month", ["too_early"], indirect=True)
def test_a_dismissal_for_another_reason_than_a_false_alarm_is_not_one(month) -> None:
    overall = ok(kpis(month, month=MONTH))["overall"]
    assert (overall["alerts_closed"], overall["false_alarms"], overall["false_alarm_rate"]) == (3, 1, 0.3333)


def test_the_replay_figures_come_from_the_latest_backtest_covering_the_month(month) -> None:
    report = {"overall": {"precision": 0.9, "recall": 0.8, "lead_time_median": 6.0}}
    common = {"tenant": month.tenant, "requested_by": "test", "status": "succeeded", "report": report}
    WarningBacktest.objects.create(day_from=M + timedelta(days=1), day_to=NEXT, **common)  # misses the 1st
    shadow = {**common, "report": {"overall": {"precision": 0.1}}}
    WarningBacktest.objects.create(day_from=M, day_to=NEXT, policies={"overstock": {}}, **shadow)  # a shadow run
    covering = WarningBacktest.objects.create(day_from=M - timedelta(days=30), day_to=NEXT, **common)
    body = ok(kpis(month, month=MONTH))
    assert body["overall"]["replay"] == {"precision": 0.9, "recall": 0.8, "lead_time_median": 6.0}
    assert str(covering.pk) in body["replay_source"]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({}, "month", "required"),
        ({"month": "2026-13"}, "month", "YYYY-MM"),
        ({"month": "11-2026"}, "month", "YYYY-MM"),
        ({"month": "1999-12"}, "month", "from 2000-01 on"),
        ({"month": f"{FUTURE:%Y-%m}"}, "month", "has not begun"),
        ({"month": MONTH, "by": "sku"}, "by", "rule, category, warehouse"),
        ({"month": MONTH, "sort": "x"}, "sort", "Unknown field"),
    ],
)
def test_bad_input_is_a_400_saying_what_to_send(world, params, field, says) -> None:
    problem = error(kpis(world, **params), 400)
    assert problem["code"] == "validation_error"
    assert says in " ".join(problem["fields"][field])


def test_partners_are_refused_and_another_tenant_is_404(world, other_world) -> None:
    for kind in ("supplier", "distributor", "erp"):
        assert error(kpis(world, caller=world.caller(kind), month=MONTH), 403)["code"] == "permission_denied"
        listing = world.caller(kind).client.get(url(world, "kpis/reports/"))
        assert listing.status_code == 403
    assert ok(kpis(world, caller=world.analyst, month=MONTH))["month"] == MONTH
    foreign = world.admin.client.get(f"/api/v1/tenants/{other_world.tenant.slug}/kpis/", {"month": MONTH})
    assert error(foreign, 404)["code"] == "not_found"
    kpis_month_close()
    assert error(other_world.admin.client.get(url(world, f"kpis/reports/{MONTH}/")), 404)["code"] == "not_found"
    assert error(world.admin.client.get(url(world, "kpis/reports/1999-01/")), 404)["code"] == "not_found"
    assert error(world.admin.client.get(url(world, "kpis/reports/soon/")), 404)["code"] == "not_found"


def test_closing_the_month_stores_it_once_emits_one_event_and_downloads_as_csv(month, receiver) -> None:
    world = month
    subscription = {"url": receiver.url, "event_types": ["kpi.monthly_report"]}
    endpoint = ok(world.admin.client.post(url(world, "webhook-endpoints/"), subscription, format="json"), 201)
    # The ERP sees what staff see elsewhere, but the KPIs are the staff's own (as kpis/ is): not told.
    ok(world.erp.client.post(url(world, "webhook-endpoints/"), subscription, format="json"), 201)
    figures = ok(kpis(world, month=MONTH))["overall"]
    before = ok(kpis(world, month=f"{M - timedelta(days=1):%Y-%m}"))["overall"]
    assert kpis_month_close() >= 1
    assert kpis_month_close() == 0  # closed already: nothing written, nothing sent
    (report,) = KpiMonthlyReport.objects.filter(tenant=world.tenant)
    assert (report.month, report.figures, report.previous) == (M, figures, before)
    (event,) = OutboxEvent.objects.filter(tenant=world.tenant, type="kpi.monthly_report")
    assert (event.staff_only, event.partner_payloads) == (True, {})
    assert event.data["figures"] == figures
    assert event.data["previous"] == before
    assert before["false_alarm_rate"] is None  # nothing closed the month before
    assert event.data["changes"]["false_alarm_rate"] is None
    assert event.data["changes"]["stock_out_days"] == figures["stock_out_days"] - before["stock_out_days"]

    # Through the outbox to the tenant's endpoint, signed.
    webhooks_relay()
    (delivery,) = Delivery.objects.filter(tenant=world.tenant)
    assert delivery.endpoint_id == UUID(endpoint["id"])
    webhooks_deliver(str(delivery.pk))
    (request,) = receiver.requests
    delivered = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert delivered["type"] == "kpi.monthly_report"
    assert delivered["data"]["month"] == MONTH
    assert delivered["data"]["figures"] == json.loads(json.dumps(figures))

    listed = ok(world.analyst.client.get(url(world, "kpis/reports/")))["results"]
    assert [(item["month"], item["figures"]) for item in listed] == [(MONTH, figures)]
    detail = ok(world.admin.client.get(url(world, f"kpis/reports/{MONTH}/")))
    assert (detail["previous"], detail["changes"]["stock_out_days"]) == (before, 6 - before["stock_out_days"])

    for download in (
        world.admin.client.get(url(world, f"kpis/reports/{MONTH}/"), {"format": "csv"}),
        world.admin.client.get(url(world, f"kpis/reports/{MONTH}.csv")),
    ):
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(download.content.decode())))
        assert lines[0] == ["figure", MONTH, "previous", "change"]
        rows = {line[0]: line[1:] for line in lines[1:]}
        assert rows["false_alarm_rate"][0] == "0.6667"
        month_days, before_days, change = rows["stock_out_days"]
        assert (int(month_days), int(before_days), float(change)) == (
            6,
            before["stock_out_days"],
            6 - before["stock_out_days"],
        )
        assert rows["time_to_act_hours.median"][0] == "27.0"
        assert rows["overstock_value_held"][0] == "180.00"
        assert rows["replay"] == ["", "", ""]


def test_the_report_event_cannot_be_sent_beyond_the_tenants_own_endpoints(db, world) -> None:
    data = {"month": MONTH}
    for widened in ({"staff_only": False}, {"staff_only": True, "partner_payloads": {"erp": data}}):
        with pytest.raises(ValueError, match="tenant's own endpoints only"):
            outbox_emit([Event(tenant_id=world.tenant.pk, type="kpi.monthly_report", data=data, **widened)])


def test_reports_list_latest_first_each_compared_with_the_one_reported_before(world) -> None:
    earlier = (M - timedelta(days=1)).replace(day=1)
    first, created = kpi_month_close(tenant=world.tenant, month=earlier)
    assert created
    KpiMonthlyReport.objects.filter(pk=first.pk).update(figures={**first.figures, "stock_out_days": 4})
    report, created = kpi_month_close(tenant=world.tenant, month=M)
    assert created
    assert report.previous["stock_out_days"] == 4  # the month before as it was reported
    listed = ok(world.admin.client.get(url(world, "kpis/reports/")))["results"]
    assert [item["month"] for item in listed] == [MONTH, f"{earlier:%Y-%m}"]
    assert listed[0]["changes"]["stock_out_days"] == report.figures["stock_out_days"] - 4
    with pytest.raises(ValidationError, match="has not ended"):
        kpi_month_close(tenant=world.tenant, month=TODAY)
    assert kpi_month_close(tenant=world.tenant, month=M) == (report, False)


def test_the_close_is_on_the_beat_schedule_every_day_so_the_1st_and_any_missed_day() -> None:
    (entry,) = [entry for entry in app.conf.beat_schedule.values() if entry["task"] == "tripline.kpis.month_close"]
    schedule = entry["schedule"]
    assert 1 in schedule.day_of_month
    assert len(schedule.day_of_month) == 31  # every day of the month
    assert (schedule.hour, schedule.minute) == ({1}, {30})
