"""Alerts and their actions, indicator readings and rollups, policies, evaluation runs, signals."""

from __future__ import annotations

from functools import partial

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.alerts import serializers as s
from api.errors import ErrorResponseSerializer
from api.filters import BooleanFilter, ChoicesFilter, FilterSet, IntegerFilter, IsoDateTimeFilter
from api.input import InputSerializer
from api.inventory.ingest_views import BulkIngestView, bulk_schema
from api.pagination import CreatedCursorPagination, KeysetPagination, SortKey
from api.permissions import ALERT_READERS, ANY_STAFF, INVENTORY_PUSHERS, STAFF_WRITERS
from api.tenant_scope import TenantScopedView
from core.access import registry as access
from core.alerts import policies, policy_versions, runs, selectors, services
from core.alerts.models import (
    Alert,
    AlertPolicy,
    AlertStatus,
    EvaluationRun,
    EvaluationTrigger,
    Grade,
    IndicatorReading,
    PolicyChange,
    RuleCode,
)
from core.alerts.rules import rule_catalog
from core.alerts.signal_ingestion import signal_rows_parse, signals_ingest
from core.exceptions import NotFound
from core.inventory.bulk_rows import MAX_QUANTITY
from core.transfers.services import policy_for as transfer_policy_for
from tenants.principals import Principal

_CONFLICT = {409: OpenApiResponse(ErrorResponseSerializer, description="Not allowed in the alert's status.")}


class AlertFilter(FilterSet):
    grade = ChoicesFilter(choices=Grade.choices, help_text="One or more (repeat the parameter).")
    status = ChoicesFilter(choices=AlertStatus.choices)
    rule = ChoicesFilter(choices=RuleCode.choices)
    active = BooleanFilter(help_text="Held by the engine: open, acknowledged, or dismissed but lasting.")
    snoozed = BooleanFilter(method="filter_snoozed", help_text="Snoozed until a time still ahead.")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    region = django_filters.CharFilter(field_name="warehouse__region")
    category = django_filters.CharFilter(field_name="sku__category__code", help_text="A category code.")
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    opened_since = IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")

    class Meta:
        model = Alert
        fields: list[str] = []

    def filter_snoozed(self, queryset, name: str, value: bool):  # noqa: ANN001, ANN201
        now = timezone.now()
        return queryset.filter(snoozed_until__gt=now) if value else queryset.exclude(snoozed_until__gt=now)


def _partner(principal: Principal) -> bool:
    """Whether the access registry gives the principal the partner shapes (else the staff ones)."""
    return access.view_of(principal) == "partner"


def _with_grant_and_band(queryset: QuerySet, principal: Principal, *, available: str, cover: str) -> QuerySet:
    low_cover_days = transfer_policy_for(principal.tenant).low_cover_days
    return selectors.with_grant_and_band(
        queryset, principal=principal, low_cover_days=low_cover_days, available=available, cover=cover
    )


def _partner_alerts(principal: Principal) -> QuerySet:
    """A partner's alerts with the grant level and stock band its rows are rendered by."""
    alerts = selectors.alert_list(principal=principal)
    return _with_grant_and_band(
        alerts, principal, available="position__reading__available", cover="position__reading__days_of_cover"
    )


class AlertListView(TenantScopedView):
    """Alerts, oldest first, cursor paginated; partners see only what they are granted, in their own shape."""

    access = {"GET": ALERT_READERS}
    queryset = Alert.objects.none()
    filterset_class = AlertFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        if _partner(self.principal):
            return _partner_alerts(self.principal)
        return selectors.alert_list(principal=self.principal)

    @extend_schema(responses=s.ALERT_LIST)
    def get(self, request: Request, tenant_slug: str) -> Response:
        if _partner(self.principal):
            return self.list_rows(s.PARTNER_ALERT_ROW, partial(s.partner_alert_row, principal=self.principal))
        now = timezone.now()
        return self.list_rows(s.ALERT_ROW, lambda row: s.alert_row(row, now=now))


def _detail(alert: Alert, principal: Principal) -> dict:
    """The alert as the access registry lets the principal see it: the staff shape or the partner's."""
    partner = _partner(principal)
    events = selectors.alert_events(alert=alert, internal=not partner)
    if partner:
        row = _partner_alerts(principal).filter(pk=alert.pk).values(*s.PARTNER_ALERT_ROW).first()
        shown = row and s.partner_alert_detail(row, list(events.values()), principal=principal)
        if not shown:
            raise NotFound
        return shown
    context = {"now": timezone.now(), "events": events, "principal": principal}
    return s.AlertDetailOutput(alert, context=context).data


class AlertDetailView(TenantScopedView):
    """The alert with its inputs, thresholds, explanation, recommendation and timeline (staff and the
    ERP); a supplier or distributor gets its own shape, with words written for it."""

    access = {"GET": ALERT_READERS}

    @extend_schema(responses=s.ALERT_DETAIL)
    def get(self, request: Request, tenant_slug: str, alert_id: str) -> Response:
        return Response(_detail(selectors.alert_get(principal=self.principal, alert_id=alert_id), self.principal))


class AlertActionView(TenantScopedView):
    access = {"POST": STAFF_WRITERS}
    input_class: type[serializers.Serializer] = s.AlertNoteInput

    def act(self, alert: Alert, data: dict) -> Alert:
        raise NotImplementedError

    def post(self, request: Request, tenant_slug: str, alert_id: str) -> Response:
        alert = selectors.alert_get(principal=self.principal, alert_id=alert_id)
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(alert, data.validated_data)
        return Response(_detail(selectors.alert_get(principal=self.principal, alert_id=alert_id), self.principal))


def _action(name: str, input_class: type[serializers.Serializer], act, doc: str) -> type[AlertActionView]:  # noqa: ANN001
    view = type(
        f"Alert{name}View",
        (AlertActionView,),
        {"input_class": input_class, "act": lambda self, alert, data: act(alert=alert, actor=self.principal, **data)},
    )
    view.__doc__ = doc

    # A post of its own: extend_schema annotates the function, and the one function shared by every
    # action would document the last action's body (the snooze's) for all of them.
    def post(self: AlertActionView, request: Request, tenant_slug: str, alert_id: str) -> Response:
        return AlertActionView.post(self, request, tenant_slug, alert_id)

    view.post = extend_schema(request=input_class, responses={200: s.AlertDetailOutput, **_CONFLICT})(post)
    return view


AlertAcknowledgeView = _action(
    "Acknowledge", s.AlertNoteInput, services.alert_acknowledge, "Someone is on it; the engine keeps grading it."
)
AlertResolveView = _action(
    "Resolve", s.AlertNoteInput, services.alert_resolve, "Close it by hand; a lasting condition opens a new alert."
)
AlertDismissView = _action(
    "Dismiss", s.AlertDismissInput, services.alert_dismiss, "No action needed; reopens only if it gets worse."
)
AlertSnoozeView = _action(
    "Snooze", s.AlertSnoozeInput, services.alert_snooze, "Quiet until a time; an escalation wakes it early."
)


# --- Indicators -----------------------------------------------------------------------------------


READING_ORDERING = ["health_index", "days_of_cover", "turnover_days", "weighted_age_days", "position_id"]


class ReadingFilter(FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="A warehouse code.")
    region = django_filters.CharFilter(field_name="warehouse__region")
    category = django_filters.CharFilter(field_name="sku__category__code", help_text="A category code.")
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    health_index_lt = IntegerFilter(field_name="health_index", lookup_expr="lt")
    health_index_gt = IntegerFilter(field_name="health_index", lookup_expr="gt")
    stockout_risk = BooleanFilter()
    overstock = BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=READING_ORDERING,
        help_text="Sort by health_index (default: unhealthiest first), days_of_cover, turnover_days, ... "
        "prefix - for descending; positions without a value come last either way.",
    )

    class Meta:
        model = IndicatorReading
        fields: list[str] = []


PARTNER_ORDERING = ("health_index", "position_id")


class IndicatorPagination(KeysetPagination):
    """Pages in the order ``ordering`` asks for (unhealthiest first by default), unknown values last."""

    def sort_keys(self, request: Request) -> list[SortKey]:
        # The filter set has refused any name outside READING_ORDERING before this runs.
        names = [name.strip() for name in request.query_params.get("ordering", "").split(",") if name.strip()]
        return [SortKey(name.lstrip("-"), descending=name.startswith("-")) for name in names] or [
            SortKey("health_index")
        ]


class RollupPagination(KeysetPagination):
    """A rollup's rows are one per key: the key orders them and the cursor stops at one."""

    tiebreaker = "key"


def _partner_readings(principal: Principal) -> QuerySet:
    return _with_grant_and_band(
        selectors.reading_list(principal=principal), principal, available="available", cover="days_of_cover"
    )


class IndicatorListView(TenantScopedView):
    """The current reading of every position, unhealthiest first unless sorted otherwise; partners
    get their own shape (band, health, quantities where granted)."""

    access = {"GET": ALERT_READERS}
    queryset = IndicatorReading.objects.none()
    filterset_class = ReadingFilter
    pagination_class = IndicatorPagination

    def get_queryset(self):  # noqa: ANN201
        if _partner(self.principal):
            return _partner_readings(self.principal)
        return selectors.reading_list(principal=self.principal)

    @extend_schema(responses=s.READING_LIST)
    def get(self, request: Request, tenant_slug: str) -> Response:
        if _partner(self.principal):
            # A cursor carries the values of the columns it sorts by: partners sort by what they see.
            names = {name.strip().lstrip("-") for name in request.query_params.get("ordering", "").split(",")}
            hidden = sorted(names - {"", *PARTNER_ORDERING})
            if hidden:
                raise exceptions.ValidationError(
                    {"ordering": [f"Partners sort by {', '.join(PARTNER_ORDERING)} only, not {', '.join(hidden)}."]}
                )
            return self.list_rows(s.PARTNER_READING_ROW, partial(s.partner_reading_row, principal=self.principal))
        return self.list_page(s.ReadingOutput)


class IndicatorDetailView(TenantScopedView):
    access = {"GET": ALERT_READERS}

    @extend_schema(responses=s.READING_DETAIL)
    def get(self, request: Request, tenant_slug: str, position_id: int) -> Response:
        reading = selectors.reading_get(principal=self.principal, position_id=position_id)
        if _partner(self.principal):
            row = _partner_readings(self.principal).filter(pk=reading.pk).values(*s.PARTNER_READING_ROW).first()
            shown = row and s.partner_reading_row(row, principal=self.principal)
            if not shown:
                raise NotFound
            return Response(shown)
        details = selectors.reading_details(reading=reading)
        return Response(s.ReadingDetailOutput(reading, context={"details": details}).data)


class IndicatorRollupView(TenantScopedView):
    """Readings rolled up per SKU, category, warehouse or region (filters as on indicators/); partners
    get counts, health and the quantities their grants show."""

    access = {"GET": ALERT_READERS}
    queryset = IndicatorReading.objects.none()
    filterset_class = ReadingFilter
    pagination_class = RollupPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("by", OpenApiTypes.STR, enum=list(selectors.ROLLUP_KEYS), required=True),
        ],
        responses=s.ROLLUP_LIST,
    )
    def get(self, request: Request, tenant_slug: str) -> Response:
        by = request.query_params.get("by", "")
        if by not in selectors.ROLLUP_KEYS:
            raise exceptions.ValidationError({"by": [f"One of: {', '.join(selectors.ROLLUP_KEYS)}."]})
        readings = self.filter_queryset(selectors.reading_list(principal=self.principal))
        if _partner(self.principal):
            page = self.paginate_queryset(
                selectors.reading_rollup_shown(readings=readings, by=by, principal=self.principal)
            )
            return self.get_paginated_response([s.partner_rollup_row(row) for row in page])
        page = self.paginate_queryset(selectors.reading_rollup(readings=readings, by=by))
        return self.get_paginated_response(s.RollupOutput([selectors.rollup_finish(r) for r in page], many=True).data)


# --- Policies -------------------------------------------------------------------------------------


class PolicyListView(TenantScopedView):
    """Alert policies. What a policy leaves empty is inherited: SKU, category, velocity class, tenant."""

    access = {"GET": ANY_STAFF, "POST": STAFF_WRITERS}
    queryset = AlertPolicy.objects.none()
    filterset_fields = ["rule"]

    def get_queryset(self):  # noqa: ANN201
        return policies.policy_list(tenant=self.tenant)

    @extend_schema(responses=s.PolicyOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PolicyOutput)

    @extend_schema(request=s.PolicyCreateInput, responses={201: s.PolicyOutput, 409: ErrorResponseSerializer})
    def post(self, request: Request, tenant_slug: str) -> Response:
        data = s.PolicyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policies.policy_create(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.PolicyOutput(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF, "PATCH": STAFF_WRITERS, "DELETE": STAFF_WRITERS}

    def get_object(self) -> AlertPolicy:
        return policies.policy_get(tenant=self.tenant, policy_id=self.kwargs["policy_id"])

    @extend_schema(responses=s.PolicyOutput)
    def get(self, request: Request, tenant_slug: str, policy_id: str) -> Response:
        return Response(s.PolicyOutput(self.get_object()).data)

    @extend_schema(request=s.PolicySettingsInput, responses=s.PolicyOutput)
    def patch(self, request: Request, tenant_slug: str, policy_id: str) -> Response:
        policy = self.get_object()
        data = s.PolicySettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policies.policy_update(policy=policy, actor=self.principal, **data.validated_data)
        return Response(s.PolicyOutput(policy).data)

    @extend_schema(
        parameters=[OpenApiParameter("reason", OpenApiTypes.STR, description="Why; kept on the policy version.")],
        responses={204: OpenApiResponse(description="Deleted; the scope inherits again.")},
    )
    def delete(self, request: Request, tenant_slug: str, policy_id: str) -> Response:
        reason = request.query_params.get("reason", "")
        if len(reason) > 500:
            raise exceptions.ValidationError({"reason": ["At most 500 characters."]})
        policies.policy_delete(policy=self.get_object(), actor=self.principal, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyChangeFilter(FilterSet):
    rule = ChoicesFilter(choices=RuleCode.choices)
    author = django_filters.CharFilter(help_text="Exactly as recorded: `user:<name>`, `system:tuner`.")

    class Meta:
        model = PolicyChange
        fields: list[str] = []


class PolicyChangeListView(TenantScopedView):
    """Policy versions, oldest first: every policy created, changed or deleted, by a person or the tuner."""

    access = {"GET": ANY_STAFF}
    queryset = PolicyChange.objects.none()
    filterset_class = PolicyChangeFilter

    def get_queryset(self):  # noqa: ANN201
        return policy_versions.policy_change_list(tenant=self.tenant)

    @extend_schema(responses=s.PolicyChangeOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.PolicyChangeOutput)


class PolicyChangeDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.PolicyChangeOutput)
    def get(self, request: Request, tenant_slug: str, change_id: str) -> Response:
        change = policy_versions.policy_change_get(tenant=self.tenant, change_id=change_id)
        return Response(s.PolicyChangeOutput(change).data)


class PolicyChangeRevertView(TenantScopedView):
    """Undo a version: a new version puts the scope's policy back as it was before that one."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(
        request=s.PolicyChangeRevertInput,
        responses={
            201: s.PolicyChangeOutput,
            409: OpenApiResponse(ErrorResponseSerializer, description="Nothing left to revert to."),
        },
    )
    def post(self, request: Request, tenant_slug: str, change_id: str) -> Response:
        change = policy_versions.policy_change_get(tenant=self.tenant, change_id=change_id)
        data = s.PolicyChangeRevertInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = policy_versions.policy_change_revert(change=change, actor=self.principal, **data.validated_data)
        return Response(s.PolicyChangeOutput(version).data, status=status.HTTP_201_CREATED)


class RuleCatalogView(TenantScopedView):
    """The built-in rules with their defaults: what a policy may set."""

    access = {"GET": ANY_STAFF}
    queryset = AlertPolicy.objects.none()
    pagination_class = None  # a handful of rules, answered whole

    @extend_schema(responses=s.RuleOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return Response(s.RuleOutput(rule_catalog(), many=True).data)


# --- Evaluations ----------------------------------------------------------------------------------


class EvaluationListView(TenantScopedView):
    """Engine runs, oldest first: full runs (manual or scheduled) and incremental passes."""

    access = {"GET": ANY_STAFF, "POST": STAFF_WRITERS}
    queryset = EvaluationRun.objects.none()
    filterset_fields = ["trigger", "status"]
    pagination_class = CreatedCursorPagination

    def get_queryset(self):  # noqa: ANN201
        return runs.run_list(tenant=self.tenant)

    @extend_schema(responses=s.EvaluationOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.EvaluationOutput)

    @extend_schema(
        request=None,
        responses={
            202: s.EvaluationOutput,
            409: OpenApiResponse(ErrorResponseSerializer, description="A full run is already queued or running."),
        },
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        if request.data:
            raise exceptions.ValidationError({"non_field_errors": ["Send no body: a run covers every position."]})
        run = runs.evaluation_start(tenant=self.tenant, actor=self.principal, trigger=EvaluationTrigger.MANUAL)
        return Response(s.EvaluationOutput(run).data, status=status.HTTP_202_ACCEPTED)


class EvaluationDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.EvaluationOutput)
    def get(self, request: Request, tenant_slug: str, evaluation_id: str) -> Response:
        return Response(s.EvaluationOutput(runs.run_get(tenant=self.tenant, run_id=evaluation_id)).data)


# --- Signals --------------------------------------------------------------------------------------


class SignalRowDoc(InputSerializer):
    """One SKU-day of market signals (documentation of the bulk body)."""

    sku = serializers.CharField(max_length=64, help_text="SKU code")
    day = serializers.DateField()
    competitor_price = serializers.DecimalField(max_digits=12, decimal_places=4, required=False)
    social_volume = serializers.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, required=False, help_text="Mentions that day."
    )
    supplier_lead_time_index = serializers.DecimalField(
        max_digits=8, decimal_places=4, required=False, help_text="1.0 = lead times as promised."
    )


class SignalResultOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skus = serializers.IntegerField()


class SignalIngestView(BulkIngestView):
    """Push market signals per SKU and day in bulk: all or nothing, idempotent."""

    access = {"POST": INVENTORY_PUSHERS}
    endpoint = "signals"

    @bulk_schema(SignalRowDoc, SignalResultOutput)
    def post(self, request: Request, tenant_slug: str) -> Response:
        def write(*, columns: dict, idempotency_record: object) -> dict:
            return signals_ingest(tenant=self.tenant, columns=columns, idempotency_record=idempotency_record)

        return self.ingest(request, signal_rows_parse, write)
