"""``manage.py forecast``: refit the forecasts of a tenant (or of every tenant) now, with a progress bar.

The same refresh the beat runs daily, carried out in this process: after a bulk load, for the demo,
for a first look at a new tenant. Positions whose history did not change since their fit are skipped.
"""

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from core.forecasting.services import forecasts_refresh
from core.inventory.selectors import position_list
from tenants.commands import tenant_option_add, tenants_chosen


class Command(BaseCommand):
    help = "Refit the demand forecasts of every position of a tenant (or of all tenants) now."

    def add_arguments(self, parser: CommandParser) -> None:
        tenant_option_add(parser)

    def handle(self, *args: object, tenant: str | None, **options: object) -> None:
        tenants = tenants_chosen(tenant)
        for each in tenants:
            total = position_list(tenant=each).count()
            with tqdm(total=total, desc=f"Forecasting {each.slug}", unit="pos", disable=None) as bar:
                summary = forecasts_refresh(tenant=each, progress=bar.update)
            models = ", ".join(f"{name} {count}" for name, count in summary["models"].items()) or "none"
            self.stdout.write(
                f"{each.slug}: {summary['positions']} positions, {summary['fitted']} refit "
                f"({models}), {summary['unchanged']} unchanged; horizon {summary['horizon']} days, "
                f"service level {summary['service_level']}."
            )
