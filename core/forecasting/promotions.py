"""Writes of promotions. Atomic, validated (a ValidationError names the fields; nothing is written),
audited; each change marks the forecasts of the positions it touches for a refit.

Rules: the SKU and the warehouses are codes of the promotion's tenant (a code of another tenant is
as unknown as a code of none); the promotion ends on or after the day it starts; the discount is
0 to 95 %; two promotions of one SKU may not share a day in a warehouse, an all-warehouses one
sharing a day with any other. The overlap check runs under a transaction-scoped advisory lock on
the SKU, so two writes at once cannot both find the calendar free.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q

from core.forecasting.models import MAX_DISCOUNT_PERCENT, Forecast, Promotion
from core.forecasting.promotion_selectors import promotion_position_ids
from core.forecasting.triggers import forecasts_request
from core.inventory.models import Sku, Warehouse
from tenants.models import Tenant
from tenants.principals import Principal
from tenants.services import audit_record

ALL_WAREHOUSES = "all"
EDITABLE = ("sku", "warehouses", "starts_on", "ends_on", "discount_percent", "expected_uplift", "note", "external_ref")
_SHOWN = 10


@transaction.atomic
def promotion_create(
    *,
    tenant: Tenant,
    actor: Principal | str,
    sku: str,
    starts_on: date,
    ends_on: date,
    discount_percent: Decimal,
    warehouses: Sequence[str] | None = None,
    expected_uplift: Decimal | None = None,
    note: str = "",
    external_ref: str = "",
) -> Promotion:
    """A new promotion of the SKU (by code) in ``warehouses`` (codes; empty, None or ``["all"]``:
    every warehouse of the tenant)."""
    promotion = Promotion(tenant=tenant)
    _apply(
        promotion,
        sku=sku,
        warehouses=warehouses,
        starts_on=starts_on,
        ends_on=ends_on,
        discount_percent=discount_percent,
        expected_uplift=expected_uplift,
        note=note,
        external_ref=external_ref,
    )
    promotion.save()
    _audit(promotion, actor, "promotion.created")
    _refit(promotion)
    return promotion


@transaction.atomic
def promotion_update(*, promotion: Promotion, actor: Principal | str, **values: object) -> Promotion:
    """Change some of a promotion's fields (``EDITABLE``); the rest stay as they are."""
    unknown = sorted(set(values).difference(EDITABLE))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Not an editable field of a promotion."))
    promotion = Promotion.objects.select_for_update().select_related("sku").get(pk=promotion.pk)
    before = (promotion.sku_id, promotion.all_warehouses, list(promotion.warehouse_ids))
    current = {
        "sku": promotion.sku.code,
        "warehouses": None if promotion.all_warehouses else _codes(promotion),
        "starts_on": promotion.starts_on,
        "ends_on": promotion.ends_on,
        "discount_percent": promotion.discount_percent,
        "expected_uplift": promotion.expected_uplift,
        "note": promotion.note,
        "external_ref": promotion.external_ref,
    }
    _apply(promotion, **{**current, **values})
    promotion.save()
    _audit(promotion, actor, "promotion.updated", changed=sorted(values))
    _refit(promotion, also=before)
    return promotion


@transaction.atomic
def promotion_delete(*, promotion: Promotion, actor: Principal | str) -> None:
    promotion = Promotion.objects.select_for_update().select_related("sku").get(pk=promotion.pk)
    _audit(promotion, actor, "promotion.deleted")
    _refit(promotion)
    promotion.delete()


def _apply(promotion: Promotion, **values: object) -> None:
    """Check every field, then set them on ``promotion``; a ValidationError lists every problem."""
    tenant = promotion.tenant
    errors: dict[str, list[str]] = {}
    sku = Sku.objects.filter(tenant=tenant, code=values["sku"]).first()
    if sku is None:
        errors["sku"] = [f"No SKU with code {values['sku']!r} in this tenant."]
    codes = [str(code) for code in values["warehouses"] or []]
    all_warehouses = not codes or codes == [ALL_WAREHOUSES]
    warehouse_ids: list = []
    if not all_warehouses:
        if ALL_WAREHOUSES in codes:
            errors["warehouses"] = [f"{ALL_WAREHOUSES!r} stands alone: every warehouse, or a list of codes."]
        elif len(set(codes)) != len(codes):
            errors["warehouses"] = ["A warehouse code is listed twice."]
        else:
            found = dict(Warehouse.objects.filter(tenant=tenant, code__in=codes).values_list("code", "id"))
            unknown = [code for code in codes if code not in found]
            if unknown:
                more = f" (and {len(unknown) - _SHOWN} more)" if len(unknown) > _SHOWN else ""
                errors["warehouses"] = [
                    f"No warehouse with code {', '.join(map(repr, unknown[:_SHOWN]))}{more} in this tenant."
                ]
            warehouse_ids = sorted((found[code] for code in codes if code in found), key=str)
    starts_on, ends_on = values["starts_on"], values["ends_on"]
    if ends_on < starts_on:
        errors["ends_on"] = [f"Ends on {ends_on}, before it starts ({starts_on}); both days are inclusive."]
    discount = Decimal(str(values["discount_percent"]))
    if not 0 <= discount <= MAX_DISCOUNT_PERCENT:
        errors["discount_percent"] = [f"A discount is 0 to {MAX_DISCOUNT_PERCENT} %, not {discount}."]
    if errors:
        raise ValidationError(errors)
    # One writer at a time per SKU from here to the commit: the overlap check and the write are one step.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"promotion:{sku.pk}"])
    clashes = Promotion.objects.filter(tenant=tenant, sku=sku, starts_on__lte=ends_on, ends_on__gte=starts_on)
    if promotion.pk is not None and not promotion._state.adding:
        clashes = clashes.exclude(pk=promotion.pk)
    if not all_warehouses:
        clashes = clashes.filter(Q(all_warehouses=True) | Q(warehouse_ids__overlap=warehouse_ids))
    clash = clashes.order_by("starts_on", "id").first()
    if clash is not None:
        where = "every warehouse" if clash.all_warehouses or all_warehouses else "a warehouse of this one"
        raise ValidationError(
            {
                "starts_on": [
                    f"Overlaps promotion {clash.pk} of SKU {sku.code} ({clash.starts_on} to {clash.ends_on}) in "
                    f"{where}: one SKU has at most one promotion a day in a warehouse."
                ]
            }
        )
    promotion.sku = sku
    promotion.all_warehouses = all_warehouses
    promotion.warehouse_ids = warehouse_ids
    promotion.starts_on, promotion.ends_on = starts_on, ends_on
    promotion.discount_percent = discount
    promotion.expected_uplift = values["expected_uplift"]
    promotion.note, promotion.external_ref = values["note"] or "", values["external_ref"] or ""
    promotion.full_clean(exclude=["tenant", "sku"], validate_unique=False, validate_constraints=False)


def _codes(promotion: Promotion) -> list[str]:
    return list(
        Warehouse.objects.filter(tenant_id=promotion.tenant_id, id__in=promotion.warehouse_ids)
        .order_by("code")
        .values_list("code", flat=True)
    )


def _audit(promotion: Promotion, actor: Principal | str, action: str, **extra: object) -> None:
    audit_record(
        tenant=promotion.tenant,
        actor=actor,
        action=action,
        target=promotion,
        data={
            "sku": promotion.sku.code,
            "warehouses": "all" if promotion.all_warehouses else _codes(promotion),
            "starts_on": promotion.starts_on.isoformat(),
            "ends_on": promotion.ends_on.isoformat(),
            "discount_percent": str(promotion.discount_percent),
            "expected_uplift": None if promotion.expected_uplift is None else str(promotion.expected_uplift),
            **extra,
        },
    )


def _refit(promotion: Promotion, also: tuple | None = None) -> None:
    """Mark the touched positions' forecasts for a refit (an empty fingerprint) and ask for the pass
    that refits them after commit; their fingerprints include the promotion, so the daily refresh
    would refit them too."""
    ids = promotion_position_ids(
        tenant_id=promotion.tenant_id,
        sku_id=promotion.sku_id,
        warehouse_ids=promotion.warehouse_ids,
        all_warehouses=promotion.all_warehouses,
    )
    if also is not None:
        sku_id, all_warehouses, warehouse_ids = also
        ids += promotion_position_ids(
            tenant_id=promotion.tenant_id, sku_id=sku_id, warehouse_ids=warehouse_ids, all_warehouses=all_warehouses
        )
    if ids:
        Forecast.objects.filter(tenant_id=promotion.tenant_id, position_id__in=ids).update(fingerprint="")
    forecasts_request(tenant_id=promotion.tenant_id)
