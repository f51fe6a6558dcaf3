"""Writes of inventory master data: warehouses, categories and SKUs. Atomic, validated, audited.

A code is the partners' key for a row (ERP pushes name SKUs and warehouses by code), so it is
unique per tenant and fixed once created. Rows that stock or history hang off are never deleted:
the caller is told to deactivate them instead, which keeps the ledger readable.

A change to what a position's forecast reads of its SKU or category (the category, a season end,
an end of life, the profile, the monthly coefficients) marks the positions it concerns as changed,
as a ledger line does, so their forecasts are refit and their alerts evaluated again.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.exceptions import Conflict
from core.inventory import ledger_hooks
from core.inventory.models import (
    Category,
    IndustryProfile,
    Position,
    Sku,
    SkuStatus,
    VelocityClass,
    Warehouse,
)
from tenants.models import Tenant
from tenants.principals import SYSTEM_ACTOR, Principal
from tenants.services import audit_record

WAREHOUSE_CHANGEABLE = frozenset({"name", "region", "kind", "latitude", "longitude", "is_active"})
CATEGORY_CHANGEABLE = frozenset({"name", "profile", "seasonal_coefficients"})
SKU_CHANGEABLE = frozenset(
    {
        "name",
        "category",
        "velocity_class",
        "launch_date",
        "shelf_life_days",
        "unit_cost",
        "list_price",
        "status",
        "end_of_life_on",
        "successor",
        "season_ends_on",
    }
)
# What a position's forecast reads of its SKU and its category (core/forecasting/profiles.py).
SKU_FORECAST_FIELDS = ("category", "end_of_life_on", "season_ends_on")
CATEGORY_FORECAST_FIELDS = ("profile", "seasonal_coefficients")
# A successor chain longer than this is refused: no catalogue hands a product on that many times.
MAX_SUCCESSOR_CHAIN = 100


def _code_taken(noun: str, code: str) -> ValidationError:
    return ValidationError({"code": f"A {noun} with the code '{code}' already exists in this tenant."})


def _insert_with_unique_code(instance: Warehouse | Category | Sku, *, noun: str, constraint: str) -> None:
    """Validate and insert; a code taken by a concurrent request is the same 400 as one taken before."""
    if type(instance).objects.filter(tenant_id=instance.tenant_id, code=instance.code).exists():
        raise _code_taken(noun, instance.code)
    instance.full_clean()
    try:
        with transaction.atomic():  # a savepoint, so a lost race leaves the outer transaction usable
            instance.save(force_insert=True)
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != constraint:
            raise
        raise _code_taken(noun, instance.code) from None


def _update(
    instance: Warehouse | Category | Sku,
    changes: dict[str, object],
    allowed: frozenset[str],
    *,
    actor: Principal | str,
    action: str,
) -> Warehouse | Category | Sku:
    """Set the changed fields, refusing any other (the code above all), save and audit them."""
    refused = set(changes) - allowed
    if refused:
        raise ValidationError(dict.fromkeys(sorted(refused), "This field cannot be changed."))
    for field, value in changes.items():
        setattr(instance, field, value)
    instance.full_clean()
    # Only the named columns are written, so two edits of different fields do not undo each other.
    instance.save(update_fields=[*changes, "updated_at"])
    audit_record(
        tenant=instance.tenant,
        actor=actor,
        action=action,
        target=instance,
        data={"code": instance.code, "fields": sorted(changes)},
    )
    return instance


def _require_same_tenant(*, tenant: Tenant, category: Category) -> None:
    if category.tenant_id != tenant.pk:
        raise ValidationError({"category": "No category with this code in this tenant."})


def _successor_check(*, tenant: Tenant, sku: Sku | None, successor: Sku | None) -> None:
    """The successor is another SKU of the tenant, and following successors from it never leads
    back to ``sku``. The chain's rows are locked, so two edits that would close a cycle together
    cannot both pass."""
    if successor is None:
        return
    if successor.tenant_id != tenant.pk:
        raise ValidationError({"successor": "No SKU with this code in this tenant."})
    if sku is None:
        return  # a new SKU: nothing names it yet
    if successor.pk == sku.pk:
        raise ValidationError({"successor": "A SKU cannot be its own successor."})
    chain = [sku.code, successor.code]
    current = successor.pk
    for _ in range(MAX_SUCCESSOR_CHAIN):
        row = Sku.objects.select_for_update(of=("self",)).filter(pk=current).values("successor_id").first()
        current = row["successor_id"] if row else None
        if current is None:
            return
        if current == sku.pk:
            raise ValidationError(
                {"successor": f"Successors would go round in a cycle: {' -> '.join(chain)} -> {sku.code}."}
            )
        chain.append(Sku.objects.filter(pk=current).values_list("code", flat=True).first() or "?")
    raise ValidationError({"successor": f"The successor chain is longer than {MAX_SUCCESSOR_CHAIN} SKUs."})


def _stored(instance: Sku | Category, fields: Sequence[str]) -> tuple:
    return tuple(getattr(instance, instance._meta.get_field(name).attname) for name in fields)


def positions_mark_changed(
    *, tenant_id: object, sku_ids: Sequence[object] = (), category_ids: Sequence[object] = ()
) -> int:
    """Mark the positions of these SKUs, and of every SKU in these categories, as changed: their
    forecasts refit on the next pass and the engine evaluates them again. Locks in id order, as
    ingestion does. Answers how many were marked."""
    if not sku_ids and not category_ids:
        return 0
    positions, skus = Position._meta.db_table, Sku._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH chosen AS (
                SELECT p.id FROM {positions} p
                WHERE p.tenant_id = %(tenant)s AND (
                    p.sku_id = ANY(%(skus)s::uuid[])
                    OR p.sku_id IN (SELECT s.id FROM {skus} s
                                    WHERE s.tenant_id = %(tenant)s AND s.category_id = ANY(%(categories)s::uuid[]))
                )
                ORDER BY p.id FOR NO KEY UPDATE
            )
            UPDATE {positions} p SET updated_at = now(), dirty_since = COALESCE(p.dirty_since, now())
            FROM chosen WHERE p.id = chosen.id
            """,  # noqa: S608 - table names only
            {
                "tenant": tenant_id,
                "skus": [str(pk) for pk in sku_ids],
                "categories": [str(pk) for pk in category_ids],
            },
        )
        marked = cursor.rowcount
    if marked:
        ledger_hooks.positions_changed(tenant_id=tenant_id)
    return marked


# Warehouses


@transaction.atomic
def warehouse_create(
    *,
    tenant: Tenant,
    code: str,
    name: str,
    region: str,
    kind: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    is_active: bool = True,
    actor: Principal | str = SYSTEM_ACTOR,
) -> Warehouse:
    warehouse = Warehouse(
        tenant=tenant,
        code=code,
        name=name,
        region=region,
        kind=kind,
        latitude=latitude,
        longitude=longitude,
        is_active=is_active,
    )
    _insert_with_unique_code(warehouse, noun="warehouse", constraint="warehouse_unique_code")
    audit_record(tenant=tenant, actor=actor, action="warehouse.created", target=warehouse, data={"code": code})
    return warehouse


@transaction.atomic
def warehouse_update(*, warehouse: Warehouse, actor: Principal | str, **changes: object) -> Warehouse:
    return _update(warehouse, changes, WAREHOUSE_CHANGEABLE, actor=actor, action="warehouse.updated")


@transaction.atomic
def warehouse_delete(*, warehouse: Warehouse, actor: Principal | str) -> None:
    # Locked so a concurrent edit or delete of the same row waits for this decision.
    warehouse = Warehouse.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=warehouse.pk)
    if Position.objects.filter(tenant_id=warehouse.tenant_id, warehouse=warehouse).exists():
        raise Conflict(
            f"Warehouse '{warehouse.code}' has stock positions, whose ledger lines are kept for good. "
            "Set is_active to false instead of deleting it."
        )
    audit_record(
        tenant=warehouse.tenant,
        actor=actor,
        action="warehouse.deleted",
        target=warehouse,
        data={"code": warehouse.code},
    )
    warehouse.delete()


# Categories


@transaction.atomic
def category_create(
    *,
    tenant: Tenant,
    code: str,
    name: str,
    profile: str = IndustryProfile.GENERAL,
    seasonal_coefficients: list[float] | None = None,
    actor: Principal | str = SYSTEM_ACTOR,
) -> Category:
    category = Category(
        tenant=tenant, code=code, name=name, profile=profile, seasonal_coefficients=seasonal_coefficients
    )
    _insert_with_unique_code(category, noun="category", constraint="category_unique_code")
    audit_record(tenant=tenant, actor=actor, action="category.created", target=category, data={"code": code})
    return category


@transaction.atomic
def category_update(*, category: Category, actor: Principal | str, **changes: object) -> Category:
    before = _stored(category, CATEGORY_FORECAST_FIELDS)
    category = _update(category, changes, CATEGORY_CHANGEABLE, actor=actor, action="category.updated")
    if _stored(category, CATEGORY_FORECAST_FIELDS) != before:
        positions_mark_changed(tenant_id=category.tenant_id, category_ids=[category.pk])
    return category


@transaction.atomic
def category_delete(*, category: Category, actor: Principal | str) -> None:
    category = Category.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=category.pk)
    sku_count = Sku.objects.filter(tenant_id=category.tenant_id, category=category).count()
    if sku_count:
        raise Conflict(
            f"Category '{category.code}' still has {sku_count} SKU(s). "
            "Move them to another category (PATCH each SKU's category) before deleting it."
        )
    audit_record(
        tenant=category.tenant, actor=actor, action="category.deleted", target=category, data={"code": category.code}
    )
    category.delete()


# SKUs


@transaction.atomic
def sku_create(
    *,
    tenant: Tenant,
    code: str,
    name: str,
    category: Category,
    unit_cost: Decimal,
    list_price: Decimal,
    velocity_class: str = VelocityClass.LONG_TAIL,
    launch_date: date | None = None,
    shelf_life_days: int | None = None,
    status: str = SkuStatus.ACTIVE,
    end_of_life_on: date | None = None,
    successor: Sku | None = None,
    season_ends_on: date | None = None,
    actor: Principal | str = SYSTEM_ACTOR,
) -> Sku:
    _require_same_tenant(tenant=tenant, category=category)
    _successor_check(tenant=tenant, sku=None, successor=successor)
    sku = Sku(
        tenant=tenant,
        code=code,
        name=name,
        category=category,
        unit_cost=unit_cost,
        list_price=list_price,
        velocity_class=velocity_class,
        launch_date=launch_date,
        shelf_life_days=shelf_life_days,
        status=status,
        end_of_life_on=end_of_life_on,
        successor=successor,
        season_ends_on=season_ends_on,
    )
    _insert_with_unique_code(sku, noun="SKU", constraint="sku_unique_code")
    audit_record(tenant=tenant, actor=actor, action="sku.created", target=sku, data={"code": code})
    return sku


@transaction.atomic
def sku_update(*, sku: Sku, actor: Principal | str, **changes: object) -> Sku:
    category = changes.get("category")
    if isinstance(category, Category):
        _require_same_tenant(tenant=sku.tenant, category=category)
    if "successor" in changes:
        _successor_check(tenant=sku.tenant, sku=sku, successor=changes["successor"])
    before = _stored(sku, SKU_FORECAST_FIELDS)
    sku = _update(sku, changes, SKU_CHANGEABLE, actor=actor, action="sku.updated")
    if _stored(sku, SKU_FORECAST_FIELDS) != before:
        positions_mark_changed(tenant_id=sku.tenant_id, sku_ids=[sku.pk])
    return sku


@transaction.atomic
def sku_delete(*, sku: Sku, actor: Principal | str) -> None:
    sku = Sku.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=sku.pk)
    if Position.objects.filter(tenant_id=sku.tenant_id, sku=sku).exists():
        raise Conflict(
            f"SKU '{sku.code}' has stock positions, whose ledger lines are kept for good. "
            "Set its status to discontinued instead of deleting it."
        )
    audit_record(tenant=sku.tenant, actor=actor, action="sku.deleted", target=sku, data={"code": sku.code})
    sku.delete()
