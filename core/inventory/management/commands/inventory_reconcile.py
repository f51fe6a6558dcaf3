"""``manage.py inventory_reconcile``: re-derive positions and daily facts from the ledger."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.inventory.reconciliation import ledger_reconcile
from tenants.commands import tenants_chosen

SHOWN = 20


class Command(BaseCommand):
    help = "Re-derive positions and daily facts from the movement ledger and report any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="Only this tenant's slug (default: every tenant).")
        parser.add_argument("--repair", action="store_true", help="Rewrite what differs from the ledger.")

    def handle(self, *args: object, tenant: str | None, repair: bool, **options: object) -> None:
        tenants = tenants_chosen(tenant)
        dirty = []
        for index, item in enumerate(tenants, start=1):
            report = ledger_reconcile(tenant=item, repair=repair)
            self.stdout.write(
                f"[{index}/{len(tenants)}] {item.slug}: {report.positions_checked} positions, "
                f"{report.facts_checked} daily facts checked; {len(report.position_differences)} position and "
                f"{len(report.fact_differences)} daily-fact differences" + (" (repaired)" if report.repaired else "")
            )
            for difference in (report.position_differences + report.fact_differences)[:SHOWN]:
                self.stdout.write(f"    {difference}")
            if not report.clean and not report.repaired:
                dirty.append(item.slug)
        if dirty:
            raise CommandError(
                f"Positions or daily facts differ from the ledger in: {', '.join(dirty)}. "
                "Run again with --repair to rewrite them from the ledger."
            )
        self.stdout.write(self.style.SUCCESS("Positions and daily facts agree with the ledger."))
