"""The demo seed gives the industry-profile rules something to find: apparel SKUs whose season ends
and electronics SKUs whose life ends (with a successor) within the forecast horizon, some of them
with stock the forecast leaves unsold by then."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from core.demo.synthetic import demo_plan
from core.forecasting.models import Forecast
from core.inventory.models import IndustryProfile, Sku
from tenants.models import Tenant


def test_the_small_seed_has_season_ends_and_ends_of_life_with_stock_left_by_then(db):
    # Given the small scale seeded up to yesterday, and its forecasts fitted
    today = timezone.now().date()
    call_command(
        "seed_demo",
        "--scale",
        "small",
        "--seed",
        "7",
        "--tenant",
        "seasons",
        "--today",
        today.isoformat(),
        stdout=StringIO(),
    )
    call_command("forecast", tenant="seasons", stdout=StringIO())
    tenant = Tenant.objects.get(slug="seasons")
    skus = Sku.objects.filter(tenant=tenant).select_related("category", "successor")

    # Then some apparel SKUs end their season and some electronics SKUs their life, 10 to 45 days ahead
    seasons = skus.filter(season_ends_on__isnull=False)
    lives = skus.filter(end_of_life_on__isnull=False)
    assert seasons.exists()
    assert lives.exists()
    assert {sku.category.profile for sku in seasons} == {IndustryProfile.APPAREL}
    assert {sku.category.profile for sku in lives} == {IndustryProfile.ELECTRONICS}
    ahead = (today + timedelta(days=10), today + timedelta(days=45))
    assert all(ahead[0] <= sku.season_ends_on <= ahead[1] for sku in seasons)
    assert all(ahead[0] <= sku.end_of_life_on <= ahead[1] for sku in lives)
    # each life ending names a successor: another electronics SKU whose life does not end
    for sku in lives:
        assert sku.successor is not None
        assert sku.successor.category.profile == IndustryProfile.ELECTRONICS
        assert sku.successor.end_of_life_on is None

    # and the forecast leaves stock unsold by that day at some of their positions (and not at all)
    left: dict[str, list[float]] = {IndustryProfile.APPAREL: [], IndustryProfile.ELECTRONICS: []}
    for forecast in Forecast.objects.filter(tenant=tenant, sku__in=seasons | lives).select_related(
        "sku__category", "position"
    ):
        sku, position = forecast.sku, forecast.position
        day = sku.season_ends_on or sku.end_of_life_on
        assert forecast.mean[(day - forecast.origin).days + 1 :] == [0.0] * (
            forecast.horizon - (day - forecast.origin).days - 1
        )
        # Stock held less the forecast's demand from its origin through the day, as the rules read it.
        stock = position.on_hand - position.reserved + position.in_transit
        sold = sum(forecast.mean[: (day - forecast.origin).days + 1])
        left[sku.category.profile].append(max(stock - sold, 0.0))
    for profile, unsold in left.items():
        assert 0 < sum(value > 0 for value in unsold) < len(unsold), (profile, unsold)

    # The same seed and day give the same profile days
    again = demo_plan(scale="small", seed=7, today=today).skus
    assert {row["code"]: row.get("season_ends_on") for row in again if "season_ends_on" in row} == {
        sku.code: sku.season_ends_on.isoformat() for sku in seasons
    }
