"""Loading a synthetic plan into a tenant through the same services a partner's push goes through.

Master data goes through ``master_ingest`` and the ledger through ``movements_ingest``, batch by
batch, so the demo exercises (and times) the real ingestion path: anomaly flags, lots, daily
facts and positions are what ingestion makes of the lines, not written on the side.

A seed is not one transaction (a large scale is tens of millions of lines), so one that stops
half-way (a crash, Ctrl-C, a batch the database kept aborting) is resumable: its arguments are in
the tenant's audit log from the start, and the same command picks up after the last batch in the
ledger. Only a seed that finished counts as the tenant's demo data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Count

from core.demo.synthetic import DayBatch, DemoPlan
from core.inventory import master_ingestion
from core.inventory.grants import warehouse_grant
from core.inventory.ingestion import BatchRejected, IngestResult, movement_rows_parse, movements_ingest
from core.inventory.models import Anomaly, Movement, Position, Sku, Warehouse, WarehouseGroupObjectPermission
from core.retries import atomic_retried
from core.supply.models import SupplierOffer
from core.supply.services import supplier_offers_upsert
from tenants import services
from tenants.models import PartnerKind, Tenant
from tenants.selectors import audit_events

DEMO_SOURCE = "demo-seed"
DEMO_ACTOR = "seed_demo"
# Batches of at most a week, so the spike rule's baseline (the weeks before a batch) stays fresh,
# and at most this many rows, so a large scale's day is split instead of held in one transaction.
CHUNK_DAYS = 7
CHUNK_ROWS = 100_000
SEED_BEGUN, SEED_FINISHED = "demo.seed_begun", "demo.seed_finished"


@dataclass(frozen=True)
class SeedArguments:
    """What makes a seed's data: the same three give the same rows."""

    scale: str
    seed: int
    today: date

    def as_options(self) -> str:
        return f"--scale {self.scale} --seed {self.seed} --today {self.today}"


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
    """Whether the tenant holds demo data from a seed that finished (or one from before seeds were
    recorded); a seed that stopped half-way is not, and ``demo_seed_unfinished`` names it."""
    if demo_seed_unfinished(tenant=tenant) is not None:
        return False
    return Movement.objects.filter(tenant=tenant, source=DEMO_SOURCE).exists()


def demo_seed_unfinished(*, tenant: Tenant) -> SeedArguments | None:
    """The arguments of the tenant's seed that began and did not finish, if its last one did not."""
    last = audit_events(tenant=tenant, actions=[SEED_BEGUN, SEED_FINISHED]).last()
    if last is None or last.action == SEED_FINISHED:
        return None
    data = last.data
    return SeedArguments(scale=data["scale"], seed=data["seed"], today=date.fromisoformat(data["today"]))


def demo_seed_record(*, tenant: Tenant, arguments: SeedArguments, finished: bool = False) -> None:
    """Record the seed's arguments as it begins, before it writes anything (so a seed cut short can
    be resumed), and again once it finished."""
    services.audit_record(
        tenant=tenant,
        actor=DEMO_ACTOR,
        action=SEED_FINISHED if finished else SEED_BEGUN,
        target=tenant,
        data={**asdict(arguments), "today": arguments.today.isoformat()},
    )


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

    Not one transaction: a large scale is tens of millions of lines. Each batch is one, and they go
    in order, so a load that stopped half-way left a prefix of them: those are skipped (``on_batch``
    hears them with no rows), once the last line in the ledger is found to be this plan's own.
    """
    last = _last_demo_line(tenant)
    resumed = last is None
    for days, rows in _chunks(plan.movement_days()):
        if rows and not resumed:
            last_ref = rows[-1]["external_ref"]
            if last_ref < last["external_ref"]:
                rows = []  # in the ledger already
            elif last_ref == last["external_ref"] and _same_line(rows[-1], last):
                rows, resumed = [], True
            else:
                raise _not_this_seed(last)
        if rows:
            columns, errors = movement_rows_parse(rows)
            if errors:
                raise BatchRejected(errors)
            result = movements_ingest(tenant=tenant, source=DEMO_SOURCE, columns=columns)
        else:
            result = IngestResult(batch_id="", rows=0, positions=0, flagged=0, created_positions=0)
        if on_batch is not None:
            on_batch(days, result)
    if not resumed:
        raise _not_this_seed(last)


def _not_this_seed(last: dict) -> ValidationError:
    return ValidationError(
        f"The demo lines in this tenant's ledger end at {last['external_ref']}, where no batch of this seed "
        "ends the same way: they were made with other arguments."
    )


def _last_demo_line(tenant: Tenant) -> dict | None:
    return (
        Movement.objects.filter(tenant=tenant, source=DEMO_SOURCE)
        .order_by("-external_ref")
        .values("external_ref", "kind", "quantity", "occurred_at", "position__sku__code", "position__warehouse__code")
        .first()
    )


def _same_line(row: dict, stored: dict) -> bool:
    return (row["kind"], row["quantity"], datetime.fromisoformat(row["occurred_at"]), row["sku"], row["warehouse"]) == (
        stored["kind"],
        stored["quantity"],
        stored["occurred_at"],
        stored["position__sku__code"],
        stored["position__warehouse__code"],
    )


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
