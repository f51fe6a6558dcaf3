"""Supplier offers, RFQs (staff and supplier views), quotes, awards, playbook records, limits."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.filters import ChoicesFilter, FilterSet, IntegerFilter, UUIDFilter
from api.pagination import CreatedCursorPagination
from api.permissions import ADMINS, ANY_STAFF, STAFF_WRITERS
from api.procurement import serializers as s
from api.schema import role_shapes
from api.tenant_scope import TenantScopedView
from core.playbooks import acceptance
from core.playbooks import selectors as playbook_selectors
from core.playbooks.models import Recommendation, RecommendationKind, RecommendationStatus
from core.procurement import awards, quotes, selectors, services
from core.procurement.models import (
    PurchaseOrder,
    PurchaseOrderStatus,
    Quote,
    Rfq,
    RfqInvitation,
    RfqStatus,
)
from core.procurement.rfqs import limits_for
from core.supply import selectors as supply_selectors
from core.supply import services as supply_services
from core.supply.models import SupplierOffer
from tenants.models import PartnerKind

SUPPLIER = frozenset({PartnerKind.SUPPLIER})
STAFF_OR_SUPPLIER = ANY_STAFF | SUPPLIER
MAX_OFFERS_PER_PUSH = 10_000
_CONFLICT = {409: OpenApiResponse(ErrorResponseSerializer, description="Not allowed in the current state.")}


# --- Supplier offers ------------------------------------------------------------------------------


class OfferFilter(FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    supplier_id = UUIDFilter(field_name="supplier_id")
    rank = IntegerFilter()

    class Meta:
        model = SupplierOffer
        fields: list[str] = []


class OfferListView(TenantScopedView):
    """Suppliers' standing terms per SKU (rank 1 primary, 2 and up backups); a supplier sees its own."""

    access = {"GET": STAFF_OR_SUPPLIER, "POST": STAFF_WRITERS}
    queryset = SupplierOffer.objects.none()
    filterset_class = OfferFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return supply_selectors.offer_list(principal=self.principal)

    @extend_schema(responses=s.OfferOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.OfferOutput)

    @extend_schema(
        request=s.OfferInput(many=True, min_length=1, max_length=MAX_OFFERS_PER_PUSH),
        responses={200: s.OffersUpsertOutput},
        description="Create or update offers by (SKU, supplier), all or nothing; at most 10,000 per call.",
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        if not isinstance(request.data, list) or not 1 <= len(request.data) <= MAX_OFFERS_PER_PUSH:
            raise serializers.ValidationError({"offers": [f"A JSON array of 1 to {MAX_OFFERS_PER_PUSH:,} offers."]})
        data = s.OfferInput(data=request.data, many=True, min_length=1, max_length=MAX_OFFERS_PER_PUSH)
        data.is_valid(raise_exception=True)
        written = supply_services.supplier_offers_upsert(
            tenant=self.tenant, offers=[dict(offer) for offer in data.validated_data], actor=self.principal
        )
        return Response({"written": written})


class OfferDetailView(TenantScopedView):
    access = {"GET": STAFF_OR_SUPPLIER, "PATCH": STAFF_WRITERS, "DELETE": STAFF_WRITERS}

    def get_object(self) -> SupplierOffer:
        return supply_selectors.offer_get(principal=self.principal, offer_id=self.kwargs["offer_id"])

    @extend_schema(responses=s.OfferOutput)
    def get(self, request: Request, tenant_slug: str, offer_id: str) -> Response:
        return Response(s.OfferOutput(self.get_object()).data)

    @extend_schema(request=s.OfferTermsInput, responses=s.OfferOutput)
    def patch(self, request: Request, tenant_slug: str, offer_id: str) -> Response:
        offer = self.get_object()
        data = s.OfferTermsInput(data=request.data)
        data.is_valid(raise_exception=True)
        offer = supply_services.supplier_offer_update(offer=offer, actor=self.principal, **data.validated_data)
        return Response(s.OfferOutput(supply_selectors.offer_get(principal=self.principal, offer_id=offer.pk)).data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")})
    def delete(self, request: Request, tenant_slug: str, offer_id: str) -> Response:
        supply_services.supplier_offer_delete(offer=self.get_object(), actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LimitsView(TenantScopedView):
    """The tenant's ceilings: RFQs opened per hour, invitations per RFQ, quotes per supplier per RFQ."""

    access = {"GET": ANY_STAFF, "PATCH": ADMINS}

    @extend_schema(responses=s.LimitsOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        return Response(s.LimitsOutput(limits_for(self.tenant)).data)

    @extend_schema(request=s.LimitsInput, responses=s.LimitsOutput)
    def patch(self, request: Request, tenant_slug: str) -> Response:
        data = s.LimitsInput(data=request.data)
        data.is_valid(raise_exception=True)
        limits = services.procurement_limits_update(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.LimitsOutput(limits).data)


# --- RFQs -----------------------------------------------------------------------------------------


class RfqFilter(FilterSet):
    status = ChoicesFilter(choices=RfqStatus.choices)
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    alert_id = UUIDFilter(field_name="alert_id")

    class Meta:
        model = Rfq
        fields: list[str] = []


def _supplier_view(principal: object) -> bool:
    return principal.partner is not None and principal.partner.kind == PartnerKind.SUPPLIER


class RfqListView(TenantScopedView):
    """Staff: every RFQ. A supplier: the RFQs it was invited to, with its own terms only."""

    access = {"GET": STAFF_OR_SUPPLIER}
    queryset = Rfq.objects.none()
    filterset_class = RfqFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.rfq_list(principal=self.principal)

    @extend_schema(responses=role_shapes("RfqRow", s.RfqOutput, s.SupplierRfqOutput, many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        if not _supplier_view(self.principal):
            return self.list_page(s.RfqOutput)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        invitations = {
            invitation.rfq_id: invitation
            for invitation in RfqInvitation.objects.filter(
                rfq__in=[rfq.pk for rfq in page], supplier=self.principal.partner
            )
        }
        return self.get_paginated_response(
            s.SupplierRfqOutput(page, many=True, context={"invitations": invitations}).data
        )


def _rfq_detail(rfq: Rfq, principal: object) -> dict:
    if _supplier_view(principal):
        invitation = selectors.invitation_of(rfq=rfq, principal=principal)
        return s.SupplierRfqOutput(rfq, context={"invitations": {rfq.pk: invitation}}).data
    context = {
        "invitations": selectors.rfq_invitations(rfq=rfq),
        "quotes": selectors.quote_list(rfq=rfq, principal=principal),
        "purchase_order": selectors.purchase_order_of(rfq=rfq),
    }
    return s.RfqDetailOutput(rfq, context=context).data


class RfqDetailView(TenantScopedView):
    """Staff: the figures, invitations, skipped suppliers with why, quotes and the purchase order."""

    access = {"GET": STAFF_OR_SUPPLIER}

    @extend_schema(responses=role_shapes("Rfq", s.RfqDetailOutput, s.SupplierRfqOutput))
    def get(self, request: Request, tenant_slug: str, rfq_id: str) -> Response:
        return Response(_rfq_detail(selectors.rfq_get(principal=self.principal, rfq_id=rfq_id), self.principal))


class RfqQuoteListView(TenantScopedView):
    """Quotes on an RFQ: staff see all, a supplier its own revisions. A supplier posts a quote (or
    its next revision) before the deadline."""

    access = {"GET": STAFF_OR_SUPPLIER, "POST": SUPPLIER}
    queryset = Quote.objects.none()
    pagination_class = None

    @extend_schema(responses=s.QuoteOutput(many=True))
    def get(self, request: Request, tenant_slug: str, rfq_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        return Response(s.QuoteOutput(selectors.quote_list(rfq=rfq, principal=self.principal), many=True).data)

    @extend_schema(request=s.QuoteInput, responses={201: s.QuoteOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, rfq_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        data = s.QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        quote = quotes.quote_submit(rfq=rfq, principal=self.principal, **data.validated_data)
        return Response(s.QuoteOutput(quote).data, status=status.HTTP_201_CREATED)


class RfqQuoteDetailView(TenantScopedView):
    access = {"GET": STAFF_OR_SUPPLIER}

    @extend_schema(responses=s.QuoteOutput)
    def get(self, request: Request, tenant_slug: str, rfq_id: str, quote_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        return Response(s.QuoteOutput(selectors.quote_get(rfq=rfq, principal=self.principal, quote_id=quote_id)).data)


class RfqQuoteWithdrawView(TenantScopedView):
    """The supplier takes its active quote back before the deadline."""

    access = {"POST": SUPPLIER}

    @extend_schema(request=None, responses={200: s.QuoteOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, rfq_id: str, quote_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        quote = quotes.quote_withdraw(rfq=rfq, quote_id=quote_id, principal=self.principal)
        return Response(s.QuoteOutput(quote).data)


class RfqAwardView(TenantScopedView):
    """A planner awards a quote by hand (any active, valid quote of an RFQ not closed)."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(request=s.AwardInput, responses={200: s.RfqDetailOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, rfq_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        data = s.AwardInput(data=request.data)
        data.is_valid(raise_exception=True)
        awards.rfq_award(rfq=rfq, quote_id=data.validated_data["quote_id"], actor=self.principal)
        return Response(_rfq_detail(selectors.rfq_get(principal=self.principal, rfq_id=rfq_id), self.principal))


class RfqCancelView(TenantScopedView):
    """Stop an open RFQ; the invited suppliers are told it closed."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(request=s.ReasonInput, responses={200: s.RfqDetailOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, rfq_id: str) -> Response:
        rfq = selectors.rfq_get(principal=self.principal, rfq_id=rfq_id)
        data = s.ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        awards.rfq_cancel(rfq=rfq, actor=self.principal, reason=data.validated_data["reason"])
        return Response(_rfq_detail(selectors.rfq_get(principal=self.principal, rfq_id=rfq_id), self.principal))


# --- Purchase orders ------------------------------------------------------------------------------


class PurchaseOrderFilter(FilterSet):
    status = ChoicesFilter(choices=PurchaseOrderStatus.choices)
    sku = django_filters.CharFilter(field_name="position__sku__code", help_text="A SKU code.")

    class Meta:
        model = PurchaseOrder
        fields: list[str] = []


class PurchaseOrderListView(TenantScopedView):
    """Awarded orders with what has arrived against them; a supplier sees its own."""

    access = {"GET": STAFF_OR_SUPPLIER}
    queryset = PurchaseOrder.objects.none()
    filterset_class = PurchaseOrderFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.purchase_order_list(principal=self.principal)

    @extend_schema(responses=s.PurchaseOrderDetailOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PurchaseOrderDetailOutput)


class PurchaseOrderDetailView(TenantScopedView):
    access = {"GET": STAFF_OR_SUPPLIER}

    @extend_schema(responses=s.PurchaseOrderDetailOutput)
    def get(self, request: Request, tenant_slug: str, order_id: str) -> Response:
        order = selectors.purchase_order_get(principal=self.principal, order_id=order_id)
        return Response(s.PurchaseOrderDetailOutput(order).data)


class PurchaseOrderCloseView(TenantScopedView):
    """Close an open order short: the rest will not come; it leaves in transit and counts against
    the supplier's reliability."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(request=s.DecisionInput, responses={200: s.PurchaseOrderDetailOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, order_id: str) -> Response:
        order = selectors.purchase_order_get(principal=self.principal, order_id=order_id)
        data = s.DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        awards.purchase_order_close(order=order, actor=self.principal, note=data.validated_data["note"])
        order = selectors.purchase_order_get(principal=self.principal, order_id=order_id)
        return Response(s.PurchaseOrderDetailOutput(order).data)


# --- Playbook records -----------------------------------------------------------------------------


class RecommendationFilter(FilterSet):
    kind = ChoicesFilter(choices=RecommendationKind.choices)
    status = ChoicesFilter(choices=RecommendationStatus.choices)
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    alert_id = UUIDFilter(field_name="alert_id")

    class Meta:
        model = Recommendation
        fields: list[str] = []


class RecommendationListView(TenantScopedView):
    """Markdown suggestions, clearance plans and transfer proposals, for a planner to accept or reject."""

    access = {"GET": ANY_STAFF}
    queryset = Recommendation.objects.none()
    filterset_class = RecommendationFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return playbook_selectors.recommendation_list(principal=self.principal)

    @extend_schema(responses=s.RecommendationOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.RecommendationOutput)


class RecommendationDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.RecommendationOutput)
    def get(self, request: Request, tenant_slug: str, recommendation_id: str) -> Response:
        record = playbook_selectors.recommendation_get(principal=self.principal, recommendation_id=recommendation_id)
        return Response(s.RecommendationOutput(record).data)


class RecommendationDecisionView(TenantScopedView):
    access = {"POST": STAFF_WRITERS}
    accept = True

    @extend_schema(request=s.DecisionInput, responses={200: s.RecommendationOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, recommendation_id: str) -> Response:
        record = playbook_selectors.recommendation_get(principal=self.principal, recommendation_id=recommendation_id)
        data = s.DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"]
        if self.accept:
            # An accepted transfer proposal becomes an approved transfer request in the same step.
            record = acceptance.recommendation_accept(recommendation=record, actor=self.principal, note=note)
        else:
            record = acceptance.recommendation_decide(
                recommendation=record, actor=self.principal, accept=False, note=note
            )
        return Response(
            s.RecommendationOutput(
                playbook_selectors.recommendation_get(principal=self.principal, recommendation_id=record.pk)
            ).data
        )


class RecommendationAcceptView(RecommendationDecisionView):
    """Accept: the planner carries it out (an accepted transfer becomes a transfer request)."""

    accept = True


class RecommendationRejectView(RecommendationDecisionView):
    """Reject, with a note; the same kind is not proposed again for this alert."""

    accept = False
