"""Writes of supplier offers. Atomic, validated, audited."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core.inventory.models import Sku
from core.supply.models import SupplierOffer
from tenants.models import Partner, PartnerKind, Tenant
from tenants.principals import SYSTEM_ACTOR, Principal
from tenants.services import audit_record

OFFER_REQUIRED = frozenset({"sku_id", "supplier_id", "rank", "lead_time_days", "unit_price"})
OFFER_OPTIONAL = {
    "min_order_quantity": 1,
    "capacity_per_week": None,
    "reliability": Decimal("0.900"),
    "freight_per_unit": Decimal("0"),
    "duty_rate": Decimal("0"),
}
OFFER_UPDATED = [
    "rank",
    "lead_time_days",
    "unit_price",
    "min_order_quantity",
    "capacity_per_week",
    "freight_per_unit",
    "duty_rate",
]
# Reliability is a starting score for a new offer (OFFER_OPTIONAL); afterwards it is the
# supplier's delivery record (procurement/receiving.py), so neither a re-pushed catalogue nor an edit sets it.
_SHOWN = 20


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


@transaction.atomic
def supplier_offers_upsert(*, tenant: Tenant, offers: list[dict], actor: Principal | str = SYSTEM_ACTOR) -> int:
    """Create or update offers by (SKU, supplier) in one statement; answer how many were written.

    Each offer names ``sku_id`` (or the SKU's ``sku`` code) and ``supplier_id`` with its terms.
    The whole list is checked first (fields, the supplier being a supplier of this tenant, the SKU
    being this tenant's) and nothing is written if any offer is wrong, so a partial catalogue
    never goes live.
    """
    codes = {offer["sku"] for offer in offers if isinstance(offer.get("sku"), str)}
    ids_by_code = dict(Sku.objects.filter(tenant=tenant, code__in=codes).values_list("code", "id")) if codes else {}
    problems: list[str] = []
    numbered: list[tuple[int, SupplierOffer]] = []
    seen: dict[tuple[uuid.UUID | None, uuid.UUID | None], int] = {}
    for number, offer in enumerate(offers, start=1):
        if "sku" in offer:
            code = offer["sku"]
            if code not in ids_by_code:
                problems.append(f"offer {number}: no SKU with code {code!r} in this tenant")
                continue
            offer = {**{k: v for k, v in offer.items() if k != "sku"}, "sku_id": ids_by_code[code]}
        unknown = set(offer) - OFFER_REQUIRED - set(OFFER_OPTIONAL)
        missing = OFFER_REQUIRED - set(offer)
        if unknown or missing:
            problems.append(f"offer {number}: unknown {sorted(unknown)}, missing {sorted(missing)}")
            continue
        values = {**OFFER_OPTIONAL, **offer}
        values["sku_id"], values["supplier_id"] = _as_uuid(values["sku_id"]), _as_uuid(values["supplier_id"])
        key = (values["sku_id"], values["supplier_id"])
        if key in seen:
            # ON CONFLICT cannot touch one row twice in a statement; say which offers collide.
            problems.append(f"offer {number}: the same SKU and supplier as offer {seen[key]}")
            continue
        seen[key] = number
        instance = SupplierOffer(tenant=tenant, **values)
        try:
            # Field checks only: the unique key is the upsert's to resolve, and the foreign keys
            # are checked below in two queries for the whole list rather than one per offer.
            instance.clean_fields(exclude=["tenant", "sku", "supplier"])
        except ValidationError as exc:
            problems.append(f"offer {number}: {exc.message_dict}")
            continue
        numbered.append((number, instance))

    instances = [instance for _, instance in numbered]
    sku_ids = {instance.sku_id for instance in instances}
    supplier_ids = {instance.supplier_id for instance in instances}
    known_skus = set(Sku.objects.filter(tenant=tenant, id__in=sku_ids - {None}).values_list("id", flat=True))
    partner_kinds = dict(Partner.objects.filter(tenant=tenant, id__in=supplier_ids - {None}).values_list("id", "kind"))
    for number, instance in numbered:
        if instance.sku_id not in known_skus:
            problems.append(f"offer {number}: no SKU {instance.sku_id} in this tenant")
        kind = partner_kinds.get(instance.supplier_id)
        if kind is None:
            problems.append(f"offer {number}: no partner {instance.supplier_id} in this tenant")
        elif kind != PartnerKind.SUPPLIER:
            problems.append(f"offer {number}: partner {instance.supplier_id} is a {kind}, not a supplier")
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise ValidationError(
            {"offers": [*problems[:_SHOWN], f"{len(problems)} problem(s){more}; nothing was written."]}
        )
    if not instances:
        return 0

    SupplierOffer.objects.bulk_create(
        instances,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["tenant", "sku", "supplier"],
        update_fields=[*OFFER_UPDATED, "updated_at"],
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        action="supplier_offers.upserted",
        target=tenant,
        data={"offers": len(instances), "skus": len(sku_ids), "suppliers": len(supplier_ids)},
    )
    return len(instances)


@transaction.atomic
def supplier_offer_update(*, offer: SupplierOffer, actor: Principal, **values: object) -> SupplierOffer:
    """Change an offer's terms; reliability is the supplier's record, not an editable term."""
    unknown = set(values).difference(OFFER_UPDATED)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not an editable term of an offer."))
    offer = SupplierOffer.objects.select_for_update().get(pk=offer.pk)
    for name, value in values.items():
        setattr(offer, name, value)
    offer.full_clean(exclude=["tenant", "sku", "supplier"], validate_unique=False)
    offer.save()
    audit_record(
        tenant=actor.tenant,
        actor=actor,
        action="supplier_offer.updated",
        target=offer,
        data={name: str(value) for name, value in values.items()},
    )
    return offer


@transaction.atomic
def supplier_offer_delete(*, offer: SupplierOffer, actor: Principal) -> None:
    audit_record(
        tenant=actor.tenant,
        actor=actor,
        action="supplier_offer.deleted",
        target=offer,
        data={"sku": str(offer.sku_id), "supplier": str(offer.supplier_id)},
    )
    offer.delete()
