"""Shapes of the threshold tuner's settings and proposals."""

from rest_framework import serializers

from api.alerts.serializers import RuleScopedOutput
from api.input import InputSerializer
from core.quality.models import TuningMode, TuningProposal, TuningSettings


class TuningSettingsOutput(serializers.ModelSerializer):
    class Meta:
        model = TuningSettings
        fields = ["mode", "cooldown_days", "updated_at"]


class TuningSettingsInput(InputSerializer):
    mode = serializers.ChoiceField(
        choices=TuningMode.choices,
        required=False,
        help_text="off: the tuner does not run; propose: planners accept or reject; auto: applied when the "
        "shadow replay passes.",
    )
    cooldown_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, help_text="Days a rule and scope rest after a proposal."
    )


class TuningProposalOutput(RuleScopedOutput):
    direction = serializers.CharField(help_text="tighten: fewer alerts; loosen: more, earlier alerts.")
    settings = serializers.JSONField(help_text="What the step writes to the scope's policy.")
    evidence = serializers.JSONField(help_text="Counts, posteriors and the decision's figures (docs/tuning.md).")
    replay = serializers.JSONField(help_text="The shadow replay's figures before and after, with the tolerances.")
    change = serializers.UUIDField(source="change_id", allow_null=True, help_text="The policy version that applied it.")

    class Meta:
        model = TuningProposal
        fields = [
            "id",
            "rule",
            "scope",
            "velocity_class",
            "category",
            "sku",
            "run_on",
            "setting",
            "direction",
            "value_before",
            "value_after",
            "settings",
            "evidence",
            "replay",
            "status",
            "refusal",
            "decided_by",
            "decided_at",
            "decision_note",
            "change",
            "created_at",
        ]


class ProposalDecisionInput(InputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TuningRunOutput(serializers.Serializer):
    queued = serializers.BooleanField(help_text="Whether the run was handed to the worker.")
    mode = serializers.CharField()
