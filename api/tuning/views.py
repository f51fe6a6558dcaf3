"""The threshold tuner: its settings, a run on demand, and the proposals planners accept or reject."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorResponseSerializer
from api.filters import ChoicesFilter, FilterSet
from api.permissions import ADMINS, ANY_STAFF, STAFF_WRITERS
from api.tenant_scope import TenantScopedView
from api.tuning import serializers as s
from core.alerts.models import RuleCode
from core.quality import tuner
from core.quality.models import ProposalStatus, TuningMode, TuningProposal
from core.task_requests import task_request

_CONFLICT = {409: OpenApiResponse(ErrorResponseSerializer, description="Not pending, or the policy changed since.")}


class TuningSettingsView(TenantScopedView):
    """Whether the tuner runs (off, propose, auto) and the cool-down of a rule and scope."""

    access = {"GET": ANY_STAFF, "PATCH": ADMINS}

    @extend_schema(responses=s.TuningSettingsOutput)
    def get(self, request: Request, tenant_slug: str) -> Response:
        return Response(s.TuningSettingsOutput(tuner.tuning_settings_for(self.tenant)).data)

    @extend_schema(request=s.TuningSettingsInput, responses=s.TuningSettingsOutput)
    def patch(self, request: Request, tenant_slug: str) -> Response:
        data = s.TuningSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        settings = tuner.tuning_settings_update(tenant=self.tenant, actor=self.principal, **data.validated_data)
        return Response(s.TuningSettingsOutput(settings).data)


class TuningRunView(TenantScopedView):
    """Run the tuner now on the worker (it also runs daily); its proposals appear under proposals/."""

    access = {"POST": STAFF_WRITERS}

    @extend_schema(
        request=None,
        responses={
            202: s.TuningRunOutput,
            409: OpenApiResponse(ErrorResponseSerializer, description="The tuner is off for this tenant."),
        },
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        if request.data:
            raise exceptions.ValidationError({"non_field_errors": ["Send no body: a run covers every rule and scope."]})
        mode = tuner.tuning_settings_for(self.tenant).mode
        if mode == TuningMode.OFF:
            raise exceptions.ValidationError(
                {"mode": ["The tuner is off: PATCH tuning/settings/ with mode propose or auto first."]}
            )
        queued = task_request(tuner.RUN_TASK, args=[str(self.tenant.pk)])
        return Response(s.TuningRunOutput({"queued": queued, "mode": mode}).data, status=status.HTTP_202_ACCEPTED)


class ProposalFilter(FilterSet):
    status = ChoicesFilter(choices=ProposalStatus.choices)
    rule = ChoicesFilter(choices=RuleCode.choices)

    class Meta:
        model = TuningProposal
        fields: list[str] = []


class ProposalListView(TenantScopedView):
    """The tuner's proposals, oldest first: pending, accepted, rejected, applied (auto) and refused."""

    access = {"GET": ANY_STAFF}
    queryset = TuningProposal.objects.none()
    filterset_class = ProposalFilter

    def get_queryset(self):  # noqa: ANN201
        return tuner.proposal_list(tenant=self.tenant)

    @extend_schema(responses=s.TuningProposalOutput(many=True))
    def get(self, request: Request, tenant_slug: str) -> Response:
        return self.list_page(s.TuningProposalOutput)


class ProposalDetailView(TenantScopedView):
    access = {"GET": ANY_STAFF}

    @extend_schema(responses=s.TuningProposalOutput)
    def get(self, request: Request, tenant_slug: str, proposal_id: str) -> Response:
        return Response(s.TuningProposalOutput(tuner.proposal_get(tenant=self.tenant, proposal_id=proposal_id)).data)


class ProposalDecisionView(TenantScopedView):
    access = {"POST": STAFF_WRITERS}

    def decide(self, proposal: TuningProposal, data: dict) -> TuningProposal:
        raise NotImplementedError

    @extend_schema(request=s.ProposalDecisionInput, responses={200: s.TuningProposalOutput, **_CONFLICT})
    def post(self, request: Request, tenant_slug: str, proposal_id: str) -> Response:
        proposal = tuner.proposal_get(tenant=self.tenant, proposal_id=proposal_id)
        data = s.ProposalDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(s.TuningProposalOutput(self.decide(proposal, data.validated_data)).data)


class ProposalAcceptView(ProposalDecisionView):
    """Apply a pending proposal: a policy version by system:tuner that names who accepted it."""

    def decide(self, proposal: TuningProposal, data: dict) -> TuningProposal:
        return tuner.proposal_accept(proposal=proposal, actor=self.principal, **data)


class ProposalRejectView(ProposalDecisionView):
    """Turn down a pending proposal: nothing changes; the rule and scope rest for the cool-down."""

    def decide(self, proposal: TuningProposal, data: dict) -> TuningProposal:
        return tuner.proposal_reject(proposal=proposal, actor=self.principal, **data)
