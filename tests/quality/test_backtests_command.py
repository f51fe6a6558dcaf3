"""``manage.py warnings_backtest``: the stored backtest, its table per rule and grade on stdout, the
report as JSON, and bad input stopped with what to send (nothing stored)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from core.quality.models import WarningBacktest
from tests.support.backtests import backtest_command
from tests.support.calls import ok, url
from tests.support.histories import sku_with_history, weekly

TODAY = timezone.now().date()


def _days(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def test_the_command_stores_the_backtest_and_prints_a_table_per_rule_and_grade(world) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    out = backtest_command(world, day_from=_days(40), day_to=_days(1), label="by hand")

    backtest = WarningBacktest.objects.get(tenant=world.tenant)
    assert (backtest.status, backtest.label, backtest.requested_by) == (
        "succeeded",
        "by hand",
        "command:warnings_backtest",
    )
    assert backtest.days_done == backtest.days_total == 40
    report = backtest.report
    lines = out.splitlines()
    assert lines[0].startswith(f"Backtest {backtest.pk} of {world.tenant.slug}: {_days(40)} to {_days(1)} (40 days)")
    assert f"warning-backtests/{backtest.pk}/" in lines[0]
    header = next(line for line in lines if line.startswith("group"))
    for title in ("alerts", "precision", "recall", "lead p50", "lead p10", "actionable", "flapping"):
        assert title in header
    # One row per rule and per grade of the report, each with its alert count first.
    for group in ("by_rule", "by_grade"):
        for name, figures in report[group].items():
            row = next(line for line in lines if line.split() and line.split()[0] == name)
            assert row.split()[1] == str(figures["alerts"])
    overall = next(line for line in lines if line.startswith("all "))
    assert overall.split()[1] == str(report["overall"]["alerts"])
    # The API shows the same stored backtest.
    detail = ok(world.admin.client.get(url(world, f"warning-backtests/{backtest.pk}/")))
    assert detail["report"] == json.loads(json.dumps(report))


def test_json_prints_the_stored_report(world) -> None:
    sku_with_history(world, "SKU-WEEKLY", weekly())
    printed = json.loads(backtest_command(world, day_from=_days(20), day_to=_days(1), as_json=True))
    backtest = WarningBacktest.objects.get(tenant=world.tenant)
    assert printed.pop("id") == str(backtest.pk)
    assert printed.pop("label") == ""
    assert printed == json.loads(json.dumps(backtest.report))


@pytest.mark.parametrize(
    ("day_from", "day_to", "says"),
    [
        (_days(1), _days(2), "--to: The period is reversed"),
        (_days(10), _days(1), f"--from: {_days(10)} is before the tenant's ledger starts ({_days(3)})"),
        (_days(2), _days(-3), f"--to: {_days(-3)} is after today"),
        (_days(500), _days(1), "--from: The period spans 500 days"),
        ("2026-02-30", _days(1), "Expected a day as YYYY-MM-DD, not '2026-02-30'"),
    ],
)
def test_bad_periods_stop_the_command_saying_what_to_send(world, day_from: str, day_to: str, says: str) -> None:
    with pytest.raises(CommandError, match=says.replace("(", r"\(").replace(")", r"\)")):
        backtest_command(world, day_from=day_from, day_to=day_to)
    assert not WarningBacktest.objects.exists()


def test_the_setting_bounds_the_command_too_and_an_unknown_tenant_is_named(world) -> None:
    with override_settings(QUALITY_BACKTEST_MAX_DAYS=2), pytest.raises(CommandError, match="at most 2"):
        backtest_command(world, day_from=_days(3), day_to=_days(1))
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("warnings_backtest", tenant="nope", day_from=_days(3), day_to=_days(1), stdout=StringIO())
    assert not WarningBacktest.objects.exists()


def test_progress_goes_to_stderr_day_by_tenth_when_it_is_no_terminal(world) -> None:
    out, err = StringIO(), StringIO()
    call_command(
        "warnings_backtest", tenant=world.tenant.slug, day_from=_days(3), day_to=_days(0), stdout=out, stderr=err
    )
    lines = err.getvalue().splitlines()
    assert lines[-1] == f"Replayed 4 of 4 days of {world.tenant.slug}."
    assert all(line.startswith("Replayed ") for line in lines)
    assert "Replayed" not in out.getvalue()


def test_policies_other_than_in_force_or_current_stop_the_command(world) -> None:
    with pytest.raises(CommandError, match="--policies: One of: in_force, current"):
        backtest_command(world, day_from=_days(3), day_to=_days(1), policies="strict")
    assert not WarningBacktest.objects.exists()
