"""Shapes of alerts, their timeline, indicator readings, rollups, policies and evaluation runs."""

from datetime import date, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.input import AwareDateTimeField, InputSerializer
from api.renderers import datetime_texts
from api.schema import role_shapes
from core.access import registry as access
from core.access import views
from core.access.registry import BAND_WORDS
from core.alerts.catalog import INDICATORS
from core.alerts.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertPolicy,
    AlertStatus,
    DismissReason,
    EvaluationRun,
    Grade,
    IndicatorReading,
    PolicyChange,
    RuleCode,
)
from core.alerts.policies import policy_bands
from core.alerts.rules import RULES
from core.alerts.services import dismiss_reason_help
from core.inventory.models import IndustryProfile, VelocityClass
from core.procurement.rfqs import replenishment
from tenants.principals import Principal

_DATETIME = serializers.DateTimeField()
# The columns of an alert row as the list reads them: plain values, no model instances.
ALERT_ROW = [
    "id",
    "rule",
    "direction",
    "grade",
    "peak_grade",
    "status",
    "active",
    "snoozed_until",
    "position_id",
    "sku__code",
    "warehouse__code",
    "warehouse__region",
    "sku__category__code",
    "deviation",
    "explanation",
    "recommendation",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "dismissed_reason",
    "dismissed_note",
    "created_at",
    "updated_at",
]


def is_snoozed(until: datetime | None, now: datetime) -> bool:
    return bool(until and until > now)


def alert_row(row: dict, *, now: datetime) -> dict:
    """``AlertOutput`` of an ``ALERT_ROW`` values row: the same JSON without three model instances
    and a serializer per row (the bulk of a 100-alert page's time under load)."""
    moment = datetime_texts()
    return {
        "id": str(row["id"]),
        "rule": row["rule"],
        "direction": row["direction"],
        "grade": row["grade"],
        "peak_grade": row["peak_grade"],
        "status": row["status"],
        "active": row["active"],
        "snoozed": is_snoozed(row["snoozed_until"], now),
        "snoozed_until": moment(row["snoozed_until"]),
        "position_id": row["position_id"],
        "sku": row["sku__code"],
        "warehouse": row["warehouse__code"],
        "region": row["warehouse__region"],
        "category": row["sku__category__code"],
        "deviation": row["deviation"],
        "explanation": row["explanation"],
        "recommendation": row["recommendation"],
        **{name: moment(row[name]) for name in ("opened_at", "acknowledged_at", "resolved_at")},
        "dismissed_reason": row["dismissed_reason"],
        "dismissed_note": row["dismissed_note"],
        "created_at": moment(row["created_at"]),
        "updated_at": moment(row["updated_at"]),
    }


# A partner's alert row: the staff columns it is rendered from, and what the access registry reads
# (the grant level of the row's warehouse, the position's band, and for the due day the inputs and
# the day of the reading they came from).
PARTNER_ALERT_ROW = [*ALERT_ROW, "inputs", "grant", "band", "position__reading__as_of"]


def stock_out_day(direction: str, inputs: dict, as_of: date | None) -> date | None:
    """The projected stock-out day of a stock-out alert (the day an RFQ for it is needed by)."""
    if direction != "stock_out" or as_of is None:
        return None
    return replenishment(inputs, as_of)[1]


def partner_alert_row(row: dict, *, principal: Principal) -> dict | None:
    """``PartnerAlertOutput`` of a ``PARTNER_ALERT_ROW`` values row, through the access registry;
    None where the registry shows the principal nothing of it."""
    moment = datetime_texts()
    values = {
        "id": str(row["id"]),
        **{name: row[name] for name in ("rule", "direction", "grade", "peak_grade", "status", "active")},
        "position_id": row["position_id"],
        "sku": row["sku__code"],
        "warehouse": row["warehouse__code"],
        "region": row["warehouse__region"],
        "category": row["sku__category__code"],
        "band": row["band"],
        "recommendation": row["recommendation"],
        **{
            name: moment(row[name])
            for name in ("opened_at", "acknowledged_at", "resolved_at", "created_at", "updated_at")
        },
    }
    due = stock_out_day(row["direction"], row["inputs"], row["position__reading__as_of"])
    return views.partner_alert(values, access.of(principal, row["grant"]), due=due)


class AlertOutput(serializers.ModelSerializer):
    position_id = serializers.IntegerField()
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    region = serializers.CharField(source="warehouse.region")
    category = serializers.CharField(source="sku.category.code")
    snoozed = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField(help_text="The recommended response, with its figures.")

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "direction",
            "grade",
            "peak_grade",
            "status",
            "active",
            "snoozed",
            "snoozed_until",
            "position_id",
            "sku",
            "warehouse",
            "region",
            "category",
            "deviation",
            "explanation",
            "recommendation",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "dismissed_reason",
            "dismissed_note",
            "created_at",
            "updated_at",
        ]

    def get_snoozed(self, alert: Alert) -> bool:
        return is_snoozed(alert.snoozed_until, self.context["now"])

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_recommendation(self, alert: Alert) -> dict:
        return alert.recommendation


class AlertEventOutput(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(
        help_text="Who acted: `user:<name>` (the ERP: `staff`), `system`, or a partner (`you`, `partner`)."
    )

    class Meta:
        model = AlertEvent
        fields = ["kind", "from_grade", "to_grade", "actor", "note", "data", "created_at"]

    def get_actor(self, event: AlertEvent) -> str:
        principal = self.context["principal"]
        return views.actor_word(event.actor, access.of(principal), getattr(principal.partner, "pk", None))


class AlertDetailOutput(AlertOutput):
    """An alert as staff (and the ERP) see it: with the figures behind it."""

    inputs = serializers.JSONField(help_text="The indicator values the rule read.")
    thresholds = serializers.SerializerMethodField(
        help_text="The effective policy: standard, bands, thresholds, and sources."
    )
    timeline = serializers.SerializerMethodField()

    class Meta(AlertOutput.Meta):
        fields = [*AlertOutput.Meta.fields, "inputs", "thresholds", "timeline"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_thresholds(self, alert: Alert) -> dict:
        return alert.thresholds

    @extend_schema_field(AlertEventOutput(many=True))
    def get_timeline(self, alert: Alert) -> list[dict]:
        return AlertEventOutput(self.context["events"], many=True, context=self.context).data


class PartnerRecommendationOutput(serializers.Serializer):
    action = serializers.CharField(allow_null=True, help_text="What is being done about it.")
    quantity = serializers.IntegerField(
        allow_null=True, help_text="Units of the action, where your grant shows them (a supplier: what is sourced)."
    )
    due_on = serializers.DateField(allow_null=True, help_text="A stock-out's projected day, where shown.")


class PartnerPlaceOutput(serializers.Serializer):
    """Which position a partner shape is about."""

    position_id = serializers.IntegerField()
    sku = serializers.CharField()
    warehouse = serializers.CharField()
    region = serializers.CharField()
    category = serializers.CharField()
    band = serializers.ChoiceField(choices=BAND_WORDS, allow_null=True, help_text="The position's stock band now.")


class PartnerAlertOutput(PartnerPlaceOutput):
    """An alert as a supplier or distributor sees it: what is recommended, in words written for it,
    never the figures behind it. Quantities appear only where the grant shows them."""

    id = serializers.UUIDField()
    rule = serializers.ChoiceField(choices=RuleCode.choices)
    direction = serializers.CharField()
    grade = serializers.ChoiceField(choices=Grade.choices)
    peak_grade = serializers.ChoiceField(choices=Grade.choices)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    active = serializers.BooleanField()
    explanation = serializers.CharField(help_text="The situation, the action, its quantity and due day where shown.")
    recommendation = PartnerRecommendationOutput()
    opened_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PartnerAlertEventOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertEventKind.choices)
    from_grade = serializers.CharField(help_text="A grade, or empty.")
    to_grade = serializers.CharField(help_text="A grade, or empty.")
    actor = serializers.ChoiceField(choices=["staff", "system", "you", "partner"], help_text="Who acted, as a role.")
    created_at = serializers.DateTimeField()


class PartnerAlertDetailOutput(PartnerAlertOutput):
    timeline = PartnerAlertEventOutput(many=True)


def partner_alert_detail(row: dict, events: list[dict], *, principal: Principal) -> dict | None:
    """``PartnerAlertDetailOutput`` of a ``PARTNER_ALERT_ROW`` row and its timeline's values."""
    shown = partner_alert_row(row, principal=principal)
    if shown is None:
        return None
    caps, moment = access.of(principal, row["grant"]), _DATETIME.to_representation
    viewer = getattr(principal.partner, "pk", None)
    timeline = [views.partner_event({**e, "created_at": moment(e["created_at"])}, caps, viewer) for e in events]
    return {**shown, "timeline": timeline}


ALERT_LIST = role_shapes(
    "AlertListItem",
    AlertOutput,
    PartnerAlertOutput,
    many=True,
    help_text="Staff and the ERP get Alert; suppliers and distributors PartnerAlert.",
)
ALERT_DETAIL = role_shapes("AlertDetailItem", AlertDetailOutput, PartnerAlertDetailOutput)


class AlertNoteInput(InputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AlertDismissInput(InputSerializer):
    reason = serializers.ChoiceField(
        choices=DismissReason.choices,
        help_text="Why it needs no action: false_alarm, too_early, too_late, duplicate or other (other needs a "
        "note). The tuner reads these.",
        error_messages={"invalid_choice": dismiss_reason_help()},
    )
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="In your words; kept on the timeline."
    )


class AlertSnoozeInput(InputSerializer):
    until = AwareDateTimeField(help_text="ISO 8601 with an offset; at most 90 days ahead.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


READING_FIELDS = [
    "position_id",
    "sku",
    "warehouse",
    "region",
    "category",
    "as_of",
    "health_index",
    "on_hand",
    "available",
    "in_transit",
    "ads_7",
    "ads_28",
    "ads_90",
    "days_of_cover",
    "average_on_hand_90",
    "turnover_days",
    "turnover_rate",
    "sell_through_28",
    "wow_change",
    "weekly_declines",
    "age_0_30",
    "age_31_60",
    "age_61_90",
    "age_91_180",
    "age_over_180",
    "weighted_age_days",
    "expiry_at_risk",
    "days_to_expiry",
    "lead_time_days",
    "longest_lead_time_days",
    "lead_time_volatility_days",
    "demand_sigma_28",
    "safety_stock_cover",
    "safety_stock_service",
    "reorder_point_cover",
    "reorder_point_service",
    "inbound_approved",
    "days_of_cover_source",
    "projected_stock_out_on",
    "safety_stock_forecast",
    "reorder_point_forecast",
    "stockout_risk",
    "overstock",
    "changed_at",
]


class ReadingOutput(serializers.ModelSerializer):
    position_id = serializers.IntegerField()
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    region = serializers.CharField(source="warehouse.region")
    category = serializers.CharField(source="sku.category.code")

    class Meta:
        model = IndicatorReading
        fields = READING_FIELDS


class ReadingDetailOutput(ReadingOutput):
    details = serializers.SerializerMethodField(
        help_text="Weekly series, safety-stock method and z, launch, signals and the health index's components, "
        "computed for this position as of now."
    )

    class Meta(ReadingOutput.Meta):
        fields = [*READING_FIELDS, "details"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_details(self, reading: IndicatorReading) -> dict:
        return self.context["details"]


class PartnerReadingOutput(PartnerPlaceOutput):
    """A reading as a supplier or distributor sees it: the position's band and health, and its
    quantities only where the grant of its warehouse shows them (``exact``); no other figure."""

    as_of = serializers.DateField()
    exact = serializers.BooleanField(help_text="Whether the quantities are shown (else null).")
    on_hand = serializers.IntegerField(allow_null=True)
    available = serializers.IntegerField(allow_null=True)
    in_transit = serializers.IntegerField(allow_null=True)
    health_index = serializers.IntegerField()
    stockout_risk = serializers.BooleanField()
    overstock = serializers.BooleanField()
    changed_at = serializers.DateTimeField()


PARTNER_READING_ROW = [
    "position_id",
    "sku__code",
    "warehouse__code",
    "warehouse__region",
    "sku__category__code",
    "as_of",
    "on_hand",
    "available",
    "in_transit",
    "health_index",
    "stockout_risk",
    "overstock",
    "changed_at",
    "grant",
    "band",
]


def partner_reading_row(row: dict, *, principal: Principal) -> dict | None:
    """``PartnerReadingOutput`` of a ``PARTNER_READING_ROW`` values row, through the access registry."""
    values = {
        **{name: row[name] for name in ("position_id", "on_hand", "available", "in_transit", "band")},
        **{name: row[name] for name in ("health_index", "stockout_risk", "overstock")},
        "sku": row["sku__code"],
        "warehouse": row["warehouse__code"],
        "region": row["warehouse__region"],
        "category": row["sku__category__code"],
        "as_of": row["as_of"].isoformat(),
        "changed_at": _DATETIME.to_representation(row["changed_at"]),
    }
    return views.partner_reading(values, access.of(principal, row["grant"]))


READING_LIST = role_shapes("ReadingListItem", ReadingOutput, PartnerReadingOutput, many=True)
READING_DETAIL = role_shapes("ReadingDetailItem", ReadingDetailOutput, PartnerReadingOutput)


class RollupOutput(serializers.Serializer):
    key = serializers.CharField(help_text="The SKU, category or warehouse code, or the region.")
    name = serializers.CharField()
    positions = serializers.IntegerField()
    skus = serializers.IntegerField()
    skus_selling = serializers.IntegerField(help_text="SKUs that sold in the last 28 days.")
    on_hand = serializers.IntegerField()
    available = serializers.IntegerField()
    ads_7 = serializers.FloatField()
    ads_28 = serializers.FloatField()
    ads_90 = serializers.FloatField()
    days_of_cover = serializers.FloatField(allow_null=True, help_text="Sum of available / sum of ads_28.")
    turnover_rate = serializers.FloatField(allow_null=True, help_text="Cost-weighted, annualized.")
    turnover_days = serializers.FloatField(allow_null=True)
    sell_through_28 = serializers.FloatField(allow_null=True, help_text="Share of the SKUs that sold at all.")
    age_0_30 = serializers.IntegerField()
    age_31_60 = serializers.IntegerField()
    age_61_90 = serializers.IntegerField()
    age_91_180 = serializers.IntegerField()
    age_over_180 = serializers.IntegerField()
    weighted_age_days = serializers.FloatField(allow_null=True)
    expiry_at_risk = serializers.IntegerField()
    days_to_expiry = serializers.IntegerField(allow_null=True)
    stockout_risk_positions = serializers.IntegerField()
    overstock_positions = serializers.IntegerField()
    overstock_value = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        coerce_to_string=True,
        help_text="On hand x unit cost, summed over the positions flagged overstock (a decimal with 2 places).",
    )
    health_index_mean = serializers.FloatField(allow_null=True)
    health_index_min = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateField()


class PartnerRollupOutput(serializers.Serializer):
    """A rollup as a supplier or distributor sees it: counts, health and the sums of quantities over
    the positions whose grants show them (null where none does)."""

    key = serializers.CharField(help_text="The SKU, category or warehouse code, or the region.")
    name = serializers.CharField()
    positions = serializers.IntegerField()
    skus = serializers.IntegerField()
    exact_positions = serializers.IntegerField(help_text="Positions whose quantities your grants show.")
    on_hand = serializers.IntegerField(allow_null=True, help_text="Over exact_positions only.")
    available = serializers.IntegerField(allow_null=True, help_text="Over exact_positions only.")
    in_transit = serializers.IntegerField(allow_null=True, help_text="Over exact_positions only.")
    stockout_risk_positions = serializers.IntegerField()
    overstock_positions = serializers.IntegerField()
    health_index_mean = serializers.FloatField(allow_null=True)
    health_index_min = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateField()


def partner_rollup_row(row: dict) -> dict:
    """``PartnerRollupOutput`` of a ``reading_rollup_shown`` row."""
    mean = row["health_index_mean"]
    return {**row, "as_of": row["as_of"].isoformat(), "health_index_mean": round(mean, 1) if mean is not None else None}


ROLLUP_LIST = role_shapes("RollupListItem", RollupOutput, PartnerRollupOutput, many=True)


class BandsField(serializers.Serializer):
    yellow = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=0)
    orange = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=0)
    red = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=0)


class RuleScopedOutput(serializers.ModelSerializer):
    """The scope of a row about one rule: a policy, a policy version, a tuner's step."""

    scope = serializers.CharField(help_text="tenant, velocity_class, category or sku")
    category = serializers.CharField(source="category.code", allow_null=True, default=None)
    sku = serializers.CharField(source="sku.code", allow_null=True, default=None)


class BandsOutput(serializers.Serializer):
    """Bands as answered: numbers (``BandsField`` reads them as decimals, in text or numbers)."""

    yellow = serializers.FloatField()
    orange = serializers.FloatField()
    red = serializers.FloatField()


class PolicyOutput(RuleScopedOutput):
    standard = serializers.FloatField(allow_null=True)
    bands = serializers.SerializerMethodField()
    profiles = serializers.SerializerMethodField(
        help_text="The category profiles the policy's rule applies to; null: every profile."
    )

    class Meta:
        model = AlertPolicy
        fields = [
            "id",
            "rule",
            "scope",
            "velocity_class",
            "category",
            "sku",
            "enabled",
            "standard",
            "bands",
            "thresholds",
            "parameters",
            "profiles",
            "note",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(BandsOutput(allow_null=True))
    def get_bands(self, policy: AlertPolicy) -> dict | None:
        return policy_bands(policy)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=IndustryProfile.choices), allow_null=True)
    )
    def get_profiles(self, policy: AlertPolicy) -> list[str] | None:
        return RULES[policy.rule].profiles_listed


_SETTINGS_HELP = {
    "enabled": "Empty inherits; false switches the rule off for the scope.",
    "standard": "Overstock only: the turnover days deviation is measured from.",
    "thresholds": f"Indicator thresholds of the rule, by indicator name ({len(INDICATORS)} known).",
    "parameters": "Rule parameters by name (see alert-policies/rules/).",
}


class PolicySettingsInput(InputSerializer):
    enabled = serializers.BooleanField(allow_null=True, required=False, help_text=_SETTINGS_HELP["enabled"])
    standard = serializers.DecimalField(
        max_digits=14, decimal_places=4, allow_null=True, required=False, help_text=_SETTINGS_HELP["standard"]
    )
    bands = BandsField(allow_null=True, required=False, help_text="Deviation bands as shares: 0.1 is 10 %.")
    thresholds = serializers.DictField(required=False, help_text=_SETTINGS_HELP["thresholds"])
    parameters = serializers.DictField(required=False, help_text=_SETTINGS_HELP["parameters"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Why the policy changes: kept on the policy version this write records (policy-changes/).",
    )


class PolicyCreateInput(PolicySettingsInput):
    rule = serializers.ChoiceField(choices=RuleCode.choices)
    velocity_class = serializers.ChoiceField(choices=VelocityClass.choices, required=False)
    category = serializers.CharField(max_length=64, required=False, help_text="A category code.")
    sku = serializers.CharField(max_length=64, required=False, help_text="A SKU code.")


class PolicyChangeOutput(RuleScopedOutput):
    before = serializers.JSONField(help_text="The scope's policy settings before the change; null: no policy.")
    after = serializers.JSONField(help_text="The scope's policy settings after the change; null: no policy.")
    author = serializers.CharField(help_text="`user:<name>`, or `system:tuner` for the threshold tuner.")
    evidence = serializers.JSONField(help_text="The tuner's evidence for the change (docs/tuning.md); {} otherwise.")
    replay = serializers.JSONField(help_text="The shadow replay's figures before and after; {} otherwise.")
    reverts = serializers.UUIDField(source="reverts_id", allow_null=True, help_text="The version this one reverts.")

    class Meta:
        model = PolicyChange
        fields = [
            "id",
            "version",
            "action",
            "rule",
            "scope",
            "velocity_class",
            "category",
            "sku",
            "before",
            "after",
            "author",
            "reason",
            "evidence",
            "replay",
            "reverts",
            "created_at",
        ]


class PolicyChangeRevertInput(InputSerializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Why; kept on the new version."
    )


class RuleParameterOutput(serializers.Serializer):
    name = serializers.CharField()
    default = serializers.JSONField()
    help = serializers.CharField()
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField())


class RuleOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=RuleCode.choices)
    direction = serializers.CharField()
    summary = serializers.CharField()
    graded_by = serializers.CharField()
    standard_help = serializers.CharField()
    profiles = serializers.ListField(
        child=serializers.ChoiceField(choices=IndustryProfile.choices),
        allow_null=True,
        help_text="The category profiles the rule applies to; null: every profile.",
    )
    default_bands = serializers.DictField(child=serializers.FloatField())
    thresholds = serializers.DictField(child=serializers.FloatField())
    parameters = RuleParameterOutput(many=True)


class EvaluationOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "trigger",
            "status",
            "requested_by",
            "as_of",
            "positions_total",
            "positions_done",
            "progress",
            "counts",
            "attempts",
            "started_at",
            "heartbeat_at",
            "finished_at",
            "error",
            "created_at",
        ]

    def get_progress(self, run: EvaluationRun) -> float:
        """Share of positions done, 0 to 1."""
        if run.status == "succeeded":
            return 1.0
        return round(min(1.0, run.positions_done / run.positions_total), 4) if run.positions_total else 0.0
