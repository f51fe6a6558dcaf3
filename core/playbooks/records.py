"""Playbook records: the markdown, clearance or transfer an alert's grade calls for, as a record a
planner accepts or rejects (``acceptance``). One proposed record per alert; when the alert changes
grade the old proposal is superseded, and a kind the planner already decided on is not proposed again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from core.access.views import event_payloads
from core.alerts.models import LIVE, Alert, AlertEventKind, IndicatorReading
from core.alerts.policies import PolicyBook
from core.alerts.timeline import timeline_entry, timeline_write
from core.forecasting.elasticity import PriceResponse, price_responses
from core.playbooks.events import RECOMMENDATION_PROPOSED
from core.playbooks.models import Recommendation, RecommendationKind, RecommendationStatus
from core.playbooks.pricing import clearance_ladder, markdown_figures
from core.playbooks.recommend import LAST_DAY_INPUTS
from core.webhooks.outbox import Event, outbox_emit
from tenants.principals import SYSTEM_ACTOR

# The alert recommendation's action -> the playbook record that carries it out.
PLAYBOOK_OF_ACTION = {
    "markdown": RecommendationKind.MARKDOWN,
    "clearance": RecommendationKind.CLEARANCE,
    "transfer": RecommendationKind.TRANSFER,
    "redistribution": RecommendationKind.TRANSFER,
}


def _wanted(alert: Alert) -> str | None:
    kind = PLAYBOOK_OF_ACTION.get((alert.recommendation or {}).get("action"))
    if kind == RecommendationKind.TRANSFER and not alert.recommendation.get("to_warehouse"):
        return None  # nowhere sells it short: the alert itself says to consider a markdown
    return kind


def _figures(
    alert: Alert, kind: str, reading: IndicatorReading | None, parameters: dict, response: PriceResponse, today: date
) -> tuple[str, dict, str]:
    """(method, figures, summary) of one record."""
    advice = alert.recommendation or {}
    quantity = int(advice.get("quantity") or 0)
    ads = float(reading.ads_28) if reading else 0.0
    list_price = float(alert.sku.list_price)
    if kind == RecommendationKind.TRANSFER:
        move = {"from_warehouse": alert.warehouse.code, "to_warehouse": advice["to_warehouse"], "quantity": quantity}
        summary = f"Move {quantity} units of {alert.sku.code} from {alert.warehouse.code} to {advice['to_warehouse']}."
        return (
            "sell_where_it_sells",
            {"moves": [move], "target_days_of_cover": advice.get("target_days_of_cover")},
            summary,
        )
    markdown = markdown_figures(
        excess=quantity,
        ads_28=ads,
        list_price=list_price,
        response=response,
        default_percent=float(parameters["markdown_percent"]),
    )
    if kind == RecommendationKind.MARKDOWN:
        summary = (
            f"Mark {alert.sku.code} down {markdown['percent']:g} % at {alert.warehouse.code} to sell {quantity} "
            f"excess units within {markdown['horizon_days']} days"
            + (f" (price response {markdown['elasticity']:g})." if markdown["elasticity"] is not None else ".")
        )
        return markdown["method"], markdown, summary
    expiring = reading is not None and reading.days_to_expiry is not None and alert.rule == "expiry_risk"
    deadline = int(reading.days_to_expiry) if expiring else int(parameters["clearance_horizon_days"])
    last_day = LAST_DAY_INPUTS.get(alert.rule)
    if last_day is not None and (alert.inputs or {}).get(last_day[0]) is not None:
        # Obsolescence and season end: cleared by the last selling day.
        deadline = int(alert.inputs[last_day[0]])
    ladder = clearance_ladder(
        quantity=quantity,
        ads_28=ads,
        start_percent=markdown["percent"],
        step_percent=float(parameters["clearance_step_percent"]),
        max_percent=float(parameters["clearance_max_discount_percent"]),
        deadline_days=max(deadline, 7),
        elasticity=markdown["elasticity"],
        starts_on=today,
    )
    ladder["deadline_reason"] = (
        "earliest expiry" if expiring else ("last selling day" if last_day is not None else "clearance horizon")
    )
    left = ladder["left_for_liquidation"]
    summary = (
        f"Clear {quantity} units of {alert.sku.code} at {alert.warehouse.code} in {len(ladder['weeks'])} weekly "
        f"steps from {markdown['percent']:g} % off"
        + (f"; {left} units left for a liquidator by {ladder['deadline']}." if left else "; cleared in time.")
    )
    return markdown["method"], ladder, summary


@transaction.atomic
def recommendations_sync(*, alert_ids: Iterable, today: date | None = None) -> int:
    """Bring the alerts' playbook records in line with their current grade; answer how many were proposed."""
    today = today or timezone.now().date()
    alerts = list(
        Alert.objects.filter(pk__in=list(alert_ids)).select_related("sku", "warehouse", "tenant").order_by("pk")
    )
    if not alerts:
        return 0
    existing: dict[object, dict[str, Recommendation]] = {}
    for record in Recommendation.objects.select_for_update().filter(alert__in=alerts):
        existing.setdefault(record.alert_id, {})[record.kind] = record
    live_ids = set(Alert.objects.filter(LIVE, pk__in=[a.pk for a in alerts]).values_list("pk", flat=True))
    todo: list[tuple[Alert, str]] = []
    superseded: list[Recommendation] = []
    for alert in alerts:
        wanted = _wanted(alert) if alert.pk in live_ids else None
        for kind, record in existing.get(alert.pk, {}).items():
            if record.status == RecommendationStatus.PROPOSED and kind != wanted:
                record.status, record.updated_at = RecommendationStatus.SUPERSEDED, timezone.now()
                superseded.append(record)
        record = existing.get(alert.pk, {}).get(wanted) if wanted else None
        refigure = record is not None and record.status == RecommendationStatus.PROPOSED and record.grade != alert.grade
        if wanted and (record is None or record.status == RecommendationStatus.SUPERSEDED or refigure):
            todo.append((alert, wanted))
    Recommendation.objects.bulk_update(superseded, ["status", "updated_at"])
    if not todo:
        return 0
    readings = {
        r.position_id: r for r in IndicatorReading.objects.filter(position_id__in=[a.position_id for a, _ in todo])
    }
    responses = price_responses(
        tenant_id=todo[0][0].tenant_id, position_ids=sorted({a.position_id for a, _ in todo}), today=today
    )
    book = PolicyBook(todo[0][0].tenant)
    proposed: list[Recommendation] = []
    for alert, kind in todo:
        sku = alert.sku
        parameters = book.effective(
            alert.rule, sku_id=sku.pk, category_id=sku.category_id, velocity_class=sku.velocity_class
        ).parameters
        method, figures, summary = _figures(
            alert, kind, readings.get(alert.position_id), parameters, responses[alert.position_id], today
        )
        record = existing.get(alert.pk, {}).get(kind) or Recommendation(
            tenant_id=alert.tenant_id,
            alert=alert,
            position_id=alert.position_id,
            sku_id=alert.sku_id,
            warehouse_id=alert.warehouse_id,
            kind=kind,
        )
        record.grade, record.status, record.method = alert.grade, RecommendationStatus.PROPOSED, method
        record.figures, record.summary = figures, summary
        record.save()
        proposed.append(record)
    now = timezone.now()
    timeline_write(
        [
            timeline_entry(
                tenant_id=r.tenant_id,
                alert_id=r.alert_id,
                kind=AlertEventKind.RECOMMENDED,
                actor=SYSTEM_ACTOR,
                at=now,
                from_grade=r.grade,
                to_grade=r.grade,
                note=r.summary[:500],
                data={"recommendation_id": str(r.pk), "kind": r.kind},
            )
            for r in proposed
        ]
    )
    told = [
        (
            r,
            {
                "recommendation_id": str(r.pk),
                "kind": r.kind,
                "alert_id": str(r.alert_id),
                "sku": r.alert.sku.code,
                "warehouse": r.alert.warehouse.code,
                "summary": r.summary,
            },
        )
        for r in proposed
    ]
    outbox_emit(
        [
            Event(
                tenant_id=r.tenant_id,
                type=RECOMMENDATION_PROPOSED.name,
                data=data,
                partner_payloads=event_payloads(RECOMMENDATION_PROPOSED.name, data),
                sku_id=r.sku_id,
                warehouse_id=r.warehouse_id,
                staff_only=True,
            )
            for r, data in told
        ]
    )
    return len(proposed)


def _wanted_kind() -> Case:
    """SQL for ``_wanted``: the kind of record an alert's current recommendation calls for, or ''."""
    with_target = Q(recommendation__has_key="to_warehouse") & ~Q(recommendation__to_warehouse=None)
    return Case(
        When(recommendation__action="markdown", then=Value(RecommendationKind.MARKDOWN)),
        When(recommendation__action="clearance", then=Value(RecommendationKind.CLEARANCE)),
        When(
            Q(recommendation__action__in=["transfer", "redistribution"]) & with_target,
            then=Value(RecommendationKind.TRANSFER),
        ),
        default=Value(""),
        output_field=CharField(),
    )


def recommendations_due(*, limit: int = 2000) -> list:
    """Alerts a sync would change: a live alert without a record of the kind its grade calls for
    (proposed or decided), one whose proposal is of another kind or grade, and a quiet one still
    proposing."""
    live = Alert.objects.filter(LIVE).annotate(wanted=_wanted_kind())
    has_wanted = Recommendation.objects.filter(alert=OuterRef("pk"), kind=OuterRef("wanted")).exclude(
        status=RecommendationStatus.SUPERSEDED
    )
    other_proposed = Recommendation.objects.filter(alert=OuterRef("pk"), status=RecommendationStatus.PROPOSED).exclude(
        kind=OuterRef("wanted")
    )
    regraded = Recommendation.objects.filter(
        alert=OuterRef("pk"), kind=OuterRef("wanted"), status=RecommendationStatus.PROPOSED
    ).exclude(grade=OuterRef("grade"))
    due = live.filter((~Q(wanted="") & ~Exists(has_wanted)) | Exists(other_proposed) | Exists(regraded))
    quiet = Recommendation.objects.filter(status=RecommendationStatus.PROPOSED).exclude(
        alert__in=Alert.objects.filter(LIVE)
    )
    return [*due.values_list("pk", flat=True)[:limit], *quiet.values_list("alert_id", flat=True)[:limit]]
