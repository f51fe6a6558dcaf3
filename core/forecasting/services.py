"""Refreshing the stored forecasts of a tenant's positions.

Per chunk of positions, one SQL statement reads the daily facts of the last ``HISTORY_DAYS`` days
(units sold, flagged units, net stock change), each position's stock now and its stored forecast's
fingerprint; numpy turns them into dense arrays (rebuilding each day's closing stock from the net
changes after it, as the engine does), each position's ``DailyHistory`` is fitted by
``fitting.forecast_history`` unless its fingerprint is unchanged, and the chunk's new forecasts are
written with one upsert.

- Origin: history is read up to yesterday (today is not over); day 1 of every forecast is today.
- Horizon: max(``MIN_HORIZON_DAYS``, the tenant's longest supplier lead time + ``REVIEW_PERIOD_DAYS``).
- Service level: ``SERVICE_LEVEL`` (0.95). The stock-out rule's policy lives in alerts, which sits
  above forecasting and is not read here; the engine can ask for its own quantile when it reads.
- Industry profiles (``profiles``): apparel and electronics SKUs' terms are read per chunk; the
  history is de-seasonalised before the fit and the forecast given the profile after it.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from core.bulk_copy import bigint_array, copy_rows_binary, staging_table_create
from core.forecasting.elasticity import price_responses
from core.forecasting.fit_pool import FitJob, Fitted, fitting_pool
from core.forecasting.fitting import FALLBACK_MODEL
from core.forecasting.history import closing_stock, daily_history
from core.forecasting.models import Forecast
from core.forecasting.profiles import (
    ProfileTerms,
    forecast_profiled,
    history_deseasonalised,
    profile_terms_read,
    promotions_restated,
)
from core.forecasting.promotion_selectors import promotion_windows
from core.forecasting.refit_hooks import forecasts_changed
from core.forecasting.triggers import pending_key
from core.forecasting.uplift import PromotionWindow
from core.inventory.models import DailyFact, Position
from core.inventory.selectors import position_list
from core.supply.selectors import longest_lead_time_days
from core.task_requests import task_request
from tenants.models import Tenant

HISTORY_DAYS = 182  # 26 weeks read per position
MIN_HORIZON_DAYS = 56
REVIEW_PERIOD_DAYS = 7  # the stock-out rule's default review period
SERVICE_LEVEL = 0.95
CHUNK_POSITIONS = 2000
# Fewer positions than this are fitted in the calling process: a pool would not pay for itself.
PARALLEL_MIN_POSITIONS = 2 * CHUNK_POSITIONS
# Part of every fingerprint: a change to how forecasts are made refits every position once.
FIT_VERSION = "1"
REFRESH_TASK = "tripline.forecasting.refresh"

_FACTS_SQL = f"""
WITH pos AS (
    SELECT p.id, p.sku_id, p.warehouse_id, p.on_hand
    FROM {Position._meta.db_table} p
    WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(ids)s::bigint[])
), facts AS (
    -- One row per position, its days as parallel arrays: a chunk's facts cross the wire in
    -- thousands of rows, not hundreds of thousands.
    SELECT f.position_id, array_agg(f.day - %(first)s) AS k, array_agg(f.units_sold) AS sold,
           array_agg(f.units_flagged) AS flagged, array_agg(f.net_change) AS net
    FROM {DailyFact._meta.db_table} f
    WHERE f.tenant_id = %(tenant)s AND f.position_id = ANY(%(ids)s::bigint[])
      AND f.day >= %(first)s AND f.day <= %(today)s
    GROUP BY f.position_id
)
SELECT pos.id, pos.sku_id, pos.warehouse_id, pos.on_hand, fc.fingerprint, facts.k, facts.sold, facts.flagged, facts.net
FROM pos
LEFT JOIN {Forecast._meta.db_table} fc ON fc.tenant_id = %(tenant)s AND fc.position_id = pos.id
LEFT JOIN facts ON facts.position_id = pos.id
ORDER BY pos.id
"""  # noqa: S608 - table names only


@dataclass
class RefreshSummary:
    positions: int = 0
    fitted: int = 0
    unchanged: int = 0
    fallback: int = 0
    horizon: int = 0
    service_level: float = SERVICE_LEVEL
    seconds: float = 0.0
    models: dict[str, int] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)  # per model, summed over the processes

    def as_dict(self) -> dict:
        return {
            "positions": self.positions,
            "fitted": self.fitted,
            "unchanged": self.unchanged,
            "fallback": self.fallback,
            "horizon": self.horizon,
            "service_level": self.service_level,
            "seconds": round(self.seconds, 3),
            "models": dict(sorted(self.models.items())),
            "fit_seconds": {name: round(value, 3) for name, value in sorted(self.fit_seconds.items())},
        }


def forecast_horizon(*, tenant: Tenant) -> int:
    """Days ahead every position of the tenant is forecast."""
    longest = longest_lead_time_days(tenant=tenant) or 0
    return max(MIN_HORIZON_DAYS, longest + REVIEW_PERIOD_DAYS)


def forecasts_refresh(
    *,
    tenant: Tenant,
    position_ids: Sequence[int] | None = None,
    today: date | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict:
    """Refit the forecasts of the tenant's positions (all, or ``position_ids``) whose history,
    horizon or service level changed since their last fit; answer a summary. Safe to run twice.

    Many positions are fitted in ``FORECAST_FIT_PROCESSES`` processes while this one reads the next
    chunk and writes the last: chunk k is fitted while chunk k+1 is read, then chunk k is written."""
    started = time.monotonic()
    today = today or timezone.now().date()
    horizon = forecast_horizon(tenant=tenant)
    summary = RefreshSummary(horizon=horizon)
    positions = position_list(tenant=tenant).order_by("id")
    if position_ids is not None:
        positions = positions.filter(id__in=list(position_ids))
    ids = list(positions.values_list("id", flat=True))
    processes = settings.FORECAST_FIT_PROCESSES if len(ids) >= PARALLEL_MIN_POSITIONS else 1
    with fitting_pool(processes=processes, service_level=SERVICE_LEVEL) as fit:
        pending: tuple[_Chunk, Callable[[], list[Fitted]]] | None = None
        for offset in range(0, len(ids), CHUNK_POSITIONS):
            chunk = _chunk_read(
                tenant=tenant, position_ids=ids[offset : offset + CHUNK_POSITIONS], today=today, horizon=horizon
            )
            fitted = fit(chunk.jobs, horizon)
            if pending is not None:
                _chunk_write(*pending, tenant=tenant, today=today, horizon=horizon, summary=summary, progress=progress)
            pending = (chunk, fitted)
        if pending is not None:
            _chunk_write(*pending, tenant=tenant, today=today, horizon=horizon, summary=summary, progress=progress)
    summary.seconds = time.monotonic() - started
    return summary.as_dict()


def forecasts_refresh_changed(*, tenant: Tenant, today: date | None = None) -> dict:
    """Refresh the positions touched since their forecast was fitted (and those without one, and
    those a promotion change marked with an empty fingerprint); the fingerprint then skips any whose
    history the change did not alter."""
    fresh = Forecast.objects.filter(
        tenant=tenant, position_id=OuterRef("pk"), fitted_at__gte=OuterRef("updated_at")
    ).exclude(fingerprint="")
    ids = list(position_list(tenant=tenant).filter(~Q(Exists(fresh))).values_list("id", flat=True))
    if not ids:
        return RefreshSummary(horizon=forecast_horizon(tenant=tenant)).as_dict()
    return forecasts_refresh(tenant=tenant, position_ids=ids, today=today)


def forecasts_changed_pass(*, tenant_id: object) -> dict | None:
    """The debounced pass ``triggers`` schedules: the tenant's changed positions; None if the tenant
    is gone."""
    cache.delete(pending_key(tenant_id))  # a push from now on schedules the next pass
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return forecasts_refresh_changed(tenant=tenant) if tenant is not None else None


def forecasts_tenant_refresh(*, tenant_id: object) -> dict | None:
    """A tenant's full refresh (unchanged histories are still skipped); None if the tenant is gone."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return forecasts_refresh(tenant=tenant) if tenant is not None else None


def forecasts_sweep() -> int:
    """Ask for every tenant's full refresh, one task each; answer how many were sent."""
    return sum(
        task_request(REFRESH_TASK, args=[str(tenant_id)]) for tenant_id in Tenant.objects.values_list("pk", flat=True)
    )


@dataclass
class _Chunk:
    """A chunk's positions as read: the histories to fit (with their row), and how many were unchanged."""

    rows: list[tuple] = field(default_factory=list)  # (position, SKU, warehouse ids, censored days, digest, profile)
    jobs: list[FitJob] = field(default_factory=list)  # each history with its promotions and elasticity
    positions: int = 0
    unchanged: int = 0


def _chunk_read(*, tenant: Tenant, position_ids: list[int], today: date, horizon: int) -> _Chunk:
    """One statement for the chunk's facts, stock and stored fingerprints; the histories to refit."""
    first = today - timedelta(days=HISTORY_DAYS)
    days = HISTORY_DAYS + 1  # through today: today's net change counts for yesterday's closing stock
    with connection.cursor() as cursor:
        cursor.execute(
            _FACTS_SQL, {"tenant": tenant.pk, "ids": bigint_array(position_ids), "first": first, "today": today}
        )
        rows = cursor.fetchall()
    chunk = _Chunk(positions=len(rows))
    if not rows:
        return chunk
    # Dense arrays: one row per position (in id order), one column per day.
    n = len(rows)
    sold = np.zeros((n, days))
    flagged = np.zeros((n, days))
    net = np.zeros((n, days))
    for i, row in enumerate(rows):
        if row[5] is not None:
            k = np.asarray(row[5], dtype=np.int64)
            sold[i, k], flagged[i, k], net[i, k] = row[6], row[7], row[8]
    on_hand = np.array([row[3] for row in rows], dtype=np.float64)
    closing = closing_stock(on_hand, net)
    terms = profile_terms_read(tenant=tenant, sku_ids={row[1] for row in rows})
    # Promotions: those touching the history read or the horizon, and the price elasticity of the
    # positions with one ahead (for an uplift neither learned nor stated).
    promotions = promotion_windows(
        tenant_id=tenant.pk,
        positions=[row[:3] for row in rows],
        day_from=first,
        day_to=today + timedelta(days=horizon - 1),
    )
    ahead = [pid for pid, windows in promotions.items() if any(w.ends_on >= today for w in windows)]
    elasticities = price_responses(tenant_id=tenant.pk, position_ids=ahead, today=today) if ahead else {}
    for i, row in enumerate(rows):
        position_id, sku_id, warehouse_id, _, stored = row[:5]
        history = daily_history(
            start=first,
            units_sold=sold[i, :HISTORY_DAYS],
            units_flagged=flagged[i, :HISTORY_DAYS],
            on_hand_end=closing[i, :HISTORY_DAYS],
        )
        windows = promotions.get(position_id, [])
        profile = terms.get(sku_id)
        digest = _fingerprint(history.start, history.units, history.censored, horizon, windows, profile)
        if digest == stored:
            chunk.unchanged += 1
            continue
        response = elasticities.get(position_id)
        chunk.rows.append((position_id, sku_id, warehouse_id, int(history.censored.sum()), digest, profile))
        chunk.jobs.append(
            (history_deseasonalised(history, profile), tuple(windows), response.elasticity if response else None)
        )
    return chunk


def _chunk_write(
    chunk: _Chunk,
    fitted: Callable[[], list[Fitted]],
    *,
    tenant: Tenant,
    today: date,
    horizon: int,
    summary: RefreshSummary,
    progress: Callable[[int], object] | None,
) -> None:
    """Wait for the chunk's fits, apply each SKU's profile, and upsert them in one write."""
    fitted_at = timezone.now()
    written: list[tuple] = []
    for (position_id, sku_id, warehouse_id, censored_days, digest, profile), (forecast, applied, seconds) in zip(
        chunk.rows, fitted(), strict=True
    ):
        if profile is not None:
            forecast = forecast_profiled(forecast, profile, origin=today)
            applied = promotions_restated(applied, forecast.mean, origin=today)
        summary.fitted += 1
        summary.fallback += forecast.model == FALLBACK_MODEL
        summary.models[forecast.model] = summary.models.get(forecast.model, 0) + 1
        summary.fit_seconds[forecast.model] = summary.fit_seconds.get(forecast.model, 0.0) + seconds
        c = forecast.classification
        written.append(
            (
                tenant.pk,
                position_id,
                sku_id,
                warehouse_id,
                today,
                horizon,
                forecast.model,
                str(c.demand_class),
                None if math.isinf(c.adi) else c.adi,
                c.cv2,
                c.observed_days,
                censored_days,
                SERVICE_LEVEL,
                forecast.reason,
                fitted_at,
                digest,
                _rounded(forecast.mean),
                _rounded(forecast.p50),
                _rounded(forecast.quantile),
                _rounded(forecast.cumulative_quantile),
                Jsonb(applied),
            )
        )
    summary.positions += chunk.positions
    summary.unchanged += chunk.unchanged
    if written:
        _forecasts_write(written)
        forecasts_changed(tenant=tenant, position_ids=[row[1] for row in written])
    if progress is not None:
        progress(chunk.positions)


# Every column but the key, in the order ``_chunk_write`` builds its rows.
_COLUMNS = {f.column: f.db_type(connection) for f in Forecast._meta.concrete_fields if f.name != "id"}
_UPDATED = [column for column in _COLUMNS if column not in ("tenant_id", "position_id")]
_MERGE_SQL = f"""
INSERT INTO {Forecast._meta.db_table} ({", ".join(_COLUMNS)})
SELECT {", ".join(_COLUMNS)} FROM pg_temp.forecast_stage
ON CONFLICT (tenant_id, position_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED)}
"""  # noqa: S608 - column and table names only


def _forecasts_write(rows: list[tuple]) -> None:
    """Upsert a chunk's forecasts: one binary COPY into a staging table, one merge by position
    (an ORM bulk upsert spends longer building the statement's array literals than fitting)."""
    with transaction.atomic(), connection.cursor() as cursor:
        staging_table_create(cursor, "forecast_stage", _COLUMNS)
        copy_rows_binary(cursor, "pg_temp.forecast_stage", _COLUMNS, rows)
        cursor.execute(_MERGE_SQL)


def _fingerprint(
    start: date,
    units: np.ndarray,
    censored: np.ndarray,
    horizon: int,
    windows: Sequence[PromotionWindow] = (),
    profile: ProfileTerms | None = None,
) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FIT_VERSION}|{start.isoformat()}|{horizon}|{SERVICE_LEVEL}|".encode())
    # The promotions touching the position: making, changing or deleting one refits it.
    digest.update("|".join(sorted(w.token() for w in windows)).encode())
    if profile is not None:  # absent for most positions, whose digests stay what they were
        digest.update(f"profile:{profile.fingerprint()}|".encode())
    digest.update(np.ascontiguousarray(units, dtype=np.float64).tobytes())
    digest.update(np.packbits(censored).tobytes())
    return digest.hexdigest()


def _rounded(values: np.ndarray) -> list[float]:
    # Four-byte floats are stored: round to what they hold, so what is read back equals what was shown.
    return np.round(np.asarray(values, dtype=np.float64), 3).astype(np.float32).tolist()
