"""Forecast answers: a list row, a position's detail with its daily series, and the backtest report."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.forecasting.models import Forecast

FIGURES_NULL = "Null where the caller may not see the position's quantities (a supplier)."


class ForecastOutput(serializers.Serializer):
    position_id = serializers.IntegerField()
    sku = serializers.CharField(source="sku.code")
    warehouse = serializers.CharField(source="warehouse.code")
    category = serializers.CharField(source="sku.category.code")
    velocity_class = serializers.CharField(source="sku.velocity_class")
    model = serializers.CharField(
        help_text="The model fitted: croston_sba, tsb, theta_weekly, ..., or seasonal_naive_fallback."
    )
    demand_class = serializers.CharField(help_text="smooth, erratic, intermittent, lumpy, or too_short.")
    reason = serializers.CharField(
        help_text="Why the fallback model was used, and what the category's industry profile applied (apparel "
        "monthly coefficients, a season end, an end of life); empty when neither."
    )
    origin = serializers.DateField(help_text="Day 1 of the forecast (the day after the last day of history read).")
    horizon = serializers.IntegerField(help_text="Days forecast.")
    service_level = serializers.FloatField(help_text="The probability the quantile series is read at (e.g. 0.95).")
    fitted_at = serializers.DateTimeField()
    observed_days = serializers.IntegerField(help_text="Days of history a model learned from.")
    censored_days = serializers.IntegerField(help_text="Days left out: stock-outs and days with flagged units.")
    adi = serializers.FloatField(
        allow_null=True,
        help_text="Average inter-demand interval over observed days; null when none had demand, or hidden. "
        + FIGURES_NULL,
    )
    cv2 = serializers.FloatField(allow_null=True, help_text="Squared CV of the demand sizes. " + FIGURES_NULL)
    horizon_mean = serializers.FloatField(
        allow_null=True, help_text="Expected demand over the horizon. " + FIGURES_NULL
    )
    horizon_quantile = serializers.FloatField(
        allow_null=True,
        help_text="The service-level quantile of demand over the whole horizon. " + FIGURES_NULL,
    )

    def to_representation(self, instance: Forecast) -> dict:
        data = super().to_representation(instance)
        if instance.figures:
            data["horizon_mean"] = round(float(sum(instance.mean)), 3)
            data["horizon_quantile"] = instance.cumulative_quantile[-1] if instance.cumulative_quantile else 0.0
        else:
            data.update(adi=None, cv2=None, horizon_mean=None, horizon_quantile=None)
        return data


class ForecastDayOutput(serializers.Serializer):
    date = serializers.DateField()
    mean = serializers.FloatField(help_text="Expected demand that day.")
    p50 = serializers.FloatField(help_text="The day's median demand.")
    quantile = serializers.FloatField(help_text="The day's demand at the service-level quantile.")
    cumulative_quantile = serializers.FloatField(
        help_text="The service-level quantile of demand summed from day 1 through this day "
        "(not a sum of daily quantiles)."
    )


class AccuracyOutput(serializers.Serializer):
    """The latest backtest's figures for the forecast method on the forecast's demand class."""

    ran_at = serializers.DateTimeField(help_text="When the backtest ran.")
    positions = serializers.IntegerField(allow_null=True, help_text="Positions of the class in the backtest.")
    rmsse_mean = serializers.FloatField(allow_null=True, help_text="Mean RMSSE over the class's positions.")
    wrmsse = serializers.FloatField(allow_null=True, help_text="Sales-weighted RMSSE (as the M5 competition scored).")
    wape = serializers.FloatField(allow_null=True)
    bias = serializers.FloatField(allow_null=True, help_text="Summed error / summed demand; > 0 forecasts too high.")
    pinball_loss = serializers.FloatField(allow_null=True, help_text="At the service-level quantile.")
    coverage = serializers.FloatField(allow_null=True, help_text="Share of days at or under the daily quantile.")


class AppliedPromotionOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The promotion (promotions/{id}/).")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    uplift = serializers.FloatField(help_text="The multiplier applied to the base forecast on its days.")
    source = serializers.ChoiceField(
        choices=["learned", "stated", "elasticity", "default_elasticity"],
        help_text="Where the uplift came from: the position's past promotions (shrunk towards the stated or "
        "elasticity uplift when they were few), the promotion's expected_uplift, (1 - discount)^elasticity "
        "with the position's own elasticity, or with the default elasticity -2.",
    )
    learned_days = serializers.IntegerField(help_text="Past promotion days the learned uplift read.")
    promoted_mean = serializers.FloatField(help_text="Expected units over its days within the horizon.")


class ForecastDetailOutput(ForecastOutput):
    days = serializers.SerializerMethodField(help_text="One entry per day of the horizon. " + FIGURES_NULL)
    promotions = serializers.SerializerMethodField(
        help_text="The promotions within the horizon the series were scaled for. " + FIGURES_NULL
    )
    accuracy = serializers.SerializerMethodField(
        help_text="The latest backtest's accuracy for this demand class: null until a backtest ran."
    )

    @extend_schema_field(ForecastDayOutput(many=True, allow_null=True))
    def get_days(self, instance: Forecast) -> list[dict] | None:
        if not instance.figures:
            return None
        rows = zip(instance.mean, instance.p50, instance.quantile, instance.cumulative_quantile, strict=True)
        return [
            {
                "date": (instance.origin + timedelta(days=k)).isoformat(),
                "mean": mean,
                "p50": p50,
                "quantile": quantile,
                "cumulative_quantile": cumulative,
            }
            for k, (mean, p50, quantile, cumulative) in enumerate(rows)
        ]

    @extend_schema_field(AppliedPromotionOutput(many=True, allow_null=True))
    def get_promotions(self, instance: Forecast) -> list[dict] | None:
        return AppliedPromotionOutput(instance.promotions, many=True).data if instance.figures else None

    @extend_schema_field(AccuracyOutput(allow_null=True))
    def get_accuracy(self, instance: Forecast) -> dict | None:
        accuracy = self.context.get("accuracy")
        return AccuracyOutput(accuracy).data if accuracy else None


def _figure(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class MethodMetricsSerializer(serializers.Serializer):
    positions = serializers.IntegerField()
    forecasts = serializers.IntegerField(help_text="(position, origin) pairs with at least one observed day.")
    observed_days = serializers.IntegerField(help_text="Horizon days compared; censored days are left out.")
    units = serializers.FloatField(help_text="Units sold on the observed days.")
    rmsse_mean = _figure("Unweighted mean RMSSE.")
    wrmsse = _figure("RMSSE weighted by units sold over the 28 days before each origin (M5).")
    wape = _figure("Σ|actual - forecast| / Σ actual.")
    bias = _figure("Σ(forecast - actual) / Σ actual; positive: over-forecast.")
    pinball_loss = _figure("At the service-level quantile; the forecast only.")
    coverage = _figure("Share of days with actual ≤ the daily service-level quantile; target: the service level.")
    horizon_coverage = _figure("Share of fully observed horizons whose total ≤ the cumulative quantile.")


class GroupMetricsSerializer(serializers.Serializer):
    forecast = MethodMetricsSerializer()
    moving_average_28 = MethodMetricsSerializer()
    seasonal_naive_7 = MethodMetricsSerializer()


class RatioSerializer(serializers.Serializer):
    moving_average_28 = _figure("Forecast's WRMSSE / the 28-day moving average's (goal ≤ 0.85).")
    seasonal_naive_7 = _figure("Forecast's WRMSSE / the seasonal naive's (goal ≤ 0.90).")


class ReplayFiguresSerializer(serializers.Serializer):
    fill_rate = _figure("Demand served / demand.")
    average_stock = _figure("Mean end-of-day units on hand.")


class ReplaySummarySerializer(serializers.Serializer):
    moving_average = ReplayFiguresSerializer()
    forecast = ReplayFiguresSerializer()
    forecast_stock_vs_moving_average = _figure("Forecast policy's average stock / the moving-average policy's.")


class ReplaySerializer(serializers.Serializer):
    days = serializers.IntegerField()
    review_days = serializers.IntegerField()
    assumptions = serializers.CharField()
    overall = ReplaySummarySerializer(allow_null=True, required=False)
    by_velocity_class = serializers.DictField(child=ReplaySummarySerializer())


class PromotionFiguresSerializer(serializers.Serializer):
    # The metrics of the promotion days only; the quantile figures stay null.
    forecast = MethodMetricsSerializer(help_text="The forecast as made: promotion days out of the base, uplift ahead.")
    promotions_ignored = MethodMetricsSerializer(
        help_text="The same forecast fitted on the raw history with no uplift."
    )
    wape_ratio = _figure("The forecast's WAPE on promotion days / the one ignoring promotions (goal ≤ 0.7).")
    rmsse_ratio = _figure("The same ratio of mean RMSSE.")
    goal = serializers.FloatField()


class ReportSerializer(serializers.Serializer):
    today = serializers.DateField(help_text="The last day of data the backtest read.")
    origins = serializers.IntegerField()
    step_days = serializers.IntegerField()
    horizon = serializers.CharField()
    service_level = serializers.FloatField()
    censored = serializers.CharField(help_text="Which days are left out of the errors.")
    overall = GroupMetricsSerializer(allow_null=True, required=False)
    wrmsse_ratio = RatioSerializer()
    by_demand_class = serializers.DictField(child=GroupMetricsSerializer())
    by_velocity_class = serializers.DictField(child=GroupMetricsSerializer())
    promotions = PromotionFiguresSerializer(
        allow_null=True,
        required=False,
        help_text="Error on the promotion days of the horizons against the same forecast with promotions "
        "ignored; null when no horizon had an observed promotion day.",
    )
    inventory_replay = ReplaySerializer()


class ParametersSerializer(serializers.Serializer):
    origins = serializers.IntegerField()
    step_days = serializers.IntegerField()
    today = serializers.DateField()
    service_level = serializers.FloatField()


class ForecastAccuracyOutput(serializers.Serializer):
    ran_at = serializers.DateTimeField()
    parameters = ParametersSerializer()
    report = ReportSerializer()
