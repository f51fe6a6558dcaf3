"""The alert inbox: the API's filters, bulk acknowledge / snooze / dismiss through the API's own
services (all or nothing), live rows, roles and tenants; in a real browser and over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from console import inbox
from tests.support.browser import PHONE
from tests.support.calls import ok, url
from tests.support.console_alerts import api_alert, api_alerts, graded, master, overstocked


def inbox_world(world):
    """Red overstock on A at W1 and W2, yellow on B at W1, orange on D at W2 (categories C1, C2,
    regions north, south), made by the engine from pushed movements."""
    master(
        world,
        categories={"C1": "Food oil", "C2": "Rice"},
        warehouses={"W1": "north", "W2": "south"},
        skus={"A": "C1", "B": "C1", "D": "C2"},
    )
    overstocked(world, [("A", "W1"), ("A", "W2"), ("B", "W1"), ("D", "W2")])
    graded(world, "B", "yellow")
    graded(world, "D", "orange")
    return world


def ids(alerts: list[dict]) -> list[str]:
    return sorted(alert["id"] for alert in alerts)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_ids(response) -> list[str]:
    return sorted(re.findall(r'<tr id="alert-([0-9a-f-]{36})"', response.content.decode()))


def overstock(world, sku: str, warehouse: str) -> dict:
    (alert,) = api_alerts(world, sku=sku, warehouse=warehouse, rule="overstock", active="true")
    return alert


def timelines(world) -> dict[str, list[str]]:
    """Every alert's timeline kinds: what a refused submission must leave as it was."""
    return {a["id"]: [e["kind"] for e in api_alert(world, a["id"])["timeline"]] for a in api_alerts(world)}


# --- Over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def alerts_made(world, other_world):
    inbox_world(world)
    master(other_world, categories={"C1": "x"}, warehouses={"W1": "north"}, skus={"A": "C1"})
    overstocked(other_world, [("A", "W1")])
    return world


def test_filters_in_the_url_list_what_the_api_lists_worst_first(alerts_made):
    world = alerts_made
    client = signed_in(world.analyst.user)
    snoozed = overstock(world, "A", "W2")["id"]
    until = (timezone.now() + timedelta(days=1)).isoformat()
    ok(world.planner.client.post(url(world, f"alerts/{snoozed}/snooze/"), {"until": until}, format="json"))
    cases = [
        {"grade": "red", "warehouse": "W1"},
        {"snoozed": "true"},
        {"grade": ["orange", "red"]},
        {"category": "C1", "active": "true"},
        {"region": "south"},
        {"sku": "A", "rule": "overstock"},
        {"status": "open", "snoozed": "false"},
    ]
    for params in cases:
        response = client.get("/console/acme/alerts/", params)
        assert response.status_code == 200
        assert page_ids(response) == ids(api_alerts(world, **params)), params
        assert page_ids(response)
    # No filter at all: what someone has to act on now, as the API lists it with those filters.
    default = client.get("/console/acme/alerts/")
    assert page_ids(default) == ids(api_alerts(world, active="true", status=["open", "acknowledged"], snoozed="false"))
    assert snoozed not in page_ids(default)
    # Worst first: red rows before orange before yellow.
    grades = re.findall(r'data-grade="(\w+)"', default.content.decode().split('id="inbox-body"')[1])
    ranks = [{"red": 3, "orange": 2, "yellow": 1}[g] for g in grades]
    assert ranks == sorted(ranks, reverse=True)
    assert {3, 2, 1} <= set(ranks)
    # The analyst reads: no checkboxes, no action buttons.
    body = default.content.decode()
    for action in ('name="ids"', 'value="acknowledge"', 'value="snooze"', 'value="dismiss"'):
        assert action not in body


def test_pages_cover_every_alert_once_in_either_order(alerts_made, monkeypatch):
    world = alerts_made
    monkeypatch.setattr(inbox, "PAGE_SIZE", 3)
    client = signed_in(world.planner.user)
    everything = ids(api_alerts(world))
    assert len(everything) == 4  # a page of three, then one of one
    for sort in ("worst", "newest"):
        seen, number = [], 1
        while True:
            response = client.get("/console/acme/alerts/", {"all": "1", "sort": sort, "page": number})
            assert response.status_code == 200
            found = re.findall(r'<tr id="alert-([0-9a-f-]{36})"', response.content.decode())
            assert len(found) == (3 if number == 1 else 1)
            seen += found
            if 'rel="next"' not in response.content.decode():
                break
            number += 1
        assert sorted(seen) == everything, sort
        assert len(seen) == len(set(seen))
    # Past the last page: the last page, not an error.
    beyond = client.get("/console/acme/alerts/", {"all": "1", "page": 999})
    assert beyond.status_code == 200
    assert f"page {number} of {number}" in beyond.content.decode()


def test_a_filter_the_api_refuses_is_a_clear_400(alerts_made):
    response = signed_in(alerts_made.planner.user).get("/console/acme/alerts/", {"grade": "purple"})
    assert response.status_code == 400
    assert "Filter refused, grade" in response.content.decode()
    assert "purple" in response.content.decode()


def test_acknowledge_snooze_and_dismiss_in_bulk_change_the_alerts_in_the_api(alerts_made):
    world = alerts_made
    client = signed_in(world.planner.user)
    a1, a2, d2 = overstock(world, "A", "W1"), overstock(world, "A", "W2"), overstock(world, "D", "W2")
    b1 = overstock(world, "B", "W1")

    done = client.post(
        "/console/acme/alerts/bulk/",
        {"ids": [a1["id"], a2["id"]], "action": "acknowledge", "note": "on it", "next": "grade=red"},
    )
    assert done.status_code == 303
    assert done["Location"] == "/console/acme/alerts/?grade=red"
    for alert in (a1, a2):
        shown = api_alert(world, alert["id"])
        assert shown["status"] == "acknowledged"
        assert (shown["timeline"][-1]["kind"], shown["timeline"][-1]["note"]) == ("acknowledged", "on it")
    assert "Acknowledged 2 alerts." in client.get(done["Location"]).content.decode()

    until = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    snoozed = client.post(
        "/console/acme/alerts/bulk/", {"ids": [d2["id"]], "action": "snooze", "until": until.strftime("%Y-%m-%dT%H:%M")}
    )
    assert snoozed.status_code == 303
    assert api_alert(world, d2["id"])["snoozed_until"].startswith(until.strftime("%Y-%m-%dT%H:%M"))

    dismissed = client.post(
        "/console/acme/alerts/bulk/",
        {"ids": [b1["id"]], "action": "dismiss", "reason": "too_early", "note": "spring season"},
    )
    assert dismissed.status_code == 303
    shown = api_alert(world, b1["id"])
    assert (shown["status"], shown["dismissed_reason"], shown["dismissed_note"]) == (
        "dismissed",
        "too_early",
        "spring season",
    )


BAD = [
    ({"action": "delete"}, "Choose an action"),
    ({"action": "dismiss", "reason": "bored"}, "Choose why you dismiss"),
    ({"action": "dismiss", "reason": "other"}, "Say why in the note"),
    ({"action": "snooze", "until": "2020-01-01T10:00"}, "has passed"),
    ({"action": "snooze", "until": "tomorrow"}, "Give the time to snooze until"),
    ({"action": "snooze", "until": "2999-01-01T10:00"}, "at most 90 days"),
    ({"action": "acknowledge", "ids": []}, "Select at least one alert"),
    ({"action": "acknowledge", "ids": ["not-a-uuid"]}, "is not an alert id"),
    ({"action": "acknowledge", "ids": ["00000000-0000-4000-8000-000000000000"]}, "not among this tenant"),
    ({"action": "acknowledge", "foreign": True}, "not among this tenant"),
]


def test_bad_submissions_are_refused_with_a_message_and_nothing_written(alerts_made, other_world):
    world = alerts_made
    client = signed_in(world.planner.user)
    mine = overstock(world, "A", "W1")["id"]
    (foreign,) = api_alerts(other_world)
    before = timelines(world)
    foreign_before = api_alert(other_world, foreign["id"])

    for body, message in BAD:
        form = {"ids": [mine], "next": "grade=red", **body}
        if form.pop("foreign", False):
            form["ids"] = [mine, foreign["id"]]
        response = client.post("/console/acme/alerts/bulk/", form)
        assert response.status_code == 400, body
        text = response.content.decode()
        assert message in text, (body, text[:2000])
        assert "Nothing was changed." in text
        # The page is the inbox again, filtered as it was, the selection kept.
        assert page_ids(response) == ids(api_alerts(world, grade="red"))
        if mine in form["ids"]:
            assert re.search(rf'value="{mine}"\s+aria-label="[^"]*"\s+checked', text)

    assert timelines(world) == before
    assert api_alert(other_world, foreign["id"]) == foreign_before


def test_a_conflict_on_one_alert_undoes_the_whole_submission(alerts_made):
    world = alerts_made
    client = signed_in(world.planner.user)
    a1, a2 = overstock(world, "A", "W1"), overstock(world, "A", "W2")
    assert client.post("/console/acme/alerts/bulk/", {"ids": [a1["id"]], "action": "acknowledge"}).status_code == 303
    before = timelines(world)

    response = client.post("/console/acme/alerts/bulk/", {"ids": [a1["id"], a2["id"]], "action": "acknowledge"})

    assert response.status_code == 409
    text = response.content.decode()
    assert "The red overstock alert of A at W1: This alert is acknowledged" in text
    assert "Nothing was changed." in text
    assert api_alert(world, a2["id"])["status"] == "open"
    assert timelines(world) == before


def test_analysts_are_refused_csrf_is_required_and_other_tenants_answer_404(alerts_made, other_world):
    world = alerts_made
    mine = overstock(world, "A", "W1")["id"]
    form = {"ids": [mine], "action": "acknowledge"}
    before = timelines(world)

    assert signed_in(world.analyst.user).post("/console/acme/alerts/bulk/", form).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.planner.user)
    assert strict.post("/console/acme/alerts/bulk/", form).status_code == 403
    planner = signed_in(world.planner.user)
    for path in ("alerts/", "alerts/rows/"):
        assert planner.get(f"/console/globex/{path}").status_code == 404
    assert planner.post("/console/globex/alerts/bulk/", form).status_code == 404
    assert planner.get("/console/acme/alerts/bulk/").status_code == 405
    assert timelines(world) == before
    assert api_alert(world, mine)["status"] == "open"


def test_the_rows_fragment_lists_alerts_created_after_its_cursor(alerts_made):
    world = alerts_made
    client = signed_in(world.planner.user)
    now = timezone.now().isoformat()
    quiet = client.get("/console/acme/alerts/rows/", {"since": now, "after": now, "grade": "red"})
    assert quiet.status_code == 200
    assert page_ids(quiet) == []
    earlier = (timezone.now() - timedelta(days=1)).isoformat()
    everything = client.get("/console/acme/alerts/rows/", {"since": earlier, "after": earlier, "grade": "red"})
    assert page_ids(everything) == ids(api_alerts(world, grade="red"))
    assert f"{len(page_ids(everything))} new alerts" in everything.content.decode()
    bad = client.get("/console/acme/alerts/rows/", {"since": "yesterday", "after": now})
    assert bad.status_code == 400
    assert "Live update stopped" in bad.content.decode()
    # A refused filter's words come back escaped.
    hostile = client.get("/console/acme/alerts/rows/", {"since": now, "after": now, "grade": "<b>x</b>"})
    assert hostile.status_code == 400
    assert "<b>" not in hostile.content.decode()
    assert "&lt;b&gt;" in hostile.content.decode()


# --- In the browser -------------------------------------------------------------------------------


def test_a_planner_works_the_inbox_in_the_browser_and_new_alerts_appear_live(console_site, world):
    inbox_world(world)
    page = console_site.signed_in(world.planner.user)
    page.goto("/console/acme/alerts/?grade=red&warehouse=W1")
    rows = page.locator("#inbox-body tr")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.id)")) == ids(
        api_alerts(world, grade="red", warehouse="W1")
    )

    # The filter form: orange and red, any warehouse.
    page.goto("/console/acme/alerts/")
    page.locator('input[name="grade"][value="red"]').check()
    page.locator('input[name="grade"][value="orange"]').check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"grade=orange"))
    shown = sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.id)"))
    assert shown == ids(
        api_alerts(world, grade=["orange", "red"], active="true", status=["open", "acknowledged"], snoozed="false")
    )

    # Acknowledge the two red alerts of A.
    a1, a2 = overstock(world, "A", "W1"), overstock(world, "A", "W2")
    for alert in (a1, a2):
        page.locator(f'#alert-{alert["id"]} input[name="ids"]').check()
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Acknowledged 2 alerts.")
    for alert in (a1, a2):
        assert api_alert(world, alert["id"])["status"] == "acknowledged"
        assert "Acknowledged" in page.locator(f"#alert-{alert['id']} td.status").inner_text()

    # Dismiss the orange one: "other" without a note is refused, with one it goes through.
    d2 = overstock(world, "D", "W2")
    page.locator(f'#alert-{d2["id"]} input[name="ids"]').check()
    page.select_option("#dismiss-reason", "other")
    page.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("text=Say why in the note")
    assert api_alert(world, d2["id"])["status"] == "open"
    assert page.locator(f'#alert-{d2["id"]} input[name="ids"]').is_checked()  # the selection survived
    page.select_option("#dismiss-reason", "other")
    page.fill("#bulk-note", "sold through a promotion next week")
    page.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("text=Dismissed 1 alert.")
    shown = api_alert(world, d2["id"])
    assert (shown["status"], shown["dismissed_reason"], shown["dismissed_note"]) == (
        "dismissed",
        "other",
        "sold through a promotion next week",
    )

    # A new alert after the page loaded appears without a reload, marked new, selectable.
    page.goto("/console/acme/alerts/")
    page.locator(f'#alert-{a1["id"]} input[name="ids"]').check()
    overstocked(world, [("B", "W2")])
    (fresh,) = api_alerts(world, sku="B", warehouse="W2", rule="overstock")
    row = page.locator(f"#alert-{fresh['id']}")
    row.wait_for(timeout=20_000)
    assert "new" in row.get_attribute("class")
    assert "1 new alert" in page.locator("#inbox-live").inner_text()
    assert page.locator(f'#alert-{a1["id"]} input[name="ids"]').is_checked()
    console_site.screenshot(page, "inbox")
    # The row links to the alert's page.
    assert row.locator("a.alert-link").get_attribute("href") == f"/console/acme/alerts/{fresh['id']}/"


def test_an_analyst_at_phone_width_reads_the_inbox_without_actions(console_site, world, other_world):
    inbox_world(world)
    page = console_site.signed_in(world.analyst.user, viewport=PHONE)
    page.goto("/console/acme/alerts/?category=C1")
    shown = sorted(page.locator("#inbox-body tr").evaluate_all("rs => rs.map(r => r.dataset.id)"))
    assert shown == ids(api_alerts(world, category="C1"))
    assert page.locator('input[name="ids"]').count() == 0
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    assert page.get_by_role("button", name="Dismiss").count() == 0
    # Nothing of the page is wider than the phone but the table, which scrolls in its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.goto("/console/globex/alerts/").status == 404
    # A planner's bulk actions fit the phone too.
    planner = console_site.signed_in(world.planner.user, viewport=PHONE)
    planner.goto("/console/acme/alerts/")
    assert planner.get_by_role("button", name="Dismiss").is_visible()
    assert planner.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
