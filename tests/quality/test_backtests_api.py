"""warning-backtests/ over HTTP: what starting one refuses and why, who may see them, another
tenant's ids, the list, and the comparison of two backtests the command stored.

The world's ledger starts 3 days ago (its one receipt); ``sku_with_history`` takes it back 121 days.
No worker runs here: a started backtest stays queued (its task is sent on commit, never reached).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.access.registry import partner_kinds
from core.quality.models import WarningBacktest
from tests.support.backtests import backtest_command
from tests.support.calls import error, ok, pushed, url
from tests.support.histories import sku_with_history, weekly
from tests.support.ingest import ts

TODAY = timezone.now().date()


def _days(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _start(caller, world, body: dict):
    return caller.client.post(url(world, "warning-backtests/"), body, format="json")


def _stored(world, *, day_from: str, day_to: str, label: str, **options: object) -> str:
    """A backtest replayed and stored by the command; its id."""
    backtest_command(world, day_from=day_from, day_to=day_to, label=label, **options)
    return str(WarningBacktest.objects.get(tenant=world.tenant, label=label).pk)


# --- Starting one -----------------------------------------------------------------------------------


def test_a_planner_starts_a_backtest_and_gets_it_back_queued_with_its_progress(world) -> None:
    body = ok(_start(world.planner, world, {"day_from": _days(3), "day_to": _days(0), "label": "first"}), 202)
    assert body["status"] == "queued"
    assert (body["day_from"], body["day_to"], body["label"]) == (_days(3), _days(0), "first")
    assert (body["days_total"], body["days_done"], body["progress"]) == (4, 0, 0.0)
    assert body["requested_by"] == f"user:{world.planner.user.username} key:{world.planner.key.prefix}"
    detail = ok(world.analyst.client.get(url(world, f"warning-backtests/{body['id']}/")))
    assert detail["report"] == {}
    assert detail["status"] == "queued"


def test_a_reversed_period_is_refused_saying_what_to_send(world) -> None:
    found = error(_start(world.admin, world, {"day_from": _days(1), "day_to": _days(2)}), 400)
    assert found["code"] == "validation_error"
    assert "reversed" in found["fields"]["day_to"][0]
    assert "send a day_to on or after day_from" in found["fields"]["day_to"][0]
    assert not WarningBacktest.objects.exists()


def test_a_period_before_the_ledger_starts_is_refused_naming_its_first_day(world) -> None:
    found = error(_start(world.admin, world, {"day_from": _days(10), "day_to": _days(1)}), 400)
    assert f"send a day_from on or after {_days(3)}" in found["fields"]["day_from"][0]
    assert not WarningBacktest.objects.exists()


def test_a_period_reaching_after_today_is_refused(world) -> None:
    found = error(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(-1)}), 400)
    assert f"on or before {TODAY}" in found["fields"]["day_to"][0]
    assert not WarningBacktest.objects.exists()


def test_a_period_longer_than_the_setting_is_refused_with_a_day_from_that_fits(world) -> None:
    sku_with_history(world, "SKU-OLD", weekly(60))
    with override_settings(QUALITY_BACKTEST_MAX_DAYS=30):
        found = error(_start(world.admin, world, {"day_from": _days(40), "day_to": _days(1)}), 400)
        assert "spans 40 days" in found["fields"]["day_from"][0]
        assert f"day_from {_days(30)}" in found["fields"]["day_from"][0]
        assert "QUALITY_BACKTEST_MAX_DAYS" in found["fields"]["day_from"][0]
        ok(_start(world.admin, world, {"day_from": _days(30), "day_to": _days(1)}), 202)  # what it said to send
    # The default maximum, 400 days, whatever the ledger holds.
    found = error(_start(world.admin, world, {"day_from": _days(500), "day_to": _days(0)}), 400)
    assert "spans 501 days" in found["fields"]["day_from"][0]
    assert WarningBacktest.objects.count() == 1


def test_an_empty_ledger_is_refused_saying_to_push_movements_first(world) -> None:
    from core.inventory.models import DailyFact

    DailyFact.objects.filter(tenant=world.tenant).delete()
    found = error(_start(world.admin, world, {"day_from": _days(1), "day_to": _days(0)}), 400)
    assert "push movements" in found["fields"]["day_from"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day_to": _days(0)}, "day_from"),
        ({"day_from": _days(1)}, "day_to"),
        ({"day_from": "2026-13-01", "day_to": _days(0)}, "day_from"),
        ({"day_from": "yesterday", "day_to": _days(0)}, "day_from"),
        ({"day_from": 20260101, "day_to": _days(0)}, "day_from"),
        ({"day_from": _days(1), "day_to": _days(0), "label": "x" * 201}, "label"),
        ({"day_from": _days(1), "day_to": _days(0), "policy": "strict"}, "policy"),
    ],
)
def test_missing_malformed_or_unknown_fields_are_400_naming_the_field(world, body: dict, field: str) -> None:
    found = error(_start(world.admin, world, body), 400)
    assert field in found["fields"]
    assert not WarningBacktest.objects.exists()


# --- Who may ------------------------------------------------------------------------------------------


def test_every_partner_kind_is_refused_every_backtest_endpoint(world) -> None:
    backtest = ok(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(1)}), 202)["id"]
    for kind in partner_kinds():
        client = world.caller(str(kind)).client
        for response in (
            client.get(url(world, "warning-backtests/")),
            _start(world.caller(str(kind)), world, {"day_from": _days(2), "day_to": _days(1)}),
            client.get(url(world, f"warning-backtests/{backtest}/")),
            client.get(url(world, f"warning-backtests/{backtest}/compare/?with={backtest}")),
        ):
            assert error(response, 403)["code"] == "permission_denied", kind
    assert WarningBacktest.objects.count() == 1


def test_an_analyst_reads_backtests_but_does_not_start_one(world) -> None:
    assert error(_start(world.analyst, world, {"day_from": _days(2), "day_to": _days(1)}), 403)
    ok(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(1)}), 202)
    assert len(ok(world.analyst.client.get(url(world, "warning-backtests/")))["results"]) == 1


def test_another_tenants_backtest_is_404_in_every_place_an_id_goes(world, other_world) -> None:
    own = ok(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(1)}), 202)["id"]
    foreign = ok(_start(other_world.admin, other_world, {"day_from": _days(2), "day_to": _days(1)}), 202)["id"]
    client = world.admin.client
    assert error(client.get(url(world, f"warning-backtests/{foreign}/")), 404)["code"] == "not_found"
    assert error(client.get(url(world, f"warning-backtests/{foreign}/compare/?with={own}")), 404)
    assert error(client.get(url(world, f"warning-backtests/{own}/compare/?with={foreign}")), 404)
    assert [row["id"] for row in ok(client.get(url(world, "warning-backtests/")))["results"]] == [own]
    # A tenant's slug with another's staff is 404 too.
    assert error(other_world.admin.client.get(url(world, f"warning-backtests/{own}/")), 404)


def test_the_list_pages_with_a_cursor_oldest_first(world) -> None:
    started = [
        ok(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(1), "label": f"n{i}"}), 202)["id"]
        for i in range(3)
    ]
    first = ok(world.admin.client.get(url(world, "warning-backtests/?page_size=2")))
    second = ok(world.admin.client.get(first["next"]))
    assert [row["id"] for row in first["results"] + second["results"]] == started
    assert second["next"] is None
    assert ok(world.admin.client.get(url(world, "warning-backtests/?status=succeeded")))["results"] == []


# --- Comparing two --------------------------------------------------------------------------------------


def test_two_stored_backtests_compare_side_by_side_with_the_differences(world) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    base = _stored(world, day_from=_days(30), day_to=_days(1), label="base")
    other = _stored(world, day_from=_days(60), day_to=_days(1), label="longer")
    reports = {str(b.pk): b.report for b in WarningBacktest.objects.filter(tenant=world.tenant)}

    body = ok(world.analyst.client.get(url(world, f"warning-backtests/{base}/compare/?with={other}")))
    assert (body["base"]["id"], body["other"]["id"]) == (base, other)
    assert body["same_period"] is False
    assert "different periods" in body["note"]
    for name in ("alerts", "episodes", "precision", "recall", "lead_time_median"):
        pair = body["overall"][name]
        assert pair["base"] == reports[base]["overall"][name]
        assert pair["other"] == reports[other]["overall"][name]
        if pair["base"] is not None and pair["other"] is not None:
            assert pair["difference"] == pytest.approx(pair["other"] - pair["base"], abs=1e-4)
        else:
            assert pair["difference"] is None
    assert set(body["by_rule"]) == set(reports[base]["by_rule"]) | set(reports[other]["by_rule"])
    assert set(body["by_grade"]) == set(reports[base]["by_grade"]) | set(reports[other]["by_grade"])

    same = ok(world.admin.client.get(url(world, f"warning-backtests/{base}/compare/?with={base}")))
    assert same["same_period"] is True
    assert same["note"] == ""
    assert all(pair["difference"] in (0, None) for pair in same["overall"].values())


def test_comparing_needs_a_with_id_and_a_report_on_both_sides(world) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    done = _stored(world, day_from=_days(10), day_to=_days(1), label="done")
    queued = ok(_start(world.admin, world, {"day_from": _days(10), "day_to": _days(1)}), 202)["id"]
    client = world.admin.client
    assert "with" in error(client.get(url(world, f"warning-backtests/{done}/compare/")), 400)["fields"]
    assert "with" in error(client.get(url(world, f"warning-backtests/{done}/compare/?with=nope")), 400)["fields"]
    conflict = error(client.get(url(world, f"warning-backtests/{done}/compare/?with={queued}")), 409)
    assert "queued" in conflict["message"]
    assert "once it has succeeded" in conflict["message"]


def test_two_policy_sets_replayed_on_one_period_compare_rule_by_rule(world) -> None:
    # Stale stock: 50 received 200 days ago, never sold; the overstock rule trips on every day.
    pushed(
        world,
        "skus",
        [{"code": "SKU-STALE", "name": "Stale", "category": "snacks", "unit_cost": "1", "list_price": "2"}],
    )
    receipt = {"kind": "receipt", "sku": "SKU-STALE", "warehouse": "WH-1", "quantity": 50, "external_ref": "stale"}
    pushed(world, "movements", [{**receipt, "occurred_at": ts(200)}])
    period = {"day_from": _days(30), "day_to": _days(1)}
    base = _stored(world, **period, label="defaults", policies="current")
    ok(
        world.admin.client.post(url(world, "alert-policies/"), {"rule": "overstock", "enabled": False}, format="json"),
        201,
    )
    other = _stored(world, **period, label="overstock off", policies="current")

    body = ok(world.admin.client.get(url(world, f"warning-backtests/{base}/compare/?with={other}")))
    assert body["same_period"] is True
    assert body["base"]["policies"] == {"use": "current", "policies": []}
    assert [(p["rule"], p["enabled"]) for p in body["other"]["policies"]["policies"]] == [("overstock", False)]
    overstock = body["by_rule"]["overstock"]["alerts"]
    assert overstock["base"] >= 1
    assert overstock["other"] == 0  # the rule raised nothing: the report leaves it out, the comparison counts 0
    assert overstock["difference"] == -overstock["base"]
    assert body["by_rule"]["overstock"]["precision"]["other"] is None
    assert body["overall"]["alerts"]["difference"] == -overstock["base"]
    stored = WarningBacktest.objects.get(pk=other)
    assert stored.report["policies"] == "the tenant's policies as the replay started, on every day"


def test_policies_other_than_in_force_or_current_are_refused(world) -> None:
    found = error(_start(world.admin, world, {"day_from": _days(2), "day_to": _days(1), "policies": "strict"}), 400)
    assert "in_force" in found["fields"]["policies"][0]
    assert not WarningBacktest.objects.exists()
