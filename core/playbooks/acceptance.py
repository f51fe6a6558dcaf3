"""A planner's decision on a playbook record: accepted or rejected, never proposed again. An
accepted transfer proposal becomes an approved transfer request in the same transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.playbooks.models import Recommendation, RecommendationKind, RecommendationStatus
from core.retries import atomic_retried
from core.transfers.models import Approval
from core.transfers.services import transfer_request_create
from tenants.principals import Principal
from tenants.services import audit_record


@transaction.atomic
def recommendation_decide(
    *, recommendation: Recommendation, actor: Principal, accept: bool, note: str = ""
) -> Recommendation:
    """A planner accepts or rejects a proposed record; either way it is not proposed again."""
    record = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    if record.status != RecommendationStatus.PROPOSED:
        raise Conflict(f"This recommendation is {record.status}; only a proposed one can be accepted or rejected.")
    record.status = RecommendationStatus.ACCEPTED if accept else RecommendationStatus.REJECTED
    record.decided_by, record.decided_at, record.decision_note = actor.describe(), timezone.now(), note
    record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit_record(
        tenant=actor.tenant, actor=actor, action=f"recommendation.{record.status}", target=record, data={"note": note}
    )
    return record


@atomic_retried
def recommendation_accept(*, recommendation: Recommendation, actor: Principal, note: str = "") -> Recommendation:
    """Accept a playbook record; an accepted transfer proposal becomes an approved transfer request
    in the same transaction (if its source can no longer spare the units, nothing is accepted)."""
    record = recommendation_decide(recommendation=recommendation, actor=actor, accept=True, note=note)
    if record.kind == RecommendationKind.TRANSFER:
        (move,) = record.figures["moves"]
        try:
            transfer_request_create(
                principal=actor,
                tenant=actor.tenant,
                sku=record.sku.code,
                source=move["from_warehouse"],
                destination=move["to_warehouse"],
                quantity=int(move["quantity"]),
                note=f"Transfer proposal {record.pk}",
                recommendation=record,
                approval=Approval.PLAN,
            )
        except ValidationError as exc:
            raise Conflict(f"The proposal cannot be carried out now: {'; '.join(exc.messages)}") from None
    return record
