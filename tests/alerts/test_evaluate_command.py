"""``manage.py evaluate`` over the demo data set: the rules the data was built to trip, trip."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.alerts.models import Alert, EvaluationRun, IndicatorReading
from core.inventory.models import Position


def test_evaluate_grades_the_demo_data_set(db) -> None:
    call_command("seed_demo", "--scale", "small", "--tenant", "evaluated", stdout=io.StringIO())
    out = io.StringIO()
    call_command("evaluate", "--tenant", "evaluated", stdout=out, stderr=io.StringIO())
    positions = Position.objects.filter(tenant__slug="evaluated").count()
    assert f"evaluated: {positions} positions evaluated" in out.getvalue()
    assert IndicatorReading.objects.filter(tenant__slug="evaluated").count() == positions
    run = EvaluationRun.objects.get(tenant__slug="evaluated")
    assert (run.status, run.positions_done, run.trigger) == ("succeeded", positions, "manual")
    rules = set(Alert.objects.filter(tenant__slug="evaluated").values_list("rule", flat=True))
    # The generator plants flopped launches on short-dated stock, slow sellers and stock-outs.
    assert {"launch_check", "expiry_risk", "overstock", "stock_out_risk"} <= rules
    again = io.StringIO()
    call_command("evaluate", "--tenant", "evaluated", stdout=again, stderr=io.StringIO())
    assert "opened" not in again.getvalue()
    assert "unchanged" in again.getvalue()


def test_an_unknown_tenant_names_the_known_ones(world) -> None:
    with pytest.raises(CommandError, match=f"No tenant 'nope'. Known tenants: .*{world.tenant.slug}"):
        call_command("evaluate", "--tenant", "nope")
