"""Reads of playbook records, within the asking principal's tenant (the views admit only its staff)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import NotFound
from core.playbooks.models import Recommendation
from tenants.principals import Principal


def recommendation_list(*, principal: Principal) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(tenant=principal.tenant).select_related("sku", "warehouse")


def recommendation_get(*, principal: Principal, recommendation_id: object) -> Recommendation:
    recommendation = recommendation_list(principal=principal).filter(pk=recommendation_id).first()
    if recommendation is None:
        raise NotFound
    return recommendation
