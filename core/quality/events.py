"""The event types the quality app emits: a month's KPI report, closed and compared with the month before."""

from core.webhooks.events import (
    DATETIME,
    INTEGER,
    NUMBER,
    STRING,
    UUID,
    Audience,
    described,
    event_type_declare,
    nullable,
)

_SPREAD = {
    "type": ["object", "null"],
    "properties": {"count": INTEGER, "median": nullable(NUMBER), "p90": nullable(NUMBER)},
    "required": ["count", "median", "p90"],
    "additionalProperties": False,
}
_REPLAY = {
    "type": ["object", "null"],
    "properties": {
        "precision": nullable(NUMBER),
        "recall": nullable(NUMBER),
        "lead_time_median": nullable(NUMBER),
    },
    "additionalProperties": False,
}
FIGURES = {
    "type": "object",
    "description": "The month's KPIs, overall, as kpis/ answers them (docs/kpis.md defines each).",
    "properties": {
        "alerts_closed": INTEGER,
        "false_alarms": INTEGER,
        "false_alarm_rate": nullable(NUMBER),
        "time_to_acknowledge_hours": _SPREAD,
        "time_to_act_hours": _SPREAD,
        "clearance_cycle_days": _SPREAD,
        "overstock_units_held": INTEGER,
        "overstock_value_held": described(STRING, "At unit cost, a decimal with 2 places."),
        "stock_out_days": nullable(INTEGER),
        "units_sold": nullable(INTEGER),
        "lost_units": nullable(NUMBER),
        "fill_rate": nullable(NUMBER),
        "replay": _REPLAY,
    },
    "additionalProperties": False,
}
# The headline figures whose change on the month before the report states (this month less that one).
COMPARED = (
    "false_alarm_rate",
    "time_to_acknowledge_hours.median",
    "time_to_act_hours.median",
    "clearance_cycle_days.median",
    "stock_out_days",
    "overstock_value_held",
    "fill_rate",
    "replay.precision",
    "replay.recall",
    "replay.lead_time_median",
)

KPI_MONTHLY_REPORT = event_type_declare(
    "kpi.monthly_report",
    description="A month's KPI report was closed, with the month before's figures and the changes.",
    audience=Audience.STAFF,
    schema={
        "type": "object",
        "properties": {
            "report_id": UUID,
            "month": described(STRING, "YYYY-MM."),
            "closed_at": DATETIME,
            "figures": FIGURES,
            "previous_month": described(STRING, "YYYY-MM."),
            "previous": {**FIGURES, "type": ["object", "null"], "description": "The month before's figures."},
            "changes": {
                "type": "object",
                "description": "This month's figure less the month before's, for each of: "
                + ", ".join(COMPARED)
                + "; null where either is unknown.",
                "properties": {name: nullable(NUMBER) for name in COMPARED},
                "additionalProperties": False,
            },
        },
        "required": ["report_id", "month", "closed_at", "figures", "previous_month", "previous", "changes"],
        "additionalProperties": False,
    },
    schema_name="KpiMonthlyReportEventData",
    example={
        "report_id": "5b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
        "month": "2026-11",
        "closed_at": "2026-12-01T01:00:00Z",
        "figures": {
            "alerts_closed": 40,
            "false_alarms": 6,
            "false_alarm_rate": 0.15,
            "time_to_acknowledge_hours": {"count": 35, "median": 3.5, "p90": 20.1},
            "time_to_act_hours": {"count": 12, "median": 26.0, "p90": 70.4},
            "clearance_cycle_days": {"count": 9, "median": 18.0, "p90": 31.2},
            "overstock_units_held": 1200,
            "overstock_value_held": "8400.00",
            "stock_out_days": 14,
            "units_sold": 9800,
            "lost_units": 160.5,
            "fill_rate": 0.9839,
            "replay": {"precision": 0.91, "recall": 0.9, "lead_time_median": 12.0},
        },
        "previous_month": "2026-10",
        "previous": None,
        "changes": dict.fromkeys(COMPARED),
    },
)
