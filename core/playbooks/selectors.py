"""Reads of playbook records, within the asking principal's tenant (the views admit only its staff)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import NotFound
from core.playbooks.models import Recommendation, RecommendationKind, RecommendationStatus
from tenants.principals import Principal


def recommendation_list(*, principal: Principal) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(tenant=principal.tenant).select_related("sku", "warehouse")


def recommendation_get(*, principal: Principal, recommendation_id: object) -> Recommendation:
    recommendation = recommendation_list(principal=principal).filter(pk=recommendation_id).first()
    if recommendation is None:
        raise NotFound
    return recommendation


# A clearance plan is a ladder of markdowns: accepting either is the price response to an alert.
PRICE_RESPONSE_KINDS = (RecommendationKind.MARKDOWN, RecommendationKind.CLEARANCE)


def markdowns_accepted_sql(*, tenant: str) -> str:
    """SQL answering ``alert_id, position_id, kind, at`` of every accepted markdown suggestion or
    clearance plan of the tenant ``tenant`` (a placeholder): ``markdown_accepted``, at the decision.
    An accepted transfer proposal is an approved transfer, which the transfers app answers."""
    kinds = ", ".join(f"'{kind.value}'" for kind in PRICE_RESPONSE_KINDS)
    return f"""
    SELECT r.alert_id, r.position_id, 'markdown_accepted'::text AS kind, r.decided_at AS at
    FROM {Recommendation._meta.db_table} r
    WHERE r.tenant_id = {tenant} AND r.status = '{RecommendationStatus.ACCEPTED.value}'
      AND r.kind IN ({kinds}) AND r.decided_at IS NOT NULL"""  # noqa: S608 - a table name, constants and the caller's SQL
