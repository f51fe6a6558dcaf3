"""The tuner through its API and its task: settings, a run on demand, the daily run reading replayed
outcomes, and planners' feedback read from the alerts' timelines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.inventory.models import Category
from core.quality.models import TuningProposal
from core.quality.tuner_evidence import FALSE, TOO_LATE, TRUE, verdicts_from_feedback
from tests.support.calls import error, evaluate, ok, pushed, url
from tests.support.ingest import ts
from tests.support.tuning import tuning_shop
from workers.tasks.tuning import tuning_run, tuning_sweep

pytestmark = pytest.mark.django_db


def _settings(world, caller=None):
    return (caller or world.admin).client.get(url(world, "tuning/settings/"))


def _set(world, body: dict, caller=None):
    return (caller or world.admin).client.patch(url(world, "tuning/settings/"), body, format="json")


def test_settings_default_off_admins_set_them_staff_read_partners_do_not(world, other_world) -> None:
    assert ok(_settings(world, world.analyst)) | {"updated_at": None} == {
        "mode": "off",
        "cooldown_days": 14,
        "updated_at": None,
    }
    assert ok(_set(world, {"mode": "propose", "cooldown_days": 7}))["mode"] == "propose"
    assert ok(_settings(world))["cooldown_days"] == 7
    assert _set(world, {"mode": "auto"}, world.planner).status_code == 403
    assert set(error(_set(world, {"mode": "sometimes"}), 400)["fields"]) == {"mode"}
    assert set(error(_set(world, {"cooldown_days": 0}), 400)["fields"]) == {"cooldown_days"}
    assert set(error(_set(world, {"colour": "red"}), 400)["fields"]) == {"colour"}
    for kind, partner in world.partners.items():
        assert _settings(world, partner).status_code == 403, kind
    assert ok(_settings(other_world, other_world.admin))["mode"] == "off"  # the other tenant's own


def test_a_run_on_demand_needs_the_tuner_on(world) -> None:
    runs = url(world, "tuning/runs/")
    assert set(error(world.planner.client.post(runs, {}, format="json"), 400)["fields"]) == {"mode"}
    ok(_set(world, {"mode": "propose"}))
    started = ok(world.planner.client.post(runs, {}, format="json"), 202)
    assert started["mode"] == "propose"
    assert world.analyst.client.post(runs, {}, format="json").status_code == 403
    assert world.erp.client.post(runs, {}, format="json").status_code == 403


def test_the_daily_run_reads_replayed_outcomes_and_proposes_where_they_say(world) -> None:
    tuned = tuning_shop(world)
    assert tuning_run(str(tuned.tenant.pk)) == 0  # off
    ok(_set(tuned, {"mode": "propose"}))
    assert tuning_sweep() == 1  # one tenant whose tuner is on (the request to the broker is sent)
    made = tuning_run(str(tuned.tenant.pk))
    proposals = ok(tuned.admin.client.get(url(tuned, "tuning/proposals/"), {"rule": "stock_out_risk"}))["results"]
    assert made == len(proposals) >= 1
    # The ledger's own labels: the stalled positions' alerts were false, the sold-out ones true; the
    # "ok" category's step passes its shadow replay, the "bad" one loses a warned stock-out.
    by_category = {proposal["category"]: proposal for proposal in proposals if proposal["scope"] == "category"}
    assert by_category["ok"]["status"] == "pending"
    assert by_category["ok"]["evidence"]["sources"]["replay"] >= 9
    assert by_category["ok"]["evidence"]["counts"]["false"] == 8
    assert by_category["bad"]["status"] == "refused"
    assert ok(tuned.admin.client.get(url(tuned, "tuning/proposals/"), {"status": "pending"}))["results"] == [
        by_category["ok"]
    ]
    # Run again the same day: everything stepped rests.
    assert tuning_run(str(tuned.tenant.pk)) == 0
    assert TuningProposal.objects.filter(tenant=tuned.tenant).count() == made


def test_planners_feedback_is_read_from_the_timeline(shop) -> None:
    # Overstock on S (100 received 200 days ago, 10 sold) and on T; one dismissed, one acknowledged.
    pushed(shop, "skus", [{"code": "T", "name": "T", "category": "C", "unit_cost": "1", "list_price": "2"}])
    rows = []
    for sku in ("S", "T"):
        rows += [
            {"kind": "receipt", "sku": sku, "warehouse": "W", "quantity": 100, "occurred_at": ts(200)},
            {"kind": "sale", "sku": sku, "warehouse": "W", "quantity": 10, "occurred_at": ts(44)},
        ]
    pushed(shop, "movements", [{**row, "external_ref": f"f-{n}"} for n, row in enumerate(rows)])
    evaluate(shop)
    alerts = {
        alert["sku"]: alert
        for alert in ok(shop.admin.client.get(url(shop, "alerts/"), {"rule": "overstock"}))["results"]
    }
    act = "alerts/{}/{}/"
    ok(
        shop.planner.client.post(
            url(shop, act.format(alerts["S"]["id"], "dismiss")), {"reason": "false_alarm"}, format="json"
        )
    )
    ok(shop.planner.client.post(url(shop, act.format(alerts["T"]["id"], "acknowledge")), {}, format="json"))
    ok(
        shop.planner.client.post(
            url(shop, act.format(alerts["T"]["id"], "dismiss")), {"reason": "too_late"}, format="json"
        )
    )

    now = timezone.now()
    verdicts = verdicts_from_feedback(tenant=shop.tenant, since=now - timedelta(days=90), until=now)
    assert sorted((v.rule, v.verdict) for v in verdicts) == [("overstock", FALSE), ("overstock", TOO_LATE)]
    # An acknowledged alert nobody dismissed is a confirmation.
    pushed(shop, "skus", [{"code": "U", "name": "U", "category": "C", "unit_cost": "1", "list_price": "2"}])
    pushed(
        shop,
        "movements",
        [
            {
                "kind": "receipt",
                "sku": "U",
                "warehouse": "W",
                "quantity": 100,
                "occurred_at": ts(200),
                "external_ref": "u",
            }
        ],
    )
    evaluate(shop)
    (fresh,) = ok(shop.admin.client.get(url(shop, "alerts/"), {"rule": "overstock", "sku": "U"}))["results"]
    ok(shop.planner.client.post(url(shop, act.format(fresh["id"], "acknowledge")), {}, format="json"))
    now = timezone.now()
    verdicts = verdicts_from_feedback(tenant=shop.tenant, since=now - timedelta(days=90), until=now)
    assert sorted(v.verdict for v in verdicts) == sorted([FALSE, TOO_LATE, TRUE])
    assert {v.category_id for v in verdicts} == {Category.objects.get(tenant=shop.tenant, code="C").pk}
