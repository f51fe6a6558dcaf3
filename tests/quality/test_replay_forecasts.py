"""A replayed day with a fresh forecast and a promotion coming is what the live engine says that day.

S sells 10 a day at W (440 left) and W2 (1,000 left), 10 days from its supplier; a promotion at
three times the demand starts in 20 days, and the forecasts are refitted today. Today's replay must
read the stored forecast (fresh: its origin is today) and the promotion (created today) as the
engine's statement does, and trip what the engine trips, with the same inputs.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from core.alerts.engine import rows_prefetch
from core.inventory.models import Position
from core.quality.replay import warnings_replay
from tests.support.histories import selling_at_two_warehouses
from tests.support.ingest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def promoted(shop):
    selling_at_two_warehouses(shop, {"W": 440, "W2": 1000}, lead_time_days=10)
    body = {
        "sku": "S",
        "starts_on": str(TODAY + timedelta(days=20)),
        "ends_on": str(TODAY + timedelta(days=26)),
        "discount_percent": "25",
        "expected_uplift": "3",
    }
    response = shop.planner.client.post(f"/api/v1/tenants/{shop.tenant.slug}/promotions/", body, format="json")
    assert response.status_code == 201, response.content
    call_command("forecast", tenant=shop.tenant.slug, stdout=StringIO())
    return shop


def test_a_fresh_forecast_and_a_coming_promotion_are_read_as_the_engine_reads_them(promoted):
    world = promoted
    ids = list(Position.objects.filter(tenant=world.tenant, sku__code="S").order_by("id").values_list("id", flat=True))
    live = rows_prefetch(tenant=world.tenant, position_ids=ids, today=TODAY)
    assert "promotion_shortfall" in {rule for _, rule in live.trips}
    assert {reading["days_of_cover_source"] for reading in live.readings.values()} == {"forecast"}

    result = warnings_replay(tenant=world.tenant, day_from=TODAY, day_to=TODAY, position_ids=ids)

    replayed = {(a.position_id, a.rule): (a.first_grade, a.inputs) for a in result.alerts}
    assert replayed == {key: (trip.grade, trip.inputs) for key, trip in live.trips.items()}
    assert {a.outcome for a in result.alerts} == {"pending"}  # today's windows run past the data
