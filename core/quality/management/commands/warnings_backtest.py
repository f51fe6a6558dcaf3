"""``manage.py warnings_backtest --tenant SLUG --from DAY --to DAY``: replay the warning engine over a
past period in this process, store the backtest (``warning-backtests/``) and print its figures per
rule and grade (or its whole report with ``--json``). Progress goes to stderr."""

import json
import sys
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.quality.backtests import IN_FORCE, POLICY_CHOICES, warning_backtest_run_inline
from tenants.commands import tenants_chosen

# (report key, column title, width): the columns of the table, in order.
_COLUMNS = (
    ("alerts", "alerts", 8),
    ("true_alerts", "true", 7),
    ("false_alarms", "false", 7),
    ("averted", "averted", 8),
    ("pending", "pending", 8),
    ("precision", "precision", 10),
    ("episodes", "episodes", 9),
    ("recall", "recall", 8),
    ("lead_time_median", "lead p50", 9),
    ("lead_time_p10", "lead p10", 9),
    ("actionable_share", "actionable", 11),
    ("alerts_per_planner_day", "per day", 9),
    ("flapping", "flapping", 9),
)
_OPTIONS = {"day_from": "--from", "day_to": "--to", "label": "--label", "policies": "--policies"}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Expected a day as YYYY-MM-DD, not {value!r}.") from None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


class Command(BaseCommand):
    help = "Replay the warning engine over a past period of a tenant, store the backtest and print its figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--from", dest="day_from", required=True, help="First day replayed (YYYY-MM-DD).")
        parser.add_argument("--to", dest="day_to", required=True, help="Last day replayed (YYYY-MM-DD), included.")
        parser.add_argument("--label", default="", help="A name to tell this backtest apart from others.")
        parser.add_argument(
            "--policies",
            choices=POLICY_CHOICES,
            default=IN_FORCE,
            help="in_force (default): each day with the policies in force that day; current: every day with the "
            "tenant's policies as they are now.",
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print the stored report as JSON instead of tables."
        )

    def handle(
        self,
        *args: object,
        tenant: str,
        day_from: str,
        day_to: str,
        label: str,
        policies: str,
        as_json: bool,
        **options: object,
    ) -> None:
        chosen = tenants_chosen(tenant).get()
        first, last = _day(day_from), _day(day_to)
        # tqdm draws with carriage returns, which Django's line-ending OutputWrapper would break.
        with tqdm(desc=f"Replaying {chosen.slug}", unit="day", file=sys.stderr, disable=None) as bar:
            told = {"tenths": -1}

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)
                # Not a terminal (a log, a pipe): a plain line at each tenth of the period instead of a bar.
                if bar.disable and total and (tenths := done * 10 // total) != told["tenths"]:
                    told["tenths"] = tenths
                    self.stderr.write(f"Replayed {done} of {total} days of {chosen.slug}.")

            try:
                backtest = warning_backtest_run_inline(
                    tenant=chosen,
                    actor="command:warnings_backtest",
                    day_from=first,
                    day_to=last,
                    label=label,
                    policies=policies,
                    progress=progress,
                )
            except ValidationError as invalid:
                messages = [
                    f"{_OPTIONS.get(field, field)}: {message}"
                    for field, errors in invalid.message_dict.items()
                    for message in errors
                ]
                raise CommandError(" ".join(messages)) from None
        if as_json:
            document = {"id": str(backtest.pk), "label": backtest.label, **backtest.report}
            self.stdout.write(json.dumps(document, indent=2, sort_keys=True, default=str))
            return
        self._print(backtest)

    def _print(self, backtest: object) -> None:
        report = backtest.report
        self.stdout.write(
            f"Backtest {backtest.pk} of {backtest.tenant.slug}: {backtest.day_from} to {backtest.day_to} "
            f"({backtest.days_total} days), {report.get('positions', '-')} positions, "
            f"{report.get('seconds', '-')} s; stored at warning-backtests/{backtest.pk}/."
        )
        self.stdout.write(f"Policies: {report.get('policies') or '-'}.")
        header = f"{'group':<28}" + "".join(f"{title:>{width}}" for _, title, width in _COLUMNS)
        sections = [("overall", {"all": report.get("overall") or {}})]
        sections += [("rule", report.get("by_rule") or {}), ("grade", report.get("by_grade") or {})]
        for title, groups in sections:
            self.stdout.write(f"\nby {title}\n{header}" if title != "overall" else f"\n{title}\n{header}")
            for name, figures in groups.items():
                cells = "".join(f"{_cell(figures.get(key)):>{width}}" for key, _, width in _COLUMNS)
                self.stdout.write(f"{name:<28}{cells}")
