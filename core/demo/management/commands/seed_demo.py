"""``manage.py seed_demo``: a realistic tenant from a seed, loaded through the ingestion services."""

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.demo.loading import (
    DEMO_ACTOR,
    DEMO_SOURCE,
    SeedArguments,
    demo_dataset_present,
    demo_dataset_summary,
    demo_ledger_load,
    demo_master_load,
    demo_seed_record,
    demo_seed_unfinished,
)
from core.demo.seed import DEMO_TENANT_SLUG
from core.demo.synthetic import SCALES, DemoPlan, demo_plan
from core.exceptions import Contended
from core.inventory.ingestion import BatchRejected, IngestResult
from tenants import services
from tenants.models import Tenant

SHOWN_ERRORS = 10
DEFAULT_SCALE, DEFAULT_SEED = "small", 42


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Build a demo tenant from a seed: regions, warehouses, categories, SKUs, suppliers with offers, "
        "distributors with regional grants, and months of daily ledger lines, through the ingestion services."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # No argparse defaults for the three that make the data: a resumed seed takes its own, and
        # only a value given on the command line can disagree with them.
        parser.add_argument("--scale", choices=list(SCALES), help=f"How much data (default: {DEFAULT_SCALE}).")
        parser.add_argument("--seed", type=int, help=f"Same seed and --today, same data (default: {DEFAULT_SEED}).")
        parser.add_argument(
            "--tenant", default=DEMO_TENANT_SLUG, help=f"Tenant slug, created if missing (default: {DEMO_TENANT_SLUG})."
        )
        parser.add_argument(
            "--today", type=_iso_date, help="YYYY-MM-DD; the ledger ends the day before (default: today, UTC)."
        )

    def handle(
        self, *args: object, scale: str | None, seed: int | None, tenant: str, today: date | None, **options: object
    ) -> None:
        started = time.monotonic()
        real_today = datetime.now(UTC).date()
        # Ingestion refuses lines dated in the future, and the last lines are the day before --today.
        if today is not None and today > real_today + timedelta(days=1):
            raise CommandError(f"--today {today} is in the future; the latest allowed is {real_today + timedelta(1)}.")
        target = self._tenant(tenant)
        arguments = self._arguments(target, scale, seed, today or real_today, explicit_today=today is not None)
        scale, seed, today = arguments.scale, arguments.seed, arguments.today
        plan = demo_plan(scale=scale, seed=seed, today=today)
        verbose = options["verbosity"] > 0
        if verbose:
            self.stdout.write(
                f"Seeding tenant '{tenant}' at scale {scale} (seed {seed}): {len(plan.warehouses)} warehouses, "
                f"{len(plan.skus)} SKUs, {plan.position_count} positions, {plan.days} days "
                f"({plan.first_day} to {today - timedelta(days=1)})."
            )
            self.stdout.flush()
        try:
            demo_master_load(tenant=target, plan=plan)
            self._ledger(target, plan, quiet=not verbose)
        except BatchRejected as exc:
            shown = "; ".join(
                f"row {e['row']} {e['field']}: {e['message']}" for e in exc.errors.sorted()[:SHOWN_ERRORS]
            )
            raise CommandError(f"A demo batch was refused ({exc.errors.total} errors): {shown}") from exc
        except ValidationError as exc:
            raise CommandError(f"Demo data refused: {'; '.join(exc.messages)}") from exc
        except Contended as exc:
            raise CommandError(
                f"The database kept aborting a demo batch for lock contention ({exc}). What was loaded stays; "
                f"run the same command again to go on from there."
            ) from exc
        demo_seed_record(tenant=target, arguments=arguments, finished=True)

        summary = demo_dataset_summary(tenant=target)
        flagged = sum(summary.anomalies.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in summary.anomalies.items())
        self.stdout.write(
            self.style.SUCCESS(f"Seeded tenant '{tenant}' in {time.monotonic() - started:.1f} s:")
            + f"\n  warehouses {summary.warehouses}, SKUs {summary.skus}, positions {summary.positions}"
            + f"\n  movements {summary.movements:,}, anomalies flagged {flagged}"
            + (f" ({reasons})" if reasons else "")
            + f"\n  supplier offers {summary.offers}, distributor warehouse grants {summary.grants}"
        )

    def _tenant(self, slug: str) -> Tenant:
        existing = Tenant.objects.filter(slug=slug).first()
        if existing is not None:
            return existing
        try:
            return services.tenant_create(
                slug=slug, name=f"{slug.replace('-', ' ').title()} (demo data)", actor=DEMO_ACTOR
            )
        except ValidationError as exc:
            raise CommandError(f"Cannot create tenant {slug!r}: {'; '.join(exc.messages)}") from exc

    def _arguments(
        self, tenant: Tenant, scale: str | None, seed: int | None, today: date, *, explicit_today: bool
    ) -> SeedArguments:
        """The seed's arguments: a seed of this tenant that stopped half-way goes on with its own,
        recorded when it began; a new one is recorded now, before it writes anything."""
        unfinished = demo_seed_unfinished(tenant=tenant)
        if unfinished is not None:
            given = {"scale": scale, "seed": seed, "today": today if explicit_today else None}
            clashes = [
                name for name, value in given.items() if value is not None and value != getattr(unfinished, name)
            ]
            if clashes:
                raise CommandError(
                    f"Tenant '{tenant.slug}' holds a demo seed that stopped half-way, begun with "
                    f"{unfinished.as_options()}; this run asks for another --{', --'.join(clashes)}. Run the "
                    "command again without them to finish that seed, or seed another tenant with --tenant <new-slug>."
                )
            self.stdout.write(f"Resuming the demo seed of '{tenant.slug}' begun with {unfinished.as_options()}.")
            return unfinished
        if demo_dataset_present(tenant=tenant):
            raise CommandError(
                f"Tenant '{tenant.slug}' already holds demo data (ledger lines from source '{DEMO_SOURCE}'). The "
                "ledger is append-only, so a second seed would pile onto the first: seed another tenant with "
                "--tenant <new-slug>, or reset the database (with the embedded services: make clean)."
            )
        arguments = SeedArguments(
            scale=scale or DEFAULT_SCALE, seed=DEFAULT_SEED if seed is None else seed, today=today
        )
        demo_seed_record(tenant=tenant, arguments=arguments)
        return arguments

    def _ledger(self, tenant: Tenant, plan: DemoPlan, *, quiet: bool) -> None:
        # tqdm draws with carriage returns, which Django's line-ending OutputWrapper would break.
        bar = tqdm(total=plan.days, desc="ledger", unit="day", file=sys.stderr, disable=quiet, mininterval=0.5)
        started = time.monotonic()
        totals = {"rows": 0, "flagged": 0}

        def on_batch(days: int, result: IngestResult) -> None:
            totals["rows"] += result.rows
            totals["flagged"] += result.flagged
            rate = totals["rows"] / max(time.monotonic() - started, 1e-6)
            bar.set_postfix_str(
                f"{totals['rows']:,} rows, {rate:,.0f} rows/s, {totals['flagged']} flagged", refresh=False
            )
            bar.update(days)

        try:
            demo_ledger_load(tenant=tenant, plan=plan, on_batch=on_batch)
        finally:
            bar.close()
