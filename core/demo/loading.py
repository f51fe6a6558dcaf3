"""Loading a synthetic plan into a tenant through the same services a partner's push goes through.

Master data goes through ``master_ingest`` and the ledger through ``movements_ingest``, batch by
batch, so the demo exercises (and times) the real ingestion path: anomaly flags, lots, daily
facts and positions are what ingestion makes of the lines, not written on the side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count

from core.demo.synthetic import DayBatch, DemoPlan
from core.inventory import master_ingestion
from core.inventory.grants import warehouse_grant
from core.inventory.ingestion import BatchRejected, IngestResult, movement_rows_parse, movements_ingest
from core.inventory.models import Anomaly, Movement, Position, Sku, Warehouse, WarehouseGroupObjectPermission
from core.procurement.models import SupplierOffer
from core.procurement.services import supplier_offers_upsert
from core.retries import atomic_retried
from tenants import services
from tenants.models import PartnerKind, Tenant

DEMO_SOURCE = "demo-seed"
DEMO_ACTOR = "seed_demo"
# Batches of at most a week, so the spike rule's baseline (the weeks before a batch) stays fresh,
# and at most this many rows, so a large scale's day is split instead of held in one transaction.
CHUNK_DAYS = 7
CHUNK_ROWS = 100_000


@dataclass
class LoadSummary:
    warehouses: int = 0
    skus: int = 0
    positions: int = 0
    movements: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)
    offers: int = 0
    grants: int = 0


def demo_dataset_present(*, tenant: Tenant) -> bool:
    return Movement.objects.filter(tenant=tenant, source=DEMO_SOURCE).exists()


def demo_master_load(*, tenant: Tenant, plan: DemoPlan) -> None:
    """Categories, warehouses and SKUs by code, then partners, supplier offers and regional grants."""
    for endpoint, rows in (("categories", plan.categories), ("warehouses", plan.warehouses), ("skus", plan.skus)):
        spec = master_ingestion.SPECS[endpoint]
        columns, errors = master_ingestion.master_rows_parse(spec, rows)
        if errors:
            raise BatchRejected(errors)
        master_ingestion.master_ingest(tenant=tenant, spec=spec, columns=columns)
    _partners_offers_grants(tenant, plan)


def demo_ledger_load(
    *, tenant: Tenant, plan: DemoPlan, on_batch: Callable[[int, IngestResult], None] | None = None
) -> None:
    """The plan's ledger, batch by batch; ``on_batch(days, result)`` after each (``days`` is how
    many days the batch completed, 0 for the first part of a day cut in two).

    Not one transaction: a large scale is tens of millions of lines. A run that stops half-way
    leaves demo lines behind, and ``demo_dataset_present`` then refuses to load on top of them.
    """
    for days, rows in _chunks(plan.movement_days()):
        if rows:
            columns, errors = movement_rows_parse(rows)
            if errors:
                raise BatchRejected(errors)
            result = movements_ingest(tenant=tenant, source=DEMO_SOURCE, columns=columns)
        else:
            result = IngestResult(batch_id="", rows=0, positions=0, flagged=0, created_positions=0)
        if on_batch is not None:
            on_batch(days, result)


@atomic_retried
def _partners_offers_grants(tenant: Tenant, plan: DemoPlan) -> None:
    wanted = [(PartnerKind.SUPPLIER, item) for item in plan.suppliers]
    wanted += [(PartnerKind.DISTRIBUTOR, item) for item in plan.distributors]
    partners = {partner.name: partner for partner in tenant.partners.filter(name__in=[i["name"] for _, i in wanted])}
    for kind, item in wanted:
        partner = partners.get(item["name"])
        if partner is None:
            partners[item["name"]] = services.partner_create(
                tenant=tenant, kind=kind, name=item["name"], contact_email=item["contact_email"], actor=DEMO_ACTOR
            )
        elif partner.kind != kind:
            raise ValidationError(
                {"partners": f"Partner {partner.name!r} exists in this tenant as a {partner.kind}, not a {kind}."}
            )
    sku_ids = dict(
        Sku.objects.filter(tenant=tenant, code__in=[row["code"] for row in plan.skus]).values_list("code", "id")
    )
    offers = []
    for offer in plan.offers:
        terms = {key: value for key, value in offer.items() if key not in {"sku", "supplier"}}
        offers.append({"sku_id": sku_ids[offer["sku"]], "supplier_id": partners[offer["supplier"]].pk, **terms})
    supplier_offers_upsert(tenant=tenant, offers=offers, actor=DEMO_ACTOR)
    for item in plan.distributors:
        warehouse_grant(
            partner=partners[item["name"]],
            warehouses=Warehouse.objects.filter(tenant=tenant, region=item["region"]).order_by("code"),
            actor=DEMO_ACTOR,
        )


def _chunks(days: Iterable[DayBatch]) -> Iterator[tuple[int, list[dict]]]:
    """(days completed, rows) of at most CHUNK_DAYS days and CHUNK_ROWS rows, in ledger order."""
    buffer: list[dict] = []
    complete = 0
    for batch in days:
        rows = batch.rows
        while len(buffer) + len(rows) > CHUNK_ROWS:
            room = CHUNK_ROWS - len(buffer)
            # Cutting inside a day is safe: batches go in order and each sees the stock left by the last.
            yield complete, buffer + rows[:room]
            buffer, rows, complete = [], rows[room:], 0
        buffer += rows
        complete += 1
        if complete == CHUNK_DAYS:
            yield complete, buffer
            buffer, complete = [], 0
    if buffer or complete:
        yield complete, buffer


def demo_dataset_summary(*, tenant: Tenant) -> LoadSummary:
    return LoadSummary(
        warehouses=Warehouse.objects.filter(tenant=tenant).count(),
        skus=Sku.objects.filter(tenant=tenant).count(),
        positions=Position.objects.filter(tenant=tenant).count(),
        movements=Movement.objects.filter(tenant=tenant).count(),
        anomalies={
            row["reason"]: row["count"]
            for row in Anomaly.objects.filter(tenant=tenant)
            .values("reason")
            .annotate(count=Count("id"))
            .order_by("reason")
        },
        offers=SupplierOffer.objects.filter(tenant=tenant).count(),
        grants=WarehouseGroupObjectPermission.objects.filter(
            group__partner__tenant=tenant, permission__codename="view_warehouse"
        ).count(),
    )
