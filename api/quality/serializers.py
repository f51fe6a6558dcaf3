"""Warning backtests: the body that starts one, a list row, the detail with its report, a comparison."""

from __future__ import annotations

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


class BacktestDetailOutput(BacktestOutput):
    report = serializers.JSONField(
        help_text="The replay's report once succeeded (empty before): metrics overall, by_rule, by_grade, "
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
