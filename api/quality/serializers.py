"""Warning backtests: the body that starts one, a list row, the detail with its report, a comparison."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.input import InputSerializer
from core.quality.backtests import IN_FORCE, POLICY_CHOICES
from core.quality.models import WarningBacktest


class BacktestInput(InputSerializer):
    day_from = serializers.DateField(help_text="First day replayed, included; on or after the ledger's first day.")
    day_to = serializers.DateField(help_text="Last day replayed, included; today at the latest.")
    label = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A name to tell backtests apart."
    )
    policies = serializers.ChoiceField(
        choices=POLICY_CHOICES,
        required=False,
        default=IN_FORCE,
        error_messages={"invalid_choice": f'One of: {", ".join(POLICY_CHOICES)} (not "{{input}}").'},
        help_text="`in_force`: each day is graded with the policies in force that day; `current`: every day with "
        "the tenant's policies as they are now (replay a period before and after a policy change, then compare).",
    )


class BacktestOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = WarningBacktest
        fields = [
            "id",
            "label",
            "day_from",
            "day_to",
            "policies",
            "status",
            "requested_by",
            "days_total",
            "days_done",
            "progress",
            "started_at",
            "heartbeat_at",
            "finished_at",
            "error",
            "created_at",
        ]
        extra_kwargs = {
            "policies": {
                "help_text": "Empty: the policies in force each day were replayed; else `use` (`current`) and the "
                "tenant's policies when the backtest started (`policies`), replayed on every day."
            },
            "days_total": {"help_text": "Days of the period."},
            "days_done": {"help_text": "Days replayed so far."},
        }

    def get_progress(self, backtest: WarningBacktest) -> float:
        """Share of the period's days replayed, 0 to 1."""
        if backtest.status == "succeeded":
            return 1.0
        return round(min(1.0, backtest.days_done / backtest.days_total), 4) if backtest.days_total else 0.0


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, help_text=help_text)


def _ratio(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, help_text=help_text)


class ReportGroupDoc(serializers.Serializer):
    """One group's figures; each is defined exactly in the report's ``definitions``."""

    alerts = _count("Alerts opened in the period.")
    true_alerts = _count("Followed by their outcome within the rule's window.")
    false_alarms = _count("Not followed by it, and no response before.")
    averted = _count("A response (RFQ award, transfer, markdown, receipt) came before the outcome.")
    pending = _count("Their window reaches past the last day of data.")
    unlabelled = _count("Of rules without an outcome in the ledger.")
    precision = _ratio("true / (true + false); null without either.")
    episodes = _count("Stock-out episodes starting in the period.")
    warned = _count("Episodes warned of beforehand.")
    recall = _ratio("warned / episodes; null without episodes.")
    lead_time_median = _ratio("Median days from the first warning to the episode.")
    lead_time_p10 = _ratio("10th percentile of those days.")
    actionable_share = _ratio("Episodes warned at least one supplier lead time ahead / episodes.")
    alerts_per_planner_day = _ratio("alerts / (days x planners).")
    flapping = _count("Alerts opened within a week of the same rule resolving on the position.")
    flapping_share = _ratio("flapping / alerts.")


def _groups(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=ReportGroupDoc(), required=False, help_text=help_text)


class ReportDoc(serializers.Serializer):
    """The stored report as the replay wrote it (documentation: it is answered as stored)."""

    period = serializers.DictField(required=False, help_text="day_from, day_to, days, last_data_day.")
    positions = _count("Positions replayed.")
    planners = _count("Planners of the tenant (alerts per planner-day divide by them, at least 1).")
    policies = serializers.CharField(required=False, help_text="Which policies graded each day.")
    overall = ReportGroupDoc(required=False)
    by_rule = _groups("Per rule (a rule with no alert and no episode of its own is left out).")
    by_grade = _groups("Per peak grade.")
    by_velocity_class = _groups("Per velocity class of the SKU.")
    by_category = _groups("Per category code.")
    averted_by = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="Averted alerts by what averted them."
    )
    definitions = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Each figure's exact definition."
    )
    assumptions = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="How the past was rebuilt."
    )
    seconds = serializers.FloatField(required=False, help_text="How long the replay took.")


@extend_schema_field(ReportDoc)
class ReportField(serializers.JSONField):
    """The report answered as stored, documented as ``ReportDoc``."""


class BacktestDetailOutput(BacktestOutput):
    report = ReportField(
        help_text="The replay's report once succeeded (empty before): figures overall, by_rule, by_grade, "
        "by_velocity_class and by_category, with the period, definitions and assumptions "
        "(docs/quality-backtests.md)."
    )

    class Meta(BacktestOutput.Meta):
        fields = [*BacktestOutput.Meta.fields, "report"]


class CompareQuery(InputSerializer):
    """``with``, a Python keyword, hence ``get_fields``."""

    def get_fields(self) -> dict:
        return {"with": serializers.UUIDField(help_text="The id of the backtest to compare with (the `other`).")}


class FigurePairOutput(serializers.Serializer):
    base = serializers.FloatField(allow_null=True, help_text="The figure of the backtest in the path.")
    other = serializers.FloatField(allow_null=True, help_text="The figure of the backtest named by `with`.")
    difference = serializers.FloatField(allow_null=True, help_text="other - base; null where either is null.")


def _figures(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=FigurePairOutput(), help_text=help_text)


class CompareOutput(serializers.Serializer):
    base = BacktestOutput()
    other = BacktestOutput()
    same_period = serializers.BooleanField(help_text="Whether both replayed the same days.")
    note = serializers.CharField(help_text="Why the differences may not be the policies' alone; empty if none.")
    overall = _figures("Each key figure of the whole report: base, other, difference.")
    by_rule = serializers.DictField(child=_figures("A rule's key figures."), help_text="Per rule, as in either report.")
    by_grade = serializers.DictField(
        child=_figures("A grade's key figures."), help_text="Per peak grade, as in either report."
    )
