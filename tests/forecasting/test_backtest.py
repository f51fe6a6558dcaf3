"""The forecast backtest through its command and the forecast-accuracy/ endpoint."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.forecasting.views import ForecastAccuracyView
from core.access.registry import partner_kinds
from tests.support.ingest import push_rows, ts

pytestmark = pytest.mark.django_db(transaction=False)

HISTORY_DAYS = 100


def _tiny_shop(world) -> None:
    """Three positions without supplier offers (lead time: the policy default, 14 days, so the horizon
    is 21 days). A and B are stocked far beyond their sales: A sells 4 a day throughout, B 2 a day
    until 30 days ago and 6 a day since. C sells 5 a day from 450 units, which run out at the end of
    the day 11 days ago: from then on it is out of stock (censored days)."""
    slug = world.tenant.slug
    push_rows(world.admin, slug, "warehouses", [{"code": "W", "name": "W", "region": "r", "kind": "store"}])
    skus = [{"code": c, "name": c, "category": "snacks", "unit_cost": "1", "list_price": "2"} for c in "ABC"]
    assert push_rows(world.admin, slug, "skus", skus).status_code == 201
    rows = [
        {"kind": "receipt", "sku": c, "warehouse": "W", "quantity": q, "occurred_at": ts(HISTORY_DAYS + 1)}
        for c, q in (("A", 5000), ("B", 5000), ("C", 450))
    ]
    for day in range(1, HISTORY_DAYS + 1):
        for code, quantity in (("A", 4), ("B", 6 if day <= 30 else 2), ("C", 5 if day >= 11 else 0)):
            if not quantity:
                continue
            rows.append(
                {
                    "kind": "sale",
                    "sku": code,
                    "warehouse": "W",
                    "quantity": quantity,
                    "occurred_at": ts(day),
                    "external_ref": f"{code}-{day}",
                    "unit_price": "2",
                }
            )
    for row in rows[:3]:
        row["external_ref"] = f"in-{row['sku']}"
    assert push_rows(world.admin, slug, "movements", rows).status_code == 201


def test_command_reports_the_moving_average_errors_worked_out_by_hand(world) -> None:
    _tiny_shop(world)
    out = StringIO()
    call_command("forecast_backtest", tenant=world.tenant.slug, origins=2, stdout=out)
    report = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecast-accuracy/").json()["report"]
    # The world's own position (one receipt, no sale) has nothing to compare; A and B, 2 origins each.
    # Origin 1 forecasts the last 21 days (B sold 6 a day), from the 28 days before: 9 days at 6 and
    # 19 at 2, 92/28 a day. Origin 2, a week earlier: 21 days at 6, from 2 days at 6 and 26 at 2,
    # 64/28. A's moving average is exact. Absolute errors: 21·(6 - 92/28) + 21·(6 - 64/28) = 57 + 78
    # = 135, all under-forecast. C's moving average (5) is exact on the days it had stock; its days
    # from 11 days ago on are out of stock and left out (read as its zero sales, they would add
    # 5 a day of error): observed 10 days of origin 1's horizon (21 to 12 days ago) and 17 of origin
    # 2's (28 to 12). Units: A 2·21·4 + B 2·21·6 + C 27·5 = 555.
    moving_average = report["overall"]["moving_average_28"]
    assert moving_average["units"] == 555
    assert moving_average["observed_days"] == 4 * 21 + 27
    assert moving_average["wape"] == pytest.approx(135 / 555, abs=1e-4)
    assert moving_average["bias"] == pytest.approx(-135 / 555, abs=1e-4)
    # The seasonal naive repeats the week before the origin: A exact; B's sold 6 a day at origin 1
    # (no error) and, at origin 2, 6 on 2 days and 2 on 5: each forecast week is 5·4 short, 3 weeks.
    # C's last week before each origin sold 5 a day: exact where observed.
    naive = report["overall"]["seasonal_naive_7"]
    assert naive["wape"] == pytest.approx(60 / 555, abs=1e-4)
    assert naive["bias"] == pytest.approx(-60 / 555, abs=1e-4)
    assert set(report["overall"]) == {"forecast", "moving_average_28", "seasonal_naive_7"}
    assert report["by_velocity_class"]
    assert report["by_demand_class"]
    assert "excluded" in report["censored"]
    assert report["inventory_replay"]["overall"]["moving_average"]["fill_rate"] is not None
    printed = out.getvalue()
    assert "moving_average_28" in printed
    assert "inventory replay" in printed
    assert f"{135 / 555:.3f}" in printed


@pytest.mark.parametrize("origins", [0, -3])
def test_bad_origins_is_a_clear_command_error(world, origins: int) -> None:
    with pytest.raises(CommandError, match="--origins must be a positive number"):
        call_command("forecast_backtest", tenant=world.tenant.slug, origins=origins)


def test_unknown_tenant_is_a_command_error(world) -> None:
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("forecast_backtest", tenant="nope", origins=1)


def test_without_a_run_the_endpoint_says_to_run_the_command(world) -> None:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecast-accuracy/")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "manage.py forecast_backtest" in error["message"]


ROLES = ["admin", "planner", "analyst"]


@pytest.mark.parametrize("access", ROLES + [kind.value for kind in partner_kinds()])
def test_staff_and_the_erp_read_the_report_other_partners_are_refused(world, access: str) -> None:
    call_command("forecast_backtest", tenant=world.tenant.slug, origins=1, stdout=StringIO())
    response = world.caller(access).client.get(f"/api/v1/tenants/{world.tenant.slug}/forecast-accuracy/")
    if access in ROLES or access == "erp":
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["parameters"]["origins"] == 1
        assert body["report"]["origins"] == 1
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert ForecastAccuracyView.allowed("GET", access) == (response.status_code == 200)


def test_another_tenants_report_is_404(world, other_world) -> None:
    call_command("forecast_backtest", tenant=other_world.tenant.slug, origins=1, stdout=StringIO())
    response = world.admin.client.get(f"/api/v1/tenants/{other_world.tenant.slug}/forecast-accuracy/")
    assert response.status_code == 404
    # And the caller's own tenant has none of the other's report.
    assert world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/forecast-accuracy/").status_code == 404
