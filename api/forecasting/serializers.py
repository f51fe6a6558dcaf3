"""Output of the forecasting endpoints: the backtest report, with its real shape for the schema."""

from rest_framework import serializers


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
