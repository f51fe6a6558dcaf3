"""Console benchmark: the server time of each planners' page at the evaluation case's scale
(100,000 positions at ``large``), against one raw SQL statement of the page's main read, and the
what-if sandbox over one SKU in all warehouses against the engine's own reading of those positions.

Setup (not measured): the evaluation case's tenant (bench/evaluation.py), one full evaluation (so
readings and alerts exist), ANALYZE (as autovacuum would after such a load), one transfer plan run,
and a planner signed in (``Client.force_login``).

Measured, in one process on the same data:
- each page, through Django's test client (the whole request: middleware, session, view, queries,
  template; no network): WARM_UP requests not counted, then REPEATS timed; p50 and p95.
- its floor: the page's main statement alone on a raw cursor (the heat map's GROUP BY of the
  readings, the inbox's first page of alerts, ...), timed the same way; the ratio is p95 / p95.
- the process as a server runs it: after the setup, the URLconf imported and every object frozen
  out of the cyclic collector's reach (``gc.freeze()``, as core/wsgi.py does once loaded), so a
  full collection during a timed request walks what requests create, not the setup's data.
- the sandbox: one scenario (a demand shock) over one SKU in all its warehouses, posted as a
  planner posts it; its floor is the engine reading those positions (``indicator_rows`` and
  ``readings_assess``) once.

The issue's goals: every page's p95 at most PAGE_GOAL_MS; the sandbox within SANDBOX_GOAL_MS.
"""

from __future__ import annotations

import gc
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.evaluation import _load
from bench.harness import Case, percentile
from core.alerts import runs
from core.alerts.engine import readings_assess
from core.alerts.indicators import indicator_rows
from core.alerts.models import Alert, IndicatorReading
from core.inventory.models import Category, DailyFact, Position, Sku, Warehouse
from core.transfers.models import TransferPlan
from core.transfers.plans import plan_run, plan_start
from tenants import services
from tenants.models import Role
from tenants.principals import SYSTEM_ACTOR, Principal

WARM_UP = 3
REPEATS = 30
SANDBOX_REPEATS = 10
PAGE_GOAL_MS = 150
SANDBOX_GOAL_MS = 1000


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    floor_sql: str
    floor_params: dict


def _timed(call: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def _raw(sql: str, params: dict) -> Callable[[], object]:
    def call() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return call


def _get(client: Client, path: str) -> Callable[[], object]:
    def call() -> object:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    return call


def _pages(tenant, alert: Alert, plan: TransferPlan | None) -> list[Page]:  # noqa: ANN001
    readings, alerts = IndicatorReading._meta.db_table, Alert._meta.db_table
    skus, warehouses = Sku._meta.db_table, Warehouse._meta.db_table
    categories, facts, plans = Category._meta.db_table, DailyFact._meta.db_table, TransferPlan._meta.db_table
    base = f"/console/{tenant.slug}/"
    params = {"tenant": tenant.pk, "alert": alert.pk, "position": alert.position_id}
    active = "status IN ('open', 'acknowledged')"
    pages = [
        Page(
            "overview",
            base,
            f"SELECT grade, rule, count(*) FROM {alerts} WHERE tenant_id = %(tenant)s AND {active} GROUP BY 1, 2",
            params,
        ),
        *(
            Page(
                f"heatmap_{metric}",
                f"{base}heatmap/?metric={metric}",
                f"SELECT w.code, c.code, avg(r.health_index), sum(r.available), sum(r.ads_28) FROM {readings} r "
                f"JOIN {skus} s ON s.id = r.sku_id JOIN {categories} c ON c.id = s.category_id "
                f"JOIN {warehouses} w ON w.id = r.warehouse_id WHERE r.tenant_id = %(tenant)s GROUP BY 1, 2",
                params,
            )
            for metric in ("health_index", "days_of_cover", "overstock_value")
        ),
        Page(
            "inbox",
            f"{base}alerts/",
            f"SELECT * FROM {alerts} WHERE tenant_id = %(tenant)s AND {active} ORDER BY opened_at DESC LIMIT 50",
            params,
        ),
        Page(
            "inbox_red_filtered",
            f"{base}alerts/?grade=red&warehouse={alert.warehouse.code}",
            f"SELECT * FROM {alerts} WHERE tenant_id = %(tenant)s AND {active} AND grade = 'red' "
            "ORDER BY opened_at DESC LIMIT 50",
            params,
        ),
        Page(
            "alert",
            f"{base}alerts/{alert.pk}/",
            f"SELECT * FROM {alerts} WHERE tenant_id = %(tenant)s AND id = %(alert)s",
            params,
        ),
        Page(
            "position",
            f"{base}positions/{alert.position_id}/",
            f"SELECT day, units_sold FROM {facts} WHERE tenant_id = %(tenant)s AND position_id = %(position)s "
            "ORDER BY day DESC LIMIT 180",
            params,
        ),
        Page(
            "plans",
            f"{base}transfer-plans/",
            f"SELECT * FROM {plans} WHERE tenant_id = %(tenant)s ORDER BY created_at DESC LIMIT 20",
            params,
        ),
        Page("sandbox_form", f"{base}sandbox/", "SELECT 1", params),
    ]
    if plan is not None:
        pages.append(
            Page(
                "plan",
                f"{base}transfer-plans/{plan.pk}/",
                f"SELECT * FROM {plans} WHERE tenant_id = %(tenant)s AND id = %(plan)s",
                {**params, "plan": plan.pk},
            )
        )
    return pages


def _sandbox(client: Client, tenant, sku: Sku) -> tuple[list[float], list[float], int]:  # noqa: ANN001
    """The sandbox's answers over one SKU in all its warehouses, and the engine's own read of them."""
    position_ids = list(Position.objects.filter(tenant=tenant, sku=sku).values_list("pk", flat=True))
    form = {"skus": sku.code, "warehouses": "", "kind": "demand_shock", "factor": "2", "days": "14"}

    def post() -> object:
        response = client.post(f"/console/{tenant.slug}/sandbox/", form, HTTP_HX_REQUEST="true")
        if response.status_code != 200:
            raise RuntimeError(f"the sandbox answered {response.status_code}: {response.content[:300]!r}")
        return response

    def engine() -> object:
        today = timezone.now().date()
        with connection.cursor() as cursor:
            rows = indicator_rows(cursor, tenant_id=tenant.pk, position_ids=position_ids, today=today)
        return readings_assess(tenant=tenant, rows=rows, today=today, fingerprinted=False)

    return _timed(post, SANDBOX_REPEATS), _timed(engine, SANDBOX_REPEATS), len(position_ids)


def run(case: Case) -> dict:
    today = timezone.now().date()
    tenant = services.tenant_create(slug=f"bench-console-{uuid.uuid4().hex[:8]}", name="Bench console")
    data = _load(tenant, case, today)
    positions = Position.objects.filter(tenant=tenant).count()
    print(f"console: {positions:,} positions; evaluating once (setup)", file=sys.stderr, flush=True)
    run_ = runs.evaluation_start(tenant=tenant, actor=SYSTEM_ACTOR, as_of=today)
    done = runs.run_execute(run_id=run_.pk)
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"the evaluation did not succeed: {done and done.error}")
    # Freshly loaded tables have no statistics yet; autovacuum would gather them within a minute of
    # such a load in production, so the pages are timed as they run there.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.create_user(username=f"bench-planner-{uuid.uuid4().hex[:6]}", password=None)
    services.membership_set(tenant=tenant, user=user, role=Role.PLANNER)
    print("console: a transfer plan (setup)", file=sys.stderr, flush=True)
    plan = plan_run(plan_id=plan_start(tenant=tenant, actor=Principal(tenant=tenant, user=user, role="planner")).pk)
    if plan is not None and plan.status != "succeeded":
        plan = None
    alert = (
        Alert.objects.filter(tenant=tenant, status="open", grade="red")
        .select_related("warehouse")
        .order_by("pk")
        .first()
    )
    if alert is None:
        raise RuntimeError("the evaluation opened no red alert to open a page of")
    client = Client(HTTP_HOST="localhost")  # a name the bench's settings allow, unlike "testserver"
    client.force_login(user)
    figures: dict[str, object] = {
        "positions": positions,
        "daily_facts": data["daily_facts"],
        "alerts": Alert.objects.filter(tenant=tenant).count(),
        "requests_per_page": REPEATS,
        "goal_page_p95_ms": PAGE_GOAL_MS,
    }
    # As core/wsgi.py does in a server once loaded: the URLconf imported, and what exists by then
    # (here also the setup's data, which no server holds) frozen, so a full collection during a
    # timed request walks only what requests create, as in a gunicorn worker.
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
    worst = 0.0
    for page in _pages(tenant, alert, plan):
        print(f"console: {page.name}", file=sys.stderr, flush=True)
        served = _timed(_get(client, page.path), REPEATS)
        floor = _timed(_raw(page.floor_sql, page.floor_params), REPEATS)
        p95, floor_p95 = percentile(served, 0.95) * 1000, percentile(floor, 0.95) * 1000
        worst = max(worst, p95)
        figures[f"{page.name}_p50_ms"] = round(percentile(served, 0.5) * 1000, 1)
        figures[f"{page.name}_p95_ms"] = round(p95, 1)
        figures[f"{page.name}_floor_p95_ms"] = round(floor_p95, 2)
        figures[f"{page.name}_ratio_to_floor"] = round(p95 / floor_p95, 1) if floor_p95 else None
    figures["worst_page_p95_ms"] = round(worst, 1)
    figures["goal_pages_met"] = "yes" if worst <= PAGE_GOAL_MS else "no"
    sku = Sku.objects.filter(tenant=tenant).order_by("code").first()
    print("console: sandbox", file=sys.stderr, flush=True)
    sandbox, engine, sandbox_positions = _sandbox(client, tenant, sku)
    figures["sandbox_positions"] = sandbox_positions
    figures["sandbox_p50_ms"] = round(percentile(sandbox, 0.5) * 1000, 1)
    figures["sandbox_p95_ms"] = round(percentile(sandbox, 0.95) * 1000, 1)
    figures["sandbox_engine_read_p95_ms"] = round(percentile(engine, 0.95) * 1000, 1)
    figures["sandbox_ratio_to_engine_read"] = round(percentile(sandbox, 0.95) / percentile(engine, 0.95), 1)
    figures["goal_sandbox_ms"] = SANDBOX_GOAL_MS
    figures["goal_sandbox_met"] = "yes" if percentile(sandbox, 0.95) * 1000 <= SANDBOX_GOAL_MS else "no"
    gc.unfreeze()
    return figures
