"""``manage.py evaluate``: a full evaluation run now, in this process, with a progress bar.

The same run the API and the beat schedule start; here it is carried out at once instead of by a
worker, for the demo, for operators after a bulk load, and for a first look at a new tenant.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.alerts.runs import evaluation_start, run_active_full, run_execute
from core.exceptions import Conflict
from tenants.commands import tenant_option_add, tenants_chosen


class Command(BaseCommand):
    help = "Evaluate every position of a tenant (or of all tenants) now and print what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        tenant_option_add(parser)

    def handle(self, *args: object, tenant: str | None, **options: object) -> None:
        tenants = tenants_chosen(tenant)
        for each in tenants:
            try:
                run = evaluation_start(tenant=each, actor="command:evaluate")
            except Conflict:
                # A run is queued or was cut off: take it over here (a live worker keeps its own).
                run = run_active_full(tenant=each)
                if run is None:
                    raise CommandError(f"{each.slug}: a run just started and ended; run this again.") from None
                self.stdout.write(f"{each.slug}: continuing the {run.status} run {run.pk}.")
            left = max(0, run.positions_total - run.positions_done)
            with tqdm(total=left, desc=f"Evaluating {each.slug}", unit="pos", disable=None) as bar:
                done = run_execute(run_id=run.pk, progress=bar.update)
            if done is None:
                self.stdout.write(f"{each.slug}: a worker is carrying out run {run.pk}; follow it at evaluations/.")
                continue
            counts = ", ".join(f"{name} {value}" for name, value in sorted(done.counts.items())) or "nothing"
            self.stdout.write(f"{each.slug}: {done.positions_done} positions evaluated; {counts}.")
