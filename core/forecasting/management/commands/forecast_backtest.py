"""``manage.py forecast_backtest``: the rolling-origin forecast backtest of a tenant (or of all), with a
progress bar; prints the report as tables and stores it as the tenant's latest (``forecast-accuracy/``)."""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.forecasting.backtest import METHODS, forecast_backtest_run
from core.inventory.selectors import position_list
from tenants.commands import tenant_option_add, tenants_chosen

_COLUMNS = ("wrmsse", "rmsse_mean", "wape", "bias", "pinball_loss", "coverage", "horizon_coverage")


def _cell(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


class Command(BaseCommand):
    help = "Backtest the forecasts of a tenant (or of all tenants) against the moving average and seasonal naive."

    def add_arguments(self, parser: CommandParser) -> None:
        tenant_option_add(parser)
        parser.add_argument("--origins", type=int, default=6, help="Forecast origins, 7 days apart (default: 6).")

    def handle(self, *args: object, tenant: str | None, origins: int, **options: object) -> None:
        if origins < 1:
            raise CommandError(f"--origins must be a positive number of forecast origins, not {origins}.")
        tenants = tenants_chosen(tenant)
        for each in tenants:
            total = position_list(tenant=each).count()
            # tqdm draws with carriage returns, which Django's line-ending OutputWrapper would break.
            with tqdm(total=total, desc=f"Backtesting {each.slug}", unit="pos", file=sys.stderr, disable=None) as bar:
                report = forecast_backtest_run(tenant=each, origins=origins, progress=bar.update)
            self._print(each.slug, report)

    def _print(self, slug: str, report: dict) -> None:
        self.stdout.write(
            f"{slug}: {report['origins']} origins {report['step_days']} days apart up to {report['today']}, "
            f"horizon {report['horizon']}, service level {report['service_level']}."
        )
        self.stdout.write(report["censored"])
        sections = [("overall", {"all": report["overall"]} if report["overall"] else {})]
        sections += [("demand class", report["by_demand_class"]), ("velocity class", report["by_velocity_class"])]
        header = f"{'group':<22}{'method':<20}{'forecasts':>10}" + "".join(f"{c:>17}" for c in _COLUMNS)
        for title, groups in sections:
            self.stdout.write(f"\n{title}\n{header}")
            for name, by_method in groups.items():
                for method in METHODS:
                    row = by_method.get(method, {})
                    cells = "".join(f"{_cell(row.get(c)):>17}" for c in _COLUMNS)
                    self.stdout.write(f"{name:<22}{method:<20}{row.get('forecasts', 0):>10}{cells}")
        ratios = ", ".join(f"{k} {_cell(v)}" for k, v in report["wrmsse_ratio"].items())
        self.stdout.write(f"\nWRMSSE of the forecast / baseline's: {ratios or '-'}")
        promotions = report.get("promotions")
        if promotions:
            self.stdout.write("\npromotion days of the horizons")
            for method in ("forecast", "promotions_ignored"):
                row = promotions[method]
                self.stdout.write(
                    f"{method:<22}{row['forecasts']:>10} forecasts {row['observed_days']:>8} days"
                    f"  wape {_cell(row['wape'])}  rmsse {_cell(row['rmsse_mean'])}  bias {_cell(row['bias'])}"
                )
            self.stdout.write(
                f"promotion-day error with / ignoring promotions: WAPE {_cell(promotions['wape_ratio'])}, "
                f"RMSSE {_cell(promotions['rmsse_ratio'])} (goal <= {promotions['goal']})"
            )
        replay = report["inventory_replay"]
        self.stdout.write(f"\ninventory replay, last {replay['days']} days: {replay['assumptions']}")
        self.stdout.write(f"{'group':<22}{'safety stock':<20}{'fill rate':>12}{'average stock':>16}")
        rows = [("overall", replay["overall"] or {}), *replay["by_velocity_class"].items()]
        for name, summary in rows:
            for method in ("moving_average", "forecast"):
                figures = summary.get(method, {})
                self.stdout.write(
                    f"{name:<22}{method:<20}{_cell(figures.get('fill_rate')):>12}"
                    f"{_cell(figures.get('average_stock')):>16}"
                )
