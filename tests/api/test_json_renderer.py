"""The API's JSON (orjson) is byte for byte what DRF's renderer wrote."""

import datetime
import decimal
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.serializers import DateTimeField

from api.renderers import JSONRenderer, datetime_texts

PATHS = ["stock/", "partners/", "me/", "warehouses/", "skus/", "alerts/", "shared-stock/"]


@pytest.mark.parametrize("path", PATHS)
def test_a_page_is_what_drf_wrote(world, path) -> None:
    caller = world.distributor if path == "shared-stock/" else world.admin
    response = caller.client.get(f"/api/v1/tenants/{world.tenant.slug}/{path}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == DrfJSONRenderer().render(response.data)


def test_an_error_is_what_drf_wrote(world) -> None:
    response = world.admin.client.get(f"/api/v1/tenants/{world.tenant.slug}/stock/", {"available_lt": "many"})
    assert response.status_code == 400
    assert response.content == DrfJSONRenderer().render(response.data)


PARIS = zoneinfo.ZoneInfo("Europe/Paris")
VALUES = {
    "unicode": 'é ü 中 \u2028 \u2029 \x00 "quoted" \\',
    "numbers": [0, -1, 2**63 - 1, 0.1 + 0.2, 1.5, -0.0, 12345.678],
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": decimal.Decimal("1.2000"),
    "aware": datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.UTC),
    "paris": datetime.datetime(2026, 6, 2, 3, 4, 5, tzinfo=PARIS),
    "naive": datetime.datetime(2026, 1, 2, 3, 4, 5),
    "date": datetime.date(2026, 1, 2),
    "time": datetime.time(3, 4, 5, 600),
    "duration": datetime.timedelta(days=1, seconds=90),
    "lazy": gettext_lazy("Not found."),
    "detail": ErrorDetail("Bad.", code="invalid"),
    "nested": {"tuple": (1, "a", None), "set": {"one"}, "bools": [True, False]},
    "empty": [{}, [], ""],
}


def test_every_kind_of_value_is_written_as_drf_wrote_it() -> None:
    assert JSONRenderer().render(VALUES) == DrfJSONRenderer().render(VALUES)


@pytest.mark.parametrize(
    "data",
    [{"huge": 2**70}, {1: "an integer key"}, None],
    ids=["integer past 64 bits", "non-string key", "no body"],
)
def test_what_orjson_cannot_write_goes_through_drf(data) -> None:
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_an_indented_answer_is_drfs() -> None:
    accepted = "application/json; indent=4"
    assert JSONRenderer().render(VALUES, accepted) == DrfJSONRenderer().render(VALUES, accepted)


@pytest.mark.parametrize("value", [None, *(VALUES[name] for name in ("aware", "paris", "naive"))])
def test_datetime_texts_are_drfs(value) -> None:
    assert datetime_texts()(value) == DateTimeField().to_representation(value)
