"""The replay's labels and metrics on hand-made ledgers pushed through ingestion.

Every SKU of the shop is received 700 units 100 days ago and sells 10 a day from the next day; the
tenant's stock-out policy gives SKUs without a supplier a 6-day lead time, so a position trips
stock_out_risk once its cover is below 6 days by at least the yellow band (10 %): on the day it ends
with 50 units (5 days of cover, deviation 1/6), not the day before (60 units, 6 days). Stock runs out
at the end of the day it reaches 0. Days are counted back from today: ``-35`` is 35 days ago.

- A: sells on to 0: warned on -35, out of stock from -30: lead time 5 (< its 6-day lead time).
- B: on -40 the rest of its stock goes in one sale: out of stock the day the alert opens: missed.
- C: warned on -35, a transfer in of 500 on -33: no stock-out in the window: averted.
- D: warned on -35, then stops selling with 50 on hand: no stock-out, no receipt: a false alarm.
- F: 700 received, 1 sold a day: overstock from the first day (-60); 60 days later (today) it has
  sold 60 of the 660 it held, at a pace of 660 days against the 180-day standard: a true overstock.
- G: 400 with a 20-day shelf life received on -70, 5 sold a day: on -60, 355 held expire in 10
  days and the 28-day rate (45 / 28 a day) sells 16 of them: expiry risk; by -50 it sold 50, not
  the 355: they expired: true.
- H: like D it is warned on -35 and then sells 2 a day, but a routine receipt of 100 comes on -33:
  the 50 it held outlast the window's 26 sales, so the receipt averted nothing: a false alarm.
- E: warned on -35, 20 received on -34 (cover 6: resolved), down to 50 again on -33 (reopened:
  flapping), out of stock from -28: warned 7 days ahead, at least its lead time: actionable.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from core.alerts.models import Alert, AlertEvent, IndicatorReading, RuleCode
from core.alerts.policies import PolicyBook
from core.inventory.models import Position
from core.procurement.models import Rfq
from core.quality import replay, responses
from core.quality.replay import warnings_replay
from core.webhooks.models import OutboxEvent
from tests.support.ingest import TODAY, ledger_line, push_accepted

pytestmark = pytest.mark.django_db

STOCK = 700
START = 100  # days ago of the receipt; sales from the day after


line = ledger_line


def selling(sku: str, *, until: int, extra: dict[int, list[tuple[str, int]]] | None = None) -> list[dict]:
    """The receipt, then 10 a day from START - 1 days ago through ``until`` days ago, stopping at 0,
    with ``extra`` lines on given days (before that day's sale)."""
    rows, stock = [line("receipt", sku, STOCK, START)], STOCK
    for days_ago in range(START - 1, until - 1, -1):
        for kind, quantity in (extra or {}).get(days_ago, []):
            rows.append(line(kind, sku, quantity, days_ago))
            stock += quantity if kind in ("receipt", "transfer_in") else -quantity
        sold = min(10, stock)
        if sold:
            rows.append(line("sale", sku, sold, days_ago))
            stock -= sold
    return rows


def slow(sku: str) -> list[dict]:
    """The receipt, then 1 a day: 600-odd units held against 1 sold a day is years of turnover."""
    return [line("receipt", sku, STOCK, START)] + [
        line("sale", sku, 1, days_ago) for days_ago in range(START - 1, 0, -1)
    ]


@pytest.fixture
def shop(world):
    slug = world.tenant.slug
    skus = ["A", "B", "C", "D", "E", "F", "G", "H"]
    push_accepted(
        world.admin,
        slug,
        "skus",
        [
            {"code": code, "name": code, "category": "snacks", "unit_cost": "1", "list_price": "2"}
            | ({"shelf_life_days": 20} if code == "G" else {})
            for code in skus
        ],
    )
    response = world.admin.client.post(
        f"/api/v1/tenants/{slug}/alert-policies/",
        {"rule": "stock_out_risk", "parameters": {"default_lead_time_days": 6}},
        format="json",
    )
    assert response.status_code == 201, response.content
    world.policy_id = response.json()["id"]
    rows = (
        selling("A", until=1)
        + selling("B", until=40, extra={40: [("sale", STOCK - 10 * 59)]})
        + selling("C", until=1, extra={33: [("transfer_in", 500)]})
        + selling("D", until=35)
        + selling("E", until=1, extra={34: [("receipt", 20)]})
        + slow("F")
        + [line("receipt", "G", 400, 70)]
        + [line("sale", "G", 5, days_ago) for days_ago in range(69, 0, -1)]
        + selling("H", until=35)
        + [line("receipt", "H", 100, 33)]
        + [line("sale", "H", 2, days_ago) for days_ago in range(34, 0, -1)]
    )
    push_accepted(world.admin, slug, "movements", rows)
    return world


def _positions(world) -> dict[str, int]:
    return dict(
        Position.objects.filter(tenant=world.tenant, sku__code__in=["A", "B", "C", "D", "E", "F", "G"]).values_list(
            "sku__code", "pk"
        )
    )


def _replay(world, position_ids: list[int] | None = None, **kwargs):
    # The fixture's policy is a version made today: by default a replay grades each past day with the
    # policies in force then (the built-in defaults); these ledgers are about today's policies.
    book = PolicyBook(world.tenant)
    kwargs.setdefault("policies", lambda day: book)
    return warnings_replay(
        tenant=world.tenant,
        day_from=TODAY - timedelta(days=60),
        day_to=TODAY - timedelta(days=1),
        position_ids=position_ids or list(_positions(world).values()),
        **kwargs,
    )


def _stock_out_alerts(result, position_id: int) -> list:
    return [a for a in result.alerts if a.position_id == position_id and a.rule == RuleCode.STOCK_OUT_RISK]


def test_labels_lead_time_recall_precision_averted_and_flapping(shop):
    world = shop
    ids = _positions(world)
    told = []
    result = _replay(world, progress=lambda done, total: told.append((done, total)))

    day = lambda days_ago: TODAY - timedelta(days=days_ago)  # noqa: E731
    (a,) = _stock_out_alerts(result, ids["A"])
    assert (a.opened_on, a.first_grade, a.outcome, a.lead_days) == (day(35), "yellow", "true", 5)
    assert a.lead_time_days == 6
    (episode_a,) = [e for e in result.episodes if e.position_id == ids["A"]]
    assert (episode_a.started_on, episode_a.warned, episode_a.lead_days) == (day(30), True, 5)
    assert episode_a.actionable is False  # 5 days of notice, 6 days of lead time

    (episode_b,) = [e for e in result.episodes if e.position_id == ids["B"]]
    assert (episode_b.started_on, episode_b.warned) == (day(40), False)

    (c,) = _stock_out_alerts(result, ids["C"])
    assert (c.opened_on, c.outcome, c.averted_by) == (day(35), "averted", "receipt or transfer in")
    assert not [e for e in result.episodes if e.position_id == ids["C"]]

    (d,) = _stock_out_alerts(result, ids["D"])
    assert (d.opened_on, d.outcome) == (day(35), "false")
    assert d.resolved_on is not None

    first, second = _stock_out_alerts(result, ids["E"])
    assert (first.opened_on, first.resolved_on, first.reopened_within_week) == (day(35), day(34), False)
    assert (second.opened_on, second.reopened_within_week) == (day(33), True)
    (episode_e,) = [e for e in result.episodes if e.position_id == ids["E"]]
    assert (episode_e.started_on, episode_e.lead_days, episode_e.actionable) == (day(28), 7, True)

    (f,) = [a for a in result.alerts if a.position_id == ids["F"] and a.rule == RuleCode.OVERSTOCK]
    assert (f.opened_on, f.outcome, f.outcome_on, f.resolved_on) == (day(60), "true", TODAY, None)

    (g,) = [a for a in result.alerts if a.position_id == ids["G"] and a.rule == RuleCode.EXPIRY_RISK]
    assert (g.opened_on, g.inputs["days_to_expiry"], g.outcome, g.outcome_on) == (day(60), 10, "true", day(50))

    report = result.report()
    assert report["by_rule"]["overstock"]["precision"] == 1.0
    figures = report["by_rule"]["stock_out_risk"]
    # True: A, B (opened the day it ran out), E twice; false: D; averted: C.
    assert (figures["true_alerts"], figures["false_alarms"], figures["averted"]) == (4, 1, 1)
    assert figures["precision"] == pytest.approx(4 / 5, abs=1e-4)
    assert (figures["episodes"], figures["warned"]) == (3, 2)
    assert figures["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["lead_time_median"] == 6.0  # of 5 and 7
    assert figures["actionable_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["flapping"] == 1
    assert report["overall"]["episodes"] == 3
    assert figures["alerts_per_planner_day"] == pytest.approx(6 / 60, abs=1e-4)  # the world has one planner
    assert report["by_category"]["snacks"]["episodes"] == 3
    assert told[-1] == (60, 60)
    assert [done for done, _ in told[:-1]] == list(range(1, 61))  # each day once, then the end


def test_a_routine_receipt_of_stock_that_outlasted_the_window_averts_nothing(shop):
    h = Position.objects.get(tenant=shop.tenant, sku__code="H").pk
    result = _replay(shop, position_ids=[h])
    (alert,) = _stock_out_alerts(result, h)
    assert (alert.opened_on, alert.outcome, alert.averted_by) == (TODAY - timedelta(days=35), "false", "")
    assert result.report()["by_rule"]["stock_out_risk"]["false_alarms"] == 1


def test_a_later_sale_does_not_change_an_earlier_day(shop):
    world = shop
    ids = _positions(world)
    before = _replay(world)
    push_accepted(world.admin, world.tenant.slug, "movements", [line("sale", "D", 50, 2)])
    after = _replay(world)

    def shown(result, last_day):
        return sorted(
            (a.position_id, a.rule, a.opened_on, a.first_grade, repr(a.inputs))
            for a in result.alerts
            if a.opened_on <= last_day
        )

    # D runs out 2 days ago: that day's trip is new, everything before it is as it was.
    last_before = TODAY - timedelta(days=3)
    assert shown(before, last_before) == shown(after, last_before)
    (episode,) = [e for e in after.episodes if e.position_id == ids["D"]]
    assert episode.started_on == TODAY - timedelta(days=2)


def test_the_replay_writes_nothing_of_the_live_tenant(shop):
    world = shop
    tables = (Alert, AlertEvent, IndicatorReading, OutboxEvent, Rfq)
    counted = [model.objects.count() for model in tables]
    result = _replay(world)
    assert result.alerts
    assert [model.objects.count() for model in tables] == counted


def test_each_day_is_graded_with_the_book_policies_gives(shop):
    world = shop
    ids = _positions(world)
    six_days = PolicyBook(world.tenant)
    response = world.admin.client.patch(
        f"/api/v1/tenants/{world.tenant.slug}/alert-policies/{world.policy_id}/",
        {"parameters": {"default_lead_time_days": 4}},
        format="json",
    )
    assert response.status_code == 200, response.content
    asked = []

    def book(day):
        asked.append(day)
        return six_days

    current = _replay(world)
    given = _replay(world, policies=book)

    # A 4-day lead time trips at 30 units (3 days of cover) on -33; the book's 6 days at 50 on -35.
    (now,) = _stock_out_alerts(current, ids["A"])
    (then,) = _stock_out_alerts(given, ids["A"])
    assert (now.opened_on, now.lead_days) == (TODAY - timedelta(days=33), 3)
    assert (then.opened_on, then.lead_days) == (TODAY - timedelta(days=35), 5)
    assert sorted(set(asked)) == [TODAY - timedelta(days=k) for k in range(60, 0, -1)]


@pytest.mark.django_db(transaction=True)
def test_chunks_replayed_side_by_side_give_what_one_after_another_gives(shop, monkeypatch):
    world = shop
    monkeypatch.setattr(replay, "CHUNK_POSITIONS", 2)  # the five positions in three chunks
    monkeypatch.setattr(replay.os, "cpu_count", lambda: 2)
    told = []
    side_by_side = _replay(world, progress=lambda done, total: told.append((done, total)))
    with transaction.atomic():  # inside a transaction the chunks run in this process, one after another
        one_by_one = _replay(world)

    assert side_by_side.alerts == one_by_one.alerts
    assert side_by_side.episodes == one_by_one.episodes
    assert len(side_by_side.episodes) == 3
    assert told[-1] == (60, 60)
    assert [done for done, _ in told] == sorted(done for done, _ in told)


def test_a_registered_response_averts_an_alert_and_the_report_says_so(shop, monkeypatch):
    world = shop
    ids = _positions(world)
    # A markdown accepted for D two days after its alert, as the playbooks would register it.
    at = f"{TODAY - timedelta(days=33)}T09:00:00Z"
    monkeypatch.setattr(responses, "_sources", dict(responses._sources))

    def markdowns(*, tenant: str) -> str:
        return (
            f"SELECT NULL::uuid AS alert_id, {ids['D']}::bigint AS position_id, 'markdown'::text AS kind, "
            f"'{at}'::timestamptz AS at"
        )

    responses.response_source_register("test_markdowns", markdowns)

    result = _replay(world)

    (d,) = _stock_out_alerts(result, ids["D"])
    assert (d.outcome, d.outcome_on, d.averted_by) == ("averted", TODAY - timedelta(days=33), "response: markdown")
    report = result.report()
    assert report["by_rule"]["stock_out_risk"]["false_alarms"] == 0
    assert report["averted_by"] == {"receipt or transfer in": 1, "response": 1}
