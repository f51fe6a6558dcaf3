"""Cursors a client can forge answer like any cursor that does not decode: never a 500.

DRF decodes a cursor and hands its position to the query as it came. Generated over every list
that documents a ``cursor`` parameter: a position of the wrong type for the ordering column, or a date-time
with a UTC offset PostgreSQL cannot store, is refused before the query.
"""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import urlencode

import pytest

from tests.support.documented import operations
from tests.support.endpoints import ACCESS_TOKENS, Endpoint, assert_error, ids_in

LISTS = [
    (endpoint, operation)
    for endpoint, operation in operations()
    if endpoint.method == "GET" and any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
]
FORGED = ["garbage", "1e400", "NaN", "\x00", "2026-01-01T00:00:00-22:35", "2026-01-01 00:00:00+16:00"]


def _cursor(position: str) -> str:
    """Encoded as DRF encodes its own cursors."""
    return b64encode(urlencode({"p": position}).encode()).decode()


def test_the_generator_finds_the_cursor_lists() -> None:
    names = {endpoint.view.__name__ for endpoint, _ in LISTS}
    assert {"AlertListView", "PositionListView", "MovementListView", "PartnerListView"} <= names


@pytest.mark.parametrize(("endpoint", "operation"), LISTS, ids=[str(endpoint) for endpoint, _ in LISTS])
def test_forged_cursor_positions_are_invalid_cursors(endpoint: Endpoint, operation: dict, world) -> None:
    url = endpoint.url(tenant_slug=world.tenant.slug, **ids_in(world, endpoint))
    token = next(token for token in ACCESS_TOKENS if endpoint.view.allowed("GET", token))
    client = world.caller(token).client
    # A required query parameter (the rollup's ``by``) gets its first documented value.
    required = {
        p["name"]: p["schema"]["enum"][0] for p in operation["parameters"] if p.get("required") and p["in"] == "query"
    }
    paginated = isinstance(client.get(url, required).json(), dict)
    for position in FORGED:
        response = client.get(url, {**required, "cursor": _cursor(position)})
        if not paginated:  # documented with a cursor but answering a plain array: the cursor is ignored
            assert response.status_code == 200, response.content[:300]
            continue
        assert_error(response, 404, "not_found")
        assert response.json()["error"]["message"] == "Invalid cursor"


def test_real_cursors_still_page(world) -> None:
    url = f"/api/v1/tenants/{world.tenant.slug}/partners/"
    seen, page = [], world.admin.client.get(url, {"page_size": 1}).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = world.admin.client.get(page["next"]).json()
    assert len(seen) == len(set(seen)) == 3  # the world's supplier, distributor and ERP
