"""``manage.py forecast``: refit the forecasts of a tenant (or of every tenant) now, with a progress bar.

The same refresh the beat runs daily, carried out in this process: after a bulk load, for the demo,
for a first look at a new tenant. Positions whose history did not change since their fit are skipped.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.forecasting.services import forecasts_refresh
from core.inventory.selectors import position_list
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Refit the demand forecasts of every position of a tenant (or of all tenants) now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="A tenant slug; all tenants when left out.")

    def handle(self, *args: object, tenant: str | None, **options: object) -> None:
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
                raise CommandError(f"No tenant '{tenant}'. Known tenants: {known}.")
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
