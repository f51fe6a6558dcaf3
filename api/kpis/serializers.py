"""Shapes of the KPIs of a month, their groups, and the closed months' reports."""

from __future__ import annotations

import re
from datetime import date

from rest_framework import serializers

from api.input import InputSerializer
from core.quality.kpi_reports import kpi_changes
from core.quality.kpis import GROUPINGS

MONTH_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"


def month_parse(text: str) -> date | None:
    """``YYYY-MM`` as the first day of that month, or None."""
    if not re.fullmatch(MONTH_PATTERN, text or ""):
        return None
    return date(int(text[:4]), int(text[5:]), 1)


class KpiQuery(InputSerializer):
    month = serializers.RegexField(
        MONTH_PATTERN,
        help_text="The month, `YYYY-MM` (2000-01 to the current month).",
        error_messages={"invalid": "Send the month as YYYY-MM, from 2000-01 on, e.g. 2026-11."},
    )
    by = serializers.ChoiceField(
        choices=GROUPINGS,
        required=False,
        help_text="Also give the figures per rule, category (code) or warehouse (code).",
        error_messages={"invalid_choice": "Group by one of: " + ", ".join(GROUPINGS) + "; or leave `by` out."},
    )

    def validate_month(self, value: str) -> date:
        month = month_parse(value)
        today: date = self.context["today"]
        if month > today.replace(day=1):
            raise serializers.ValidationError(
                f"{value} has not begun; send the current month ({today:%Y-%m}) or one before it."
            )
        return month


class SpreadOutput(serializers.Serializer):
    count = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class ReplayFiguresOutput(serializers.Serializer):
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    lead_time_median = serializers.FloatField(allow_null=True, help_text="Days.")


class FiguresOutput(serializers.Serializer):
    """docs/kpis.md defines each figure; ``definitions`` in the answer says it in one line."""

    alerts_closed = serializers.IntegerField()
    false_alarms = serializers.IntegerField()
    false_alarm_rate = serializers.FloatField(allow_null=True)
    time_to_acknowledge_hours = SpreadOutput()
    time_to_act_hours = SpreadOutput()
    clearance_cycle_days = SpreadOutput()
    overstock_units_held = serializers.IntegerField()
    overstock_value_held = serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)
    stock_out_days = serializers.IntegerField(allow_null=True, help_text="Null when grouped by rule.")
    units_sold = serializers.IntegerField(allow_null=True, help_text="Null when grouped by rule.")
    lost_units = serializers.FloatField(allow_null=True, help_text="Null when grouped by rule.")
    fill_rate = serializers.FloatField(allow_null=True)
    replay = ReplayFiguresOutput(allow_null=True, help_text="Null without a backtest covering the month.")


class GroupOutput(FiguresOutput):
    key = serializers.CharField(help_text="The rule, category code or warehouse code.")


class KpiOutput(serializers.Serializer):
    month = serializers.CharField()
    to = serializers.DateField(help_text="The last day read: the month's last, or today for the month under way.")
    complete = serializers.BooleanField(help_text="Whether the month has ended.")
    by = serializers.CharField(allow_null=True)
    overall = FiguresOutput()
    groups = GroupOutput(many=True)
    replay_source = serializers.CharField(help_text="Which backtest the replay figures come from, or what to run.")
    definitions = serializers.DictField(child=serializers.CharField())

    def get_fields(self) -> dict:
        fields = super().get_fields()
        return {"month": fields.pop("month"), "from": serializers.DateField(help_text="The first day."), **fields}


class KpiReportOutput(serializers.Serializer):
    """A closed month: its figures as reported, the month before's and the change of the headline figures."""

    month = serializers.CharField(help_text="YYYY-MM.")
    closed_at = serializers.DateTimeField()
    figures = FiguresOutput()
    previous = FiguresOutput(allow_null=True, help_text="The month before's figures.")
    changes = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="This month's figure less the month before's, per headline figure; null where either is unknown.",
    )


def report_data(report: object) -> dict:
    return {
        "month": f"{report.month:%Y-%m}",
        "closed_at": report.closed_at,
        "figures": report.figures,
        "previous": report.previous or None,
        "changes": kpi_changes(report.figures, report.previous or None),
    }
