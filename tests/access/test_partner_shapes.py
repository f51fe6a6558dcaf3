"""A partner's narrower view is a documented shape of its own: each answer of the alert and indicator
endpoints validates against exactly one branch of the union the OpenAPI schema documents, and it
is the branch of the caller's view (staff and the ERP the staff shape, the others the partner's)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from tests.support.figured import Figured

VIEWS = {
    "staff": "staff",
    "erp": "staff",
    "supplier": "partner",
    "distributor:exact": "partner",
    "distributor:bands": "partner",
    "distributor:mixed": "partner",
}
# Union component -> (the staff branch, the partner branch).
UNIONS = {
    "AlertListItem": ("AlertOutput", "PartnerAlertOutput"),
    "AlertDetailItem": ("AlertDetailOutput", "PartnerAlertDetailOutput"),
    "ReadingListItem": ("ReadingOutput", "PartnerReadingOutput"),
    "ReadingDetailItem": ("ReadingDetailOutput", "PartnerReadingOutput"),
    "RollupListItem": ("RollupOutput", "PartnerRollupOutput"),
}


@pytest.fixture(scope="module")
def components() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["components"]


def _validator(components: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({"components": components, "$ref": f"#/components/schemas/{name}"})


def test_the_unions_document_one_branch_per_view(components: dict) -> None:
    for union, branches in UNIONS.items():
        assert components["schemas"][union] == {
            "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in branches]
        }


@pytest.mark.parametrize("audience", list(VIEWS))
def test_every_answer_matches_exactly_the_branch_of_its_view(figured: Figured, components: dict, audience: str) -> None:
    caller = figured.world.admin if audience == "staff" else figured.callers[audience]
    base = f"/api/v1/tenants/{figured.world.tenant.slug}/"
    answers: dict[str, list] = {name: [] for name in UNIONS}
    answers["AlertListItem"] = caller.client.get(base + "alerts/").json()["results"]
    answers["ReadingListItem"] = caller.client.get(base + "indicators/").json()["results"]
    for label in "EBW":
        answers["AlertDetailItem"].append(caller.client.get(f"{base}alerts/{figured.alerts[label].pk}/").json())
        position = figured.positions[label].pk
        answers["ReadingDetailItem"].append(caller.client.get(f"{base}indicators/{position}/").json())
    for by in ("sku", "category", "warehouse", "region"):
        response = caller.client.get(f"{base}indicators/rollup/?by={by}")
        assert response.status_code == 200, (by, response.content[:300])
        answers["RollupListItem"] += response.json()["results"]
    wanted = 0 if VIEWS[audience] == "staff" else 1
    for union, items in answers.items():
        assert len(items) >= 3, union
        branches = [_validator(components, name) for name in UNIONS[union]]
        for item in items:
            _validator(components, union).validate(item)  # oneOf: exactly one branch
            assert [branch.is_valid(item) for branch in branches] == [wanted == 0, wanted == 1], (union, item)


@pytest.mark.parametrize("audience", ["supplier", "distributor:mixed"])
def test_partner_lists_read_no_query_per_row(figured: Figured, audience: str) -> None:
    # The partner rows are value rows with their grant level and band in the list's one query.
    client, base = figured.callers[audience].client, f"/api/v1/tenants/{figured.world.tenant.slug}/"
    paths = ["alerts/", "indicators/", "indicators/rollup/?by=warehouse"]
    paths += ["shared-stock/"] if audience.startswith("distributor") else []
    for path in paths:
        client.get(base + path)  # the first call of a key records its use; the policy row is made once
        counts = []
        for size in (1, 2):
            join = "&" if "?" in path else "?"
            with CaptureQueriesContext(connection) as queries:
                rows = client.get(f"{base}{path}{join}page_size={size}&limit={size}").json()["results"]
            assert len(rows) == size, (path, rows)
            counts.append(len(queries))
        assert counts[0] == counts[1] <= 4, (path, counts)


@pytest.mark.parametrize("audience", ["supplier", "distributor:bands"])
def test_partners_page_readings_by_what_they_see_and_only_by_that(figured: Figured, audience: str) -> None:
    client, base = figured.callers[audience].client, f"/api/v1/tenants/{figured.world.tenant.slug}/indicators/"
    # A cursor carries the values of the columns it sorts by: those must be columns the partner sees.
    for ordering in ("days_of_cover", "-turnover_days", "health_index,weighted_age_days"):
        refused = client.get(f"{base}?ordering={ordering}&page_size=1")
        assert refused.status_code == 400, refused.content
        assert list(refused.json()["error"]["fields"]) == ["ordering"]
    seen, page = [], client.get(f"{base}?ordering=-health_index&page_size=1").json()
    while True:
        seen += [row["position_id"] for row in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    everything = client.get(f"{base}?ordering=-health_index&page_size=1000").json()["results"]
    assert len(seen) > 1
    assert seen == [row["position_id"] for row in everything]
