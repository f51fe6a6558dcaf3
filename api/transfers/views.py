"""The shared stock view, distributor grants, transfer requests and their steps, plans."""

from __future__ import annotations

from functools import partial

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.filters import ChoicesFilter, FilterSet
from api.pagination import CreatedCursorPagination, IdCursorPagination
from api.permissions import ADMINS, ANY_STAFF, INVENTORY_PUSHERS, STAFF_WRITERS, STOCK_VIEWERS, TRANSFER_FILERS
from api.tenant_scope import TenantScopedView
from api.transfers import serializers as s
from core.access.scope import warehouse_grant, warehouse_grants, warehouse_revoke
from core.inventory.models import Position, Warehouse
from core.inventory.selectors import warehouse_get
from core.transfers import plans, selectors, services
from core.transfers.models import TransferLane, TransferPlan, TransferPlanMove, TransferRequest, TransferStatus
from tenants.principals import Principal
from tenants.selectors import partner_get

_CONFLICT = {409: OpenApiResponse(ErrorResponseSerializer, description="Not allowed in the current state.")}


# --- Shared stock view ----------------------------------------------------------------------------


class SharedStockFilter(FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    region = django_filters.CharFilter(field_name="warehouse__region")
    band = ChoicesFilter(choices=[(b, b) for b in ("available", "low", "out")])

    class Meta:
        model = Position
        fields: list[str] = []


class SharedStockView(TenantScopedView):
    """Stock of the warehouses shared with you: exact quantities or bands, as granted."""

    access = {"GET": STOCK_VIEWERS}
    queryset = Position.objects.none()
    filterset_class = SharedStockFilter
    pagination_class = IdCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.shared_stock(principal=self.principal)

    @extend_schema(responses=s.SharedStockOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_rows(s.SHARED_ROW, partial(s.shared_row, principal=self.principal))


class SharedStockRegionsView(SharedStockView):
    """Region totals over the same view and filters; units only where quantities are granted."""

    pagination_class = None

    @extend_schema(responses=s.RegionTotalsOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        rows = selectors.shared_stock_regions(positions=self.filter_queryset(self.get_queryset()))
        return Response(s.RegionTotalsOutput(rows, many=True).data)


# --- Grants ---------------------------------------------------------------------------------------


class GrantListView(TenantScopedView):
    """The warehouses a distributor sees; admins grant them, with exact quantities or bands."""

    access = {"GET": ANY_STAFF, "POST": ADMINS}
    pagination_class = None
    queryset = Warehouse.objects.none()

    @extend_schema(responses=s.GrantOutput(many=True))
    def get(self, request: Request, tenant_slug: str, partner_id: str) -> Response:
        partner = partner_get(tenant=self.tenant, partner_id=partner_id)
        return Response(s.GrantOutput(warehouse_grants(partner=partner), many=True).data)

    @extend_schema(request=s.GrantInput, responses={200: s.GrantResultOutput})
    def post(self, request: Request, tenant_slug: str, partner_id: str) -> Response:
        partner = partner_get(tenant=self.tenant, partner_id=partner_id)
        data = s.GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = data.validated_data["warehouses"]
        found = list(Warehouse.objects.filter(tenant=self.tenant, code__in=codes))
        unknown = sorted(set(codes) - {w.code for w in found})
        if unknown:
            raise serializers.ValidationError(
                {"warehouses": [f"No warehouse {code!r} in this tenant." for code in unknown[:20]]}
            )
        new = warehouse_grant(
            partner=partner, warehouses=found, quantities=data.validated_data["quantities"], actor=self.principal
        )
        return Response({"newly_granted": new})


class GrantDetailView(TenantScopedView):
    access = {"DELETE": ADMINS}

    @extend_schema(responses={204: OpenApiResponse(description="Revoked (or never granted).")})
    def delete(self, request: Request, tenant_slug: str, partner_id: str, warehouse_id: str) -> Response:
        partner = partner_get(tenant=self.tenant, partner_id=partner_id)
        warehouse = warehouse_get(tenant=self.tenant, warehouse_id=warehouse_id)
        warehouse_revoke(partner=partner, warehouse=warehouse, actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Transfer requests ----------------------------------------------------------------------------


class TransferFilter(FilterSet):
    status = ChoicesFilter(choices=TransferStatus.choices)
    sku = django_filters.CharFilter(field_name="sku__code")
    source = django_filters.CharFilter(field_name="source__code")
    destination = django_filters.CharFilter(field_name="destination__code")

    class Meta:
        model = TransferRequest
        fields: list[str] = []


class TransferListView(TenantScopedView):
    """Transfer requests: staff and the ERP see all, a distributor its own; distributors and
    planners file them."""

    access = {"GET": STOCK_VIEWERS, "POST": STAFF_WRITERS | TRANSFER_FILERS}
    queryset = TransferRequest.objects.none()
    filterset_class = TransferFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.transfer_list(principal=self.principal)

    @extend_schema(responses=s.TransferOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.TransferOutput, context={"principal": self.principal})

    @extend_schema(request=s.TransferInput, responses={201: s.TransferDetailOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = services.transfer_request_create(principal=self.principal, tenant=self.tenant, **data.validated_data)
        return Response(_detail(transfer, self.principal), status=status.HTTP_201_CREATED)


def _detail(transfer: TransferRequest, principal: Principal) -> dict:
    transfer = selectors.transfer_get(principal=principal, transfer_id=transfer.pk)
    return s.TransferDetailOutput(transfer, context={"principal": principal}).data


class TransferDetailView(TenantScopedView):
    """A transfer with its lines: every reservation, release and stock movement it made."""

    access = {"GET": STOCK_VIEWERS}

    @extend_schema(responses=s.TransferDetailOutput)
    def get(self, request: Request, tenant_slug: str, transfer_id: str) -> Response:
        return Response(
            _detail(selectors.transfer_get(principal=self.principal, transfer_id=transfer_id), self.principal)
        )


class TransferStepView(TenantScopedView):
    step = staticmethod(services.transfer_approve)
    takes_note = True

    @extend_schema(request=s.NoteInput, responses={200: s.TransferDetailOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, transfer_id: str) -> Response:
        transfer = selectors.transfer_get(principal=self.principal, transfer_id=transfer_id)
        data = s.NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = {"note": data.validated_data["note"]} if self.takes_note else {}
        self.step(transfer=transfer, actor=self.principal, **kwargs)
        return Response(_detail(transfer, self.principal))


class TransferApproveView(TransferStepView):
    """Reserve the quantity at the source (409 if it can no longer spare it)."""

    access = {"POST": STAFF_WRITERS}
    step = staticmethod(services.transfer_approve)


class TransferRejectView(TransferStepView):
    access = {"POST": STAFF_WRITERS}
    step = staticmethod(services.transfer_reject)


class TransferShipView(TransferStepView):
    """The goods left the source: a transfer_out in the ledger, in transit at the destination."""

    access = {"POST": INVENTORY_PUSHERS}
    step = staticmethod(services.transfer_ship)
    takes_note = False


class TransferReceiveView(TransferStepView):
    """The goods landed: a transfer_in at the destination warehouse."""

    access = {"POST": INVENTORY_PUSHERS}
    step = staticmethod(services.transfer_receive)
    takes_note = False


class TransferCancelView(TransferStepView):
    """Called off before shipping, by the requester or the brand; a reservation is released."""

    access = {"POST": STAFF_WRITERS | TRANSFER_FILERS}
    step = staticmethod(services.transfer_cancel)


# --- Policy and lanes -----------------------------------------------------------------------------


class TransferPolicyView(TenantScopedView):
    """Auto-approval, the cover under which a band reads 'low', and the plan's cost parameters."""

    access = {"GET": ANY_STAFF, "PATCH": ADMINS}

    @extend_schema(responses=s.TransferPolicyOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        return Response(s.TransferPolicyOutput(services.policy_for(self.tenant)).data)

    @extend_schema(request=s.TransferPolicyInput, responses=s.TransferPolicyOutput)
    def patch(self, request: Request, tenant_slug: str) -> Response:
        data = s.TransferPolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.transfer_policy_update(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.TransferPolicyOutput(policy).data)


class LaneListView(TenantScopedView):
    access = {"GET": ANY_STAFF, "POST": STAFF_WRITERS}
    queryset = TransferLane.objects.none()
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return TransferLane.objects.filter(tenant=self.tenant).select_related("source", "destination")

    @extend_schema(responses=s.LaneOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.LaneOutput)

    @extend_schema(request=s.LaneInput, responses={200: s.LaneOutput})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.LaneInput(data=request.data)
        data.is_valid(raise_exception=True)
        lane = services.transfer_lane_set(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.LaneOutput(lane).data)


class LaneDetailView(TenantScopedView):
    access = {"DELETE": STAFF_WRITERS}

    @extend_schema(responses={204: OpenApiResponse(description="Deleted: the policy's rate applies again.")})
    def delete(self, request: Request, tenant_slug: str, lane_id: str) -> Response:
        lane = selectors.lane_get(tenant=self.tenant, lane_id=lane_id)
        services.transfer_lane_delete(lane=lane, actor=self.principal)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Plans ----------------------------------------------------------------------------------------


class PlanListView(TenantScopedView):
    """System transfer plans; POST starts one on the worker (202) and answers its id, one at a time."""

    access = {"GET": ANY_STAFF, "POST": STAFF_WRITERS}
    queryset = TransferPlan.objects.none()
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return selectors.plan_list(principal=self.principal)

    @extend_schema(responses=s.PlanOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PlanOutput)

    @extend_schema(
        request=None,
        responses={
            202: s.PlanOutput,
            409: OpenApiResponse(ErrorResponseSerializer, description="A plan is already queued or running."),
        },
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        plan = plans.plan_start(tenant=self.tenant, actor=self.principal)
        return Response(s.PlanOutput(plan).data, status=status.HTTP_202_ACCEPTED)


class PlanDetailView(TenantScopedView):
    """The plan's status and summary: units, cost, shortage, the greedy baseline's cost, timings."""

    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.PlanOutput)
    def get(self, request: Request, tenant_slug: str, plan_id: str) -> Response:
        return Response(s.PlanOutput(selectors.plan_get(principal=self.principal, plan_id=plan_id)).data)


class PlanMoveListView(TenantScopedView):
    access = {"GET": ANY_STAFF}
    queryset = TransferPlanMove.objects.none()
    pagination_class = IdCursorPagination

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no plan id
            return TransferPlanMove.objects.none()
        plan = selectors.plan_get(principal=self.principal, plan_id=self.kwargs["plan_id"])
        return selectors.plan_moves(plan=plan)

    @extend_schema(responses=s.MoveOutput(many=True))
    def get(self, request: Request, tenant_slug: str, plan_id: str) -> Response:
        return self.list_page(s.MoveOutput)


class PlanAcceptView(TenantScopedView):
    """Accept all the plan's moves, or some: each becomes an approved transfer request."""

    access = {"POST": STAFF_WRITERS}
    queryset = TransferPlan.objects.none()
    pagination_class = None  # the transfers it made, answered whole

    @extend_schema(request=s.AcceptInput, responses={200: s.TransferOutput(many=True), **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, plan_id: str) -> Response:
        plan = selectors.plan_get(principal=self.principal, plan_id=plan_id)
        data = s.AcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = plans.plan_accept(plan=plan, actor=self.principal, move_ids=data.validated_data.get("move_ids"))
        return Response(s.TransferOutput(created, many=True, context={"principal": self.principal}).data)
