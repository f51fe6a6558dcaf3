"""Every console page under hostile input: each query parameter a page reads and each field a form
posts, given hand-picked nasties (NUL bytes, 10,000 characters, markup, numbers past bigint, NaN and
infinities, dates out of any calendar, repeated parameters, invalid UTF-8) and then what hypothesis
makes up. Whatever comes in, the answer is never a 5xx; a refusal is a 4xx page a person reads (HTML,
no traceback, no unescaped markup of ours), and a refused POST writes nothing: the tenant's alerts,
alert events, readings, outbox events, transfer requests, plans and moves are counted before and after.

The tenant (``scene``): the world's inventory, red overstock alerts at three positions
(tests/support/console_alerts.py), the sandbox's hand-made position (tests/support/sandbox_shop.py),
and a transfer plan computed as the worker computes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.alerts.models import Alert
from core.transfers.models import TransferPlan, TransferPlanMove
from tests.support.calls import ok, pushed, url
from tests.support.console_alerts import api_alerts, overstocked
from tests.support.ingest import ts
from tests.support.sandbox_shop import hand_made_position, live_counts
from tests.support.world import TenantWorld
from workers.tasks.transfers import transfers_plan

BIGINT = 2**63
NASTIES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "-1",
    "0",
    "1.5",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    str(BIGINT),
    str(-BIGINT - 1),
    "9" * 40,
    "1,2",
    "true",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "ünïcødé ✓ 🚀 \u202e",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59+14:00",
    "2026-13-45T25:61",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "00000000-0000-0000-0000-000000000000",
]
# Query strings the test client would never encode itself: bytes that are not UTF-8, stray escapes.
RAW_QUERIES = ["%ff%fe%00", "%", "%%%", "=&=&&", "a[]=1&a[]=2", "%c0%80", "%ed%a0%80"]
# Any text PostgreSQL and the browser could send (lone surrogates cannot be encoded, so never arrive).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
NUMBERISH = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    TEXT,
)
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

INBOX_PARAMS = [
    "grade",
    "status",
    "rule",
    "active",
    "snoozed",
    "warehouse",
    "region",
    "category",
    "sku",
    "opened_since",
    "sort",
    "page",
    "all",
]


@dataclass
class Scene:
    world: TenantWorld
    alert_id: str
    position_id: int
    plan_id: str
    move_ids: list[int]
    known: dict | None = None  # what ``written`` counted last, while nothing can have changed since

    def at(self, path: str = "") -> str:
        return f"/console/{self.world.tenant.slug}/{path}"


@pytest.fixture
def scene(world) -> Scene:
    pushed(world, "categories", [{"code": "K", "name": "Kit"}])
    pushed(
        world,
        "warehouses",
        [
            {"code": code, "name": code, "region": region, "kind": "store", "latitude": lat, "longitude": lon}
            for code, region, lat, lon in (("N1", "north", "48.8566", "2.3522"), ("S1", "south", "47.9030", "1.9093"))
        ],
    )
    skus = [{"code": code, "name": code, "category": "K", "unit_cost": "1", "list_price": "2"} for code in "AB"]
    pushed(world, "skus", skus)
    # B at S1 sells 10 a day and has 50 left: short, with B idle at N1 to move (a plan with moves).
    selling = [
        {"kind": "sale", "sku": "B", "warehouse": "S1", "quantity": 10, "occurred_at": ts(day, hour=0)}
        for day in range(28)
    ]
    received = {"kind": "receipt", "sku": "B", "warehouse": "S1", "quantity": 330, "occurred_at": ts(40, hour=0)}
    rows = [received, *selling]
    pushed(world, "movements", [{**row, "external_ref": f"short-{n}"} for n, row in enumerate(rows)])
    ok(world.admin.client.patch(url(world, "transfer-policy/"), {"cost_per_unit_km": "0.01"}, format="json"))
    overstocked(world, [("A", "N1"), ("B", "N1"), ("A", "S1")])
    hand_made_position(world)
    started = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    assert transfers_plan(started["id"]) == "succeeded"
    moves = list(TransferPlanMove.objects.filter(plan_id=started["id"]).values_list("pk", flat=True))
    assert moves, "the plan has moves to accept"
    alert = api_alerts(world)[0]
    return Scene(
        world=world,
        alert_id=alert["id"],
        position_id=Alert.objects.get(pk=alert["id"]).position_id,
        plan_id=started["id"],
        move_ids=moves,
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sane(response, what: str) -> None:
    """No 5xx; a refusal is a page for a person: HTML, a message, no traceback, our markup escaped."""
    status = response.status_code
    assert status < 500, f"{what}: {status}"
    if status >= 400:
        assert response["Content-Type"].startswith("text/html"), f"{what}: {response['Content-Type']}"
        body = response.content.decode()
        assert body.strip(), f"{what}: an empty {status}"
        assert "Traceback" not in body, what
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body, f"{what}: markup echoed unescaped"
        assert "<img src=x onerror" not in body, f"{what}: markup echoed unescaped"


def written(tenant) -> dict:
    """What a refused POST must leave as it was."""
    counted = live_counts(tenant)
    counted["plans"] = sorted(TransferPlan.objects.filter(tenant=tenant).values_list("id", "status"))
    counted["moves"] = sorted(TransferPlanMove.objects.filter(plan__tenant=tenant).values_list("id", "status"))
    counted["snoozes"] = sorted(Alert.objects.filter(tenant=tenant).values_list("id", "snoozed_until"))
    return counted


def get_pages(scene: Scene) -> dict[str, list[str]]:
    """Each GET page and the query parameters it reads (plus one it does not)."""
    return {
        scene.at(): ["metric"],
        scene.at("heatmap/"): ["metric", "rows", "view"],
        scene.at("alerts/"): INBOX_PARAMS,
        scene.at("alerts/rows/"): [*INBOX_PARAMS, "since", "after"],
        scene.at(f"alerts/{scene.alert_id}/"): ["page"],
        scene.at(f"positions/{scene.position_id}/"): ["page"],
        scene.at("transfer-plans/"): ["page"],
        scene.at(f"transfer-plans/{scene.plan_id}/"): ["sku", "page"],
        scene.at("sandbox/"): ["kind"],
        scene.at("transfers/draft/"): ["source", "destination", "sku", "quantity", "note"],
    }


# --- GET: every parameter of every page ----------------------------------------------------------


def test_every_query_parameter_of_every_page_takes_the_nasties_without_a_5xx(scene) -> None:
    client = signed_in(scene.world.planner.user)
    for page, params in get_pages(scene).items():
        for name in params:
            for nasty in NASTIES:
                sane(client.get(page, {name: nasty}), f"GET {page}?{name}={nasty[:40]!r}")
            sane(client.get(page, {name: NASTIES}), f"GET {page} with {name} repeated")
        every = dict.fromkeys(params, "\x00" + "y" * 10000)
        sane(client.get(page, every), f"GET {page}: every parameter NUL and 10,000 characters")
        for raw in RAW_QUERIES:
            sane(client.get(page, QUERY_STRING=raw), f"GET {page}?{raw}")
            sane(client.get(page, QUERY_STRING=f"{params[0]}={raw}"), f"GET {page}?{params[0]}={raw}")


def test_nul_bytes_and_long_values_are_refused_before_postgresql_with_a_message(scene) -> None:
    """psycopg refuses a NUL in a string; the pages that filter by a typed value refuse it first."""
    client = signed_in(scene.world.planner.user)
    for page, name in (
        (scene.at("alerts/"), "warehouse"),
        (scene.at("alerts/"), "sku"),
        (scene.at("alerts/rows/"), "category"),
    ):
        refused = client.get(page, {name: "N1\x00"})
        assert refused.status_code == 400, (page, name)
        assert "Null characters are not allowed" in refused.content.decode()
    # The plan's SKU filter and its rebalance button take a SKU code: a NUL is refused with a message.
    plan = scene.at(f"transfer-plans/{scene.plan_id}/")
    refused = client.get(plan, {"sku": "B\x00"})
    assert refused.status_code == 400
    assert "SKU filter refused: a SKU code has no NUL characters." in refused.content.decode()
    assert client.get(plan, {"sku": "B" * 10_000}).status_code == 200  # cut to a code's length: no such SKU
    for sku in ("B\x00", "B" * 10_000):
        before = written(scene.world.tenant)
        refused = client.post(f"{plan}accept/", {"rebalance": sku})
        assert refused.status_code == 400
        assert "Nothing accepted: " in refused.content.decode()
        assert "is not a SKU code." in refused.content.decode()
        assert written(scene.world.tenant) == before
    accepted = client.post(f"{plan}accept/", {"rebalance": "B"})  # the same form with a real code goes through
    assert accepted.status_code == 302
    assert not TransferPlanMove.objects.filter(plan_id=scene.plan_id, sku__code="B", status="proposed").exists()
    long = client.get(scene.at("alerts/"), {"sku": "A" * 10_000})
    sane(long, "inbox sku of 10,000 characters")


def test_unknown_ids_in_the_path_answer_404_pages_and_other_methods_405_pages(scene, other_world) -> None:
    client = signed_in(scene.world.planner.user)
    for method, path in (
        ("get", f"alerts/{uuid.uuid4()}/"),
        ("post", f"alerts/{uuid.uuid4()}/"),
        ("get", "alerts/00000000-0000-0000-0000-000000000000/"),
        ("get", f"positions/{BIGINT}/"),
        ("get", f"positions/{10**40}/"),
        ("get", "positions/0/"),
        ("get", f"transfer-plans/{uuid.uuid4()}/"),
        ("post", f"transfer-plans/{uuid.uuid4()}/accept/"),
        ("get", "alerts/not-a-uuid/"),
        ("get", "positions/-1/"),
        ("get", f"positions/{quote(chr(0))}/"),
        ("post", f"positions/{quote(chr(0))}/"),
        ("get", "x" * 3000 + "/"),
    ):
        answer = getattr(client, method)(scene.at(path))
        assert answer.status_code == 404, (method, path[:60], answer.status_code)
        sane(answer, f"{method} {path[:60]}")
        assert "There is no such page" in answer.content.decode()
    for slug in ("nope", "a" * 5000, quote("ü")):
        sane(client.get(f"/console/{slug}/"), f"tenant {slug[:20]}")
    assert client.get(f"/console/{other_world.tenant.slug}/alerts/{scene.alert_id}/").status_code == 404
    for page in get_pages(scene):
        assert client.head(page).status_code < 500, page  # a HEAD answer has no body to read
        sane(client.options(page), f"OPTIONS {page}")
    # A method a page does not take: a page saying which it takes, not Django's empty 405.
    for method, path in (
        ("post", ""),
        ("post", "heatmap/"),
        ("post", "alerts/"),
        ("post", "alerts/rows/"),
        ("get", "alerts/bulk/"),
        ("post", f"positions/{scene.position_id}/"),
        ("get", f"transfer-plans/{scene.plan_id}/accept/"),
        ("put", "sandbox/"),
        ("delete", f"alerts/{scene.alert_id}/"),
    ):
        before = written(scene.world.tenant)
        answer = getattr(client, method)(scene.at(path), {"action": "acknowledge"})
        assert answer.status_code == 405, (method, path, answer.status_code)
        sane(answer, f"{method} {path}")
        assert f"does not take {method.upper()}" in answer.content.decode()
        assert method.upper() not in answer["Allow"]
        assert written(scene.world.tenant) == before


def test_sign_in_takes_the_nasties_without_a_5xx(db) -> None:
    client = Client()
    for nasty in [*NASTIES[:5], *NASTIES[17:21]]:
        sane(client.post("/console/login/", {"username": nasty, "password": nasty}), f"login {nasty[:20]!r}")
        sane(client.get("/console/login/", {"next": nasty}), f"login next={nasty[:20]!r}")
        answer = client.get(f"/console/{quote(nasty[:50], safe='')}/alerts/", {"sku": nasty})
        assert answer.status_code in (302, 404), nasty[:20]
    # A user name longer than any: the form says so (it used to reach django-axes' 255-character
    # record of the failed try, and PostgreSQL's refusal answered 500), and the admin's sign-in,
    # which has no such check, is counted under the name cut to that length.
    refused = client.post("/console/login/", {"username": "u" * 10_000, "password": "pw"})
    assert refused.status_code == 200
    assert "do not match a console user" in refused.content.decode()
    assert not AccessAttempt.objects.filter(username__startswith="uuu").exists()  # refused before checking
    for name in ("u" * 10_000, "u" * 300 + "\x00"):
        answer = client.post("/admin/login/", {"username": name, "password": "pw"})
        assert answer.status_code == 200, answer.status_code
    assert AccessAttempt.objects.filter(username="u" * 255).exists()


def test_a_locked_out_console_sign_in_is_a_page_saying_when_to_try_again(world, settings) -> None:
    """django-axes' lockout answered the API's JSON on the console's sign-in; a person reads a page."""
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="198.51.100.77")
    answers = [client.post("/console/login/", {"username": "acme-planner", "password": "no"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 429, 429]
    locked = answers[-1]
    sane(locked, "locked-out sign-in")
    assert "Too many failed logins from your address or for this user; try again in" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    assert client.post("/console/login/", {"username": "acme-planner", "password": "pw"}).status_code == 429


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from([*INBOX_PARAMS, "since", "after", "metric", "rows", "view", "source", "destination"]), TEXT
    )
)
def test_made_up_query_strings_never_answer_5xx(scene, params) -> None:
    client = signed_in(scene.world.analyst.user)
    for page in get_pages(scene):
        sane(client.get(page, params), f"GET {page} {params!r:.200}")


# --- POST: every field of every form -------------------------------------------------------------


def post_refused_or_done(client: Client, scene: Scene, path: str, data: dict, what: str, **extra) -> int:
    """POST ``data``; a refusal (4xx) must have written nothing. Answers the status."""
    before = scene.known if scene.known is not None else written(scene.world.tenant)
    answer = client.post(path, data, **extra)
    sane(answer, what)
    scene.known = None  # a request that went through may have written: count again next time
    if answer.status_code >= 400:
        after = written(scene.world.tenant)
        assert after == before, f"{what}: refused ({answer.status_code}) but wrote"
        scene.known = after  # unchanged: the next request starts from it
    return answer.status_code


def forms(scene: Scene) -> dict[str, tuple[dict, list[str]]]:
    """Each form: a submission that passes, and the fields to spoil one at a time."""
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {
        scene.at("alerts/bulk/"): (
            {"ids": [scene.alert_id], "action": "snooze", "until": tomorrow, "note": "n", "next": ""},
            ["ids", "action", "until", "note", "reason", "next"],
        ),
        scene.at(f"alerts/{scene.alert_id}/"): (
            {"action": "snooze", "until": tomorrow, "note": "n", "reason": "other"},
            ["action", "until", "note", "reason", "recommendation"],
        ),
        scene.at(f"transfer-plans/{scene.plan_id}/accept/"): (
            {"action": "selected", "move": [str(move) for move in scene.move_ids[:1]] or ["0"]},
            ["action", "move", "rebalance"],
        ),
        scene.at("transfers/draft/"): (
            {"source": "N1", "destination": "S1", "sku": "A", "quantity": "1", "note": ""},
            ["source", "destination", "sku", "quantity", "note"],
        ),
        scene.at("sandbox/"): (
            {"skus": "HAND", "warehouses": "W", "kind": "demand_shock", "factor": "2", "days": "14"},
            [
                "skus",
                "warehouses",
                "kind",
                "discount_percent",
                "days",
                "start_offset",
                "factor",
                "delay_days",
                "quantity",
                "transfer_sku",
                "from_warehouse",
                "to_warehouse",
            ],
        ),
    }


def test_every_posted_field_takes_the_nasties_and_a_refusal_writes_nothing(scene) -> None:
    client = signed_in(scene.world.planner.user)
    for path, (base, fields) in forms(scene).items():
        for name in fields:
            for nasty in NASTIES:
                data = {**base, name: nasty}
                post_refused_or_done(client, scene, path, data, f"POST {path} {name}={nasty[:40]!r}")
            post_refused_or_done(client, scene, path, {**base, name: NASTIES}, f"POST {path} {name} repeated")
        post_refused_or_done(client, scene, path, {}, f"POST {path} empty")
        sane(client.post(path, {}, HTTP_HX_REQUEST="true"), f"POST {path} empty, htmx")


def test_notes_with_nul_or_too_long_are_refused_by_every_action_and_nothing_is_written(scene) -> None:
    """The actions' free text goes to the alert's timeline: a NUL there would reach PostgreSQL."""
    client = signed_in(scene.world.planner.user)
    ids = [alert["id"] for alert in api_alerts(scene.world)]
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    actions = (
        {"action": "acknowledge"},
        {"action": "snooze", "until": tomorrow},
        {"action": "dismiss", "reason": "other"},
        {"action": "resolve"},
    )
    for note in ("a\x00b", "n" * 10_000):
        for action in actions:
            if action["action"] != "resolve":
                bulk = {**action, "ids": ids, "note": note}
                status = post_refused_or_done(client, scene, scene.at("alerts/bulk/"), bulk, f"bulk {action}")
                assert status == 400, (action, note[:5], status)
            page = scene.at(f"alerts/{ids[0]}/")
            status = post_refused_or_done(client, scene, page, {**action, "note": note}, f"alert {action}")
            assert status == 400, (action, note[:5], status)
    for action in actions:  # and the same with a note that is fine goes through
        assert Alert.objects.get(pk=ids[0]).status in ("open", "acknowledged")
        done = client.post(scene.at(f"alerts/{ids[0]}/"), {**action, "note": "checked ✓ <b>"})
        assert done.status_code == 302, (action, done.status_code)
        if action["action"] != "acknowledge":
            break


def test_forms_too_big_or_with_too_many_fields_are_refused_with_a_page(scene, settings) -> None:
    """Django refuses these before the page runs; the console answers a page, not the API's JSON."""
    client = signed_in(scene.world.planner.user)
    ids = [str(uuid.uuid4()) for _ in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]
    before = written(scene.world.tenant)
    for data, status, says in (
        ({"action": "acknowledge", "ids": ids}, 400, "The number of GET/POST parameters exceeded"),
        ({"action": "acknowledge", "ids": [scene.alert_id], "note": "n" * 3_000_000}, 413, "The form is over"),
    ):
        answer = client.post(scene.at("alerts/bulk/"), data)
        assert answer.status_code == status
        sane(answer, f"bulk of {len(str(data))} characters")
        assert says in answer.content.decode()
    assert written(scene.world.tenant) == before


def test_the_sandbox_refuses_extreme_scenarios_with_400_and_its_message(scene) -> None:
    client = signed_in(scene.world.analyst.user)
    base = {"skus": "HAND", "warehouses": "W", "kind": "demand_shock", "factor": "2", "days": "14"}
    for change in (
        {"factor": "1e309"},
        {"factor": "nan"},
        {"factor": "-inf"},
        {"days": str(BIGINT)},
        {"days": "-5"},
        {"start_offset": str(-BIGINT)},
        {"start_offset": "999999999"},
        {"kind": "promotion", "discount_percent": "100"},
        {"kind": "promotion", "discount_percent": "nan", "days": "3"},
        {"kind": "supplier_delay", "delay_days": str(10**30)},
        {"kind": "transfer", "quantity": "1e309", "from_warehouse": "V", "to_warehouse": "W"},
        {"kind": "transfer", "quantity": str(BIGINT), "from_warehouse": "V", "to_warehouse": "W"},
        {"skus": "NOPE\x00"},
        {"skus": " ".join(f"S{n}" for n in range(20_000))},
        {"warehouses": ",".join(f"W{n}" for n in range(20_000))},
        {"warehouses": "<script>alert(1)</script>"},
    ):
        for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
            status = post_refused_or_done(client, scene, scene.at("sandbox/"), {**base, **change}, f"{change}", **htmx)
            assert status == 400, (change, htmx, status)


def test_analysts_posting_any_form_get_403_pages_and_nothing_is_written(scene) -> None:
    client = signed_in(scene.world.analyst.user)
    for path, (base, fields) in forms(scene).items():
        if path.endswith("sandbox/"):
            continue  # a read with a form: analysts run it
        for data in (base, dict.fromkeys(fields, "\x00"), {}):
            before = written(scene.world.tenant)
            answer = client.post(path, data)
            assert answer.status_code == 403, path
            sane(answer, f"analyst POST {path}")
            assert written(scene.world.tenant) == before
    before = written(scene.world.tenant)
    assert client.post(scene.at("transfer-plans/"), {"x": "\x00"}).status_code == 403
    assert written(scene.world.tenant) == before


@FUZZ
@given(
    ids=st.lists(TEXT, max_size=4),
    action=st.one_of(st.sampled_from(["acknowledge", "snooze", "dismiss"]), TEXT),
    until=st.one_of(st.datetimes().map(lambda d: d.isoformat()), TEXT),
    note=TEXT,
    reason=st.one_of(st.sampled_from(["other", "false_alarm"]), TEXT),
)
def test_made_up_bulk_and_alert_actions_never_answer_5xx(scene, ids, action, until, note, reason) -> None:
    client = signed_in(scene.world.planner.user)
    data = {"action": action, "until": until, "note": note, "reason": reason}
    post_refused_or_done(client, scene, scene.at("alerts/bulk/"), {**data, "ids": ids}, f"bulk {data!r:.200}")
    post_refused_or_done(client, scene, scene.at(f"alerts/{scene.alert_id}/"), data, f"alert {data!r:.200}")


@FUZZ
@given(
    move=st.lists(NUMBERISH, max_size=4),
    action=st.one_of(st.sampled_from(["all", "selected"]), TEXT),
    rebalance=TEXT,
)
def test_made_up_plan_accepts_never_answer_5xx(scene, move, action, rebalance) -> None:
    client = signed_in(scene.world.planner.user)
    data = {"action": action, "move": move, "rebalance": rebalance}
    post_refused_or_done(client, scene, scene.at(f"transfer-plans/{scene.plan_id}/accept/"), data, f"{data!r:.200}")


@FUZZ
@given(
    kind=st.sampled_from(["promotion", "demand_shock", "supplier_delay", "transfer"]),
    numbers=st.fixed_dictionaries(
        dict.fromkeys(("discount_percent", "days", "start_offset", "factor", "delay_days", "quantity"), NUMBERISH)
    ),
    codes=st.fixed_dictionaries(
        dict.fromkeys(("skus", "warehouses", "transfer_sku", "from_warehouse", "to_warehouse"), TEXT)
    ),
)
def test_made_up_scenarios_and_drafts_never_answer_5xx(scene, kind, numbers, codes) -> None:
    client = signed_in(scene.world.planner.user)
    post_refused_or_done(client, scene, scene.at("sandbox/"), {"kind": kind, **numbers, **codes}, f"{kind} {numbers}")
    draft = {
        "source": codes["from_warehouse"],
        "destination": codes["to_warehouse"],
        "sku": codes["transfer_sku"],
        "quantity": numbers["quantity"],
        "note": codes["skus"],
    }
    post_refused_or_done(client, scene, scene.at("transfers/draft/"), draft, f"draft {draft!r:.200}")
