"""``manage.py seed_forecast_study``: the forecast backtest's second data set (core/demo/forecast_study.py),
loaded through the ingestion services as an ERP would push it, its promotions through the
promotions service (discount and dates only: the uplift is the forecast's to learn)."""

import sys
import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from core.demo.forecast_study import SOURCE_SUPPLIER, study_plan
from core.forecasting.promotions import promotion_create
from core.inventory import master_ingestion
from core.inventory.ingestion import BatchRejected, movement_rows_parse, movements_ingest
from core.inventory.models import DailyFact, Position
from core.supply.services import supplier_offers_upsert
from tenants import services
from tenants.models import PartnerKind, Tenant

SOURCE = "forecast-study"
ACTOR = "seed_forecast_study"
BATCH_ROWS = 50_000


class Command(BaseCommand):
    help = (
        "Build the forecast study tenant from a seed: intermittent and lumpy items, weekly patterns of "
        "their own, level breaks and drifts, promotions with a known uplift, late orders and lost sales."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2027, help="Same seed, sizes and --today: same data.")
        parser.add_argument("--skus", type=int, default=400)
        parser.add_argument("--warehouses", type=int, default=6)
        parser.add_argument("--days", type=int, default=240, help="Days of history, ending yesterday.")
        parser.add_argument("--tenant", default="study", help="Tenant slug; created, and must not exist yet.")
        parser.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today, UTC).")

    def handle(
        self,
        *args: object,
        seed: int,
        skus: int,
        warehouses: int,
        days: int,
        tenant: str,
        today: date | None,
        **options: object,
    ) -> None:
        if skus < 1 or warehouses < 1 or days < 60:
            raise CommandError("--skus and --warehouses must be at least 1, --days at least 60.")
        if Tenant.objects.filter(slug=tenant).exists():
            raise CommandError(f"Tenant {tenant!r} exists; the study is seeded into a new tenant only.")
        today = today or timezone.now().date()
        started = time.monotonic()
        plan = study_plan(seed=seed, skus=skus, warehouses=warehouses, days=days, today=today)
        owner = services.tenant_create(slug=tenant, name=f"Forecast study (seed {seed})")
        for endpoint, rows in (
            ("categories", plan.categories),
            ("warehouses", plan.warehouses),
            ("skus", plan.skus),
        ):
            spec = master_ingestion.SPECS[endpoint]
            columns, errors = master_ingestion.master_rows_parse(spec, rows)
            if errors:
                raise CommandError(f"{endpoint}: {errors}")
            master_ingestion.master_ingest(tenant=owner, spec=spec, columns=columns)
        supplier = services.partner_create(tenant=owner, kind=PartnerKind.SUPPLIER, name=SOURCE_SUPPLIER, actor=ACTOR)
        supplier_offers_upsert(
            tenant=owner,
            offers=[
                {
                    "sku": o["sku"],
                    "supplier_id": supplier.pk,
                    "rank": 1,
                    "lead_time_days": o["lead_time_days"],
                    "unit_price": row["unit_cost"],
                }
                for o, row in zip(plan.offers, plan.skus, strict=True)
            ],
            actor=ACTOR,
        )
        buffer: list[dict] = []
        with tqdm(total=days, desc=f"Seeding {tenant}", unit="day", file=sys.stderr, disable=None) as bar:
            for rows in plan.movement_days():
                buffer += rows
                if len(buffer) >= BATCH_ROWS:
                    self._ingest(owner, buffer)
                    buffer = []
                bar.update(1)
            if buffer:
                self._ingest(owner, buffer)
        for promotion in plan.promotions:
            promotion_create(
                tenant=owner,
                actor=ACTOR,
                sku=promotion.sku,
                starts_on=promotion.start,
                ends_on=promotion.end,
                discount_percent=Decimal(round(promotion.discount * 100)),
                note=f"study: true uplift {promotion.uplift}",
            )
        facts = DailyFact.objects.filter(tenant=owner).count()
        self.stdout.write(
            f"Seeded {tenant!r} (seed {seed}) in {time.monotonic() - started:.0f} s: "
            f"{Position.objects.filter(tenant=owner).count()} positions, {facts} daily facts over {days} days to "
            f"{today - timedelta(days=1)}, {len(plan.promotions)} promotions; "
            f"SKUs by kind {dict(sorted(_count(plan.kinds.values()).items()))}."
        )

    def _ingest(self, tenant: Tenant, rows: list[dict]) -> None:
        columns, errors = movement_rows_parse(rows)
        if errors:
            raise CommandError(f"ledger lines rejected: {errors}")
        try:
            movements_ingest(tenant=tenant, source=SOURCE, columns=columns)
        except BatchRejected as rejected:
            raise CommandError(f"ledger lines rejected: {rejected}") from None


def _count(values: object) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out
