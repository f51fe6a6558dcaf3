"""Reads of promotions: by who is asking (the API), per position (the forecast and its backtest), and
the next promotion of each position with its uplift (for the rules that stock up ahead of one).

Who sees which promotion: staff and the ERP (scope: the whole tenant) every one; a distributor
(scope: its granted warehouses) those touching a warehouse granted to it, at either grant level (a
promotion is a plan, not a stock figure), each listing only its granted warehouses; a kind without
that scope (a supplier) or unknown to the registry none: the views do not grant it the resource.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from core.access.scope import partner_scope
from core.exceptions import NotFound
from core.forecasting.elasticity import price_responses
from core.forecasting.models import Forecast, Promotion
from core.forecasting.uplift import PromotionWindow, prior_uplift
from core.inventory.models import Position
from tenants.principals import Principal


def visible_warehouse_ids(principal: Principal) -> set | None:
    """The warehouse ids whose promotions the principal sees; None: every warehouse."""
    scope = partner_scope(principal.partner)
    if scope.warehouses is None:
        return None
    return set(scope.warehouses.values_list("id", flat=True))


def promotion_list(*, principal: Principal) -> QuerySet[Promotion]:
    """The promotions the principal may see (see the module); ``visible_warehouse_ids`` says which of
    their warehouses it may be shown."""
    promotions = Promotion.objects.filter(tenant=principal.tenant).select_related("sku")
    scope = partner_scope(principal.partner)
    if scope.skus is not None:
        promotions = promotions.filter(sku_id__in=scope.skus)
    if scope.warehouses is not None:
        granted = list(scope.warehouses.values_list("id", flat=True))
        if not granted:
            return Promotion.objects.none()
        promotions = promotions.filter(Q(all_warehouses=True) | Q(warehouse_ids__overlap=granted))
    return promotions.order_by("starts_on", "created_at", "id")


def promotion_get(*, principal: Principal, promotion_id: object) -> Promotion:
    """One promotion; a missing, foreign or unseen one is the same 404."""
    found = promotion_list(principal=principal).filter(pk=promotion_id).first()
    if found is None:
        raise NotFound
    return found


def window_of(promotion: Promotion) -> PromotionWindow:
    return PromotionWindow(
        id=str(promotion.pk),
        starts_on=promotion.starts_on,
        ends_on=promotion.ends_on,
        discount=float(promotion.discount_percent) / 100,
        expected_uplift=float(promotion.expected_uplift) if promotion.expected_uplift is not None else None,
    )


def promotion_windows(
    *,
    tenant_id: object,
    positions: Sequence[tuple[int, object, object]],
    day_from: date,
    day_to: date,
    created_by: datetime | None = None,
) -> dict[int, list[PromotionWindow]]:
    """The promotions touching each position (``positions``: (id, sku id, warehouse id)) on a day of
    [day_from, day_to] (created by ``created_by`` if given), in one query; positions without any are
    left out."""
    if not positions:
        return {}
    by_sku: dict[object, list[tuple[int, object]]] = defaultdict(list)
    for position_id, sku_id, warehouse_id in positions:
        by_sku[sku_id].append((position_id, warehouse_id))
    # The SKUs as one array literal: an IN list of thousands, or a list psycopg adapts element by
    # element, costs more to build than the query takes to run.
    skus = RawSQL("SELECT unnest(%s::uuid[])", ["{" + ",".join(map(str, by_sku)) + "}"])
    promotions = Promotion.objects.filter(
        tenant_id=tenant_id, sku_id__in=skus, starts_on__lte=day_to, ends_on__gte=day_from
    )
    if created_by is not None:
        promotions = promotions.filter(created_at__lte=created_by)
    promotions = promotions.order_by("starts_on", "id")
    found: dict[int, list[PromotionWindow]] = defaultdict(list)
    for promotion in promotions:
        window = window_of(promotion)
        warehouses = set(promotion.warehouse_ids)
        for position_id, warehouse_id in by_sku[promotion.sku_id]:
            if promotion.all_warehouses or warehouse_id in warehouses:
                found[position_id].append(window)
    return dict(found)


def promotion_position_ids(*, tenant_id: object, sku_id: object, warehouse_ids: Iterable, all_warehouses: bool) -> list:
    """The positions of the SKU a promotion touches."""
    positions = Position.objects.filter(tenant_id=tenant_id, sku_id=sku_id)
    if not all_warehouses:
        positions = positions.filter(warehouse_id__in=list(warehouse_ids))
    return list(positions.order_by("id").values_list("id", flat=True))


@dataclass(frozen=True)
class UpcomingPromotion:
    """A position's next promotion and what the forecast expects of it."""

    promotion_id: str
    starts_on: date
    ends_on: date
    discount_percent: float
    uplift: float
    uplift_source: str  # learned, stated, elasticity, default_elasticity
    # Expected units over the promotion's days within the stored forecast's horizon (uplift
    # applied); None when the stored forecast does not reach the promotion or predates it.
    promoted_mean: float | None


def promotions_upcoming(
    *,
    tenant_id: object,
    positions: Sequence[tuple[int, object, object]],
    today: date,
    days: int,
    created_by: datetime | None = None,
) -> dict[int, UpcomingPromotion]:
    """Per position ((id, sku id, warehouse id), as the caller has read them), the promotion running
    today or starting within ``days`` days (the earliest one), with its uplift as the stored forecast
    applied it; where the forecast has not seen it yet (fitted before the promotion was made), its
    prior uplift (stated, else from the elasticity). Positions without one are left out.

    One indexed look at whether the tenant has any promotion in the window (the engine asks for every
    chunk it evaluates, mostly of tenants without one), and where it does two queries more.
    """
    day_to = today + timedelta(days=days)
    touching = Promotion.objects.filter(tenant_id=tenant_id, starts_on__lte=day_to, ends_on__gte=today)
    if created_by is not None:  # a replayed day sees only the promotions known by its end
        touching = touching.filter(created_at__lte=created_by)
    if not positions or not touching.exists():
        return {}
    windows = promotion_windows(
        tenant_id=tenant_id, positions=positions, day_from=today, day_to=day_to, created_by=created_by
    )
    if not windows:
        return {}
    stored = dict(
        Forecast.objects.filter(tenant_id=tenant_id, position_id__in=list(windows)).values_list(
            "position_id", "promotions"
        )
    )
    missing = [pid for pid, found in windows.items() if not _applied(stored.get(pid), found[0])]
    elasticities = price_responses(tenant_id=tenant_id, position_ids=missing, today=today) if missing else {}
    out = {}
    for position_id, found in windows.items():
        window = found[0]
        applied = _applied(stored.get(position_id), window)
        if applied is not None:
            uplift, source, promoted = applied["uplift"], applied["source"], applied.get("promoted_mean")
        else:
            response = elasticities.get(position_id)
            prior = prior_uplift(window, response.elasticity if response else None)
            uplift, source, promoted = prior.uplift, prior.source, None
        out[position_id] = UpcomingPromotion(
            promotion_id=window.id,
            starts_on=window.starts_on,
            ends_on=window.ends_on,
            discount_percent=round(window.discount * 100, 2),
            uplift=float(uplift),
            uplift_source=source,
            promoted_mean=promoted,
        )
    return out


def _applied(promotions: list[dict] | None, window: PromotionWindow) -> dict | None:
    """The stored forecast's entry for the promotion, if it was fitted for the promotion as it is now."""
    days = (window.starts_on.isoformat(), window.ends_on.isoformat())
    return next(
        (e for e in promotions or [] if e.get("id") == window.id and (e.get("starts_on"), e.get("ends_on")) == days),
        None,
    )
