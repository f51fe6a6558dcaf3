"""The transfer plan pages: start a plan, watch it finish, read its flows on the map and in the table,
its cost against the nearest-source baseline, and accept some moves or a whole SKU's. In a real
browser, checked against the API's ``transfer-plans/`` answers; refusals over HTTP.

The network (the patterns of tests/transfers/test_plans.py, whose docstring works the indicators
out; here the plan's own figures are read from the API, not written down):

| warehouse | where            | S                                          | T                             |
| PAR       | 48.8566, 2.3522  | short: 50 on hand, selling 10 a day        | idle: 1720, selling 10 a day  |
| ORL       | 47.9030, 1.9093  | idle: 100, selling 1 a day                 |                               |
| LYO       | 45.7640, 4.8357  | idle: 420 after one sale of 280            |                               |
| MRS       | 43.2965, 5.3698  | idle: 100, selling 1 a day                 | short: 50, selling 10 a day   |

and U as S, from ORL to PAR only (so two moves share the pair ORL -> PAR).

At 0.01 a unit and km (the admin's policy) with the default shortage penalty of 5 a unit, S reaches
PAR from ORL and LYO but not from MRS (too far to be worth it): the plan leaves some of PAR's need
short where the nearest-source baseline ships from MRS anyway, so the two costs differ. A planner's
lane PAR -> MRS at 0.001 makes T worth moving.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from console import plans as plans_page
from core.transfers.models import TransferPlan, TransferPlanMove, TransferRequest
from tests.support.browser import PHONE
from tests.support.calls import evaluate, ok, pushed, url
from tests.support.celery_worker import worker_idle_wait
from tests.support.ingest import ts
from tests.support.world import TenantWorld
from workers.tasks.transfers import transfers_plan

PLACES = {
    "PAR": ("48.8566", "2.3522"),
    "ORL": ("47.9030", "1.9093"),
    "LYO": ("45.7640", "4.8357"),
    "MRS": ("43.2965", "5.3698"),
}
LINE_COLOURS = ("#c0392b", "#2e7d32")  # proposed, accepted: console/plans.py


def stock(world: TenantWorld, sku: str, warehouse: str, received: int, days_ago: int, sales: list) -> None:
    rows = [
        {
            "kind": "receipt",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": received,
            "occurred_at": ts(days_ago, hour=0),
            "external_ref": f"{sku}-{warehouse}-in",
        }
    ]
    rows += [
        {
            "kind": "sale",
            "sku": sku,
            "warehouse": warehouse,
            "quantity": units,
            "occurred_at": ts(day, hour=0),
            "external_ref": f"{sku}-{warehouse}-sale-{day}",
        }
        for day, units in sales
    ]
    pushed(world, "movements", rows)


def network(world: TenantWorld, *, evaluated: bool = True) -> TenantWorld:
    pushed(world, "categories", [{"code": "C", "name": "C"}])
    pushed(
        world,
        "skus",
        [
            {"code": "S", "name": "Boots", "category": "C", "unit_cost": "1", "list_price": "2"},
            {"code": "T", "name": "Tents", "category": "C", "unit_cost": "1", "list_price": "2"},
            {"code": "U", "name": "Socks", "category": "C", "unit_cost": "1", "list_price": "2"},
        ],
    )
    pushed(
        world,
        "warehouses",
        [
            {"code": code, "name": code.title(), "region": "fr", "kind": "store", "latitude": lat, "longitude": lon}
            for code, (lat, lon) in PLACES.items()
        ],
    )
    every_day = range(28)
    stock(world, "S", "LYO", 700, 100, [(3, 280)])
    stock(world, "S", "ORL", 128, 100, [(day, 1) for day in every_day])
    stock(world, "S", "MRS", 128, 100, [(day, 1) for day in every_day])
    stock(world, "S", "PAR", 330, 40, [(day, 10) for day in every_day])
    stock(world, "T", "PAR", 2000, 100, [(day, 10) for day in every_day])
    stock(world, "T", "MRS", 330, 40, [(day, 10) for day in every_day])
    stock(world, "U", "ORL", 128, 100, [(day, 1) for day in every_day])
    stock(world, "U", "PAR", 330, 40, [(day, 10) for day in every_day])
    ok(world.admin.client.patch(url(world, "transfer-policy/"), {"cost_per_unit_km": "0.01"}, format="json"))
    lane = {"source": "PAR", "destination": "MRS", "cost_per_unit_km": "0.001"}
    ok(world.planner.client.post(url(world, "transfer-lanes/"), lane, format="json"))
    if evaluated:  # else the worker evaluates what ingestion marked dirty
        evaluate(world)
    return world


def api_plan(world: TenantWorld, plan_id: str) -> dict:
    return ok(world.analyst.client.get(url(world, f"transfer-plans/{plan_id}/")))


def api_moves(world: TenantWorld, plan_id: str) -> list[dict]:
    return ok(world.analyst.client.get(url(world, f"transfer-plans/{plan_id}/moves/")))["results"]


def api_transfers(world: TenantWorld) -> list[dict]:
    return ok(world.analyst.client.get(url(world, "transfers/")))["results"]


def planned(world: TenantWorld) -> str:
    """A plan started over the API and run as the worker runs it: its id."""
    started = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    assert transfers_plan(started["id"]) == "succeeded"
    return started["id"]


def table_moves(page) -> list[tuple]:
    rows = page.locator("table.moves tbody tr")
    return [
        (
            int(row.get_attribute("data-move")),
            row.locator(".sku").inner_text(),
            row.locator(".source").inner_text(),
            row.locator(".destination").inner_text(),
            int(row.locator(".units").inner_text()),
            row.locator(".cost").inner_text(),
            row.locator(".status").inner_text(),
        )
        for row in rows.all()
    ]


def shape(moves: list[dict]) -> list[tuple]:
    return [(m["id"], m["sku"], m["source"], m["destination"], m["quantity"], m["cost"], m["status"]) for m in moves]


def drawn_lines(page) -> dict[str, int]:
    """The map's move lines as the SVG renderer drew them, by stroke colour (proposed, accepted)."""
    page.wait_for_function("document.querySelectorAll('#plan-map svg path').length > 0")
    return {
        colour: page.locator(f'#plan-map svg path[stroke="{colour}"]:not([fill="{colour}"])').count()
        for colour in LINE_COLOURS
    }


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"] .value').inner_text()


def money(value: float) -> str:
    return f"{value:.2f}"


def test_a_planner_starts_a_plan_reads_its_flows_and_accepts_some_moves_then_a_whole_sku(console_site, world):
    network(world)
    page = console_site.signed_in(world.planner.user)
    page.goto("/console/acme/transfer-plans/")
    assert "No plan yet" in page.locator("#plan-list").inner_text()
    page.get_by_role("button", name="Start a plan").click()
    page.wait_for_url(re.compile(r"/console/acme/transfer-plans/[0-9a-f-]{36}/$"))
    plan_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert "Plan queued" in page.locator(".messages").inner_text()
    assert page.locator("#plan-body").get_attribute("data-status") == "queued"
    assert api_plan(world, plan_id)["status"] == "queued"

    # The worker computes it (here its task, run as the worker runs it); the page polls until done.
    assert transfers_plan(plan_id) == "succeeded"
    page.wait_for_selector('#plan-body[data-status="succeeded"]')
    done = api_plan(world, plan_id)
    moves = api_moves(world, plan_id)
    assert len(moves) == done["summary"]["moves"] == 4
    assert table_moves(page) == shape(moves)
    assert {(m["sku"], m["source"], m["destination"]) for m in moves} == {
        ("S", "ORL", "PAR"),
        ("S", "LYO", "PAR"),
        ("T", "PAR", "MRS"),
        ("U", "ORL", "PAR"),
    }
    # One line per move on the map, none accepted yet.
    assert drawn_lines(page) == {LINE_COLOURS[0]: 4, LINE_COLOURS[1]: 0}
    # The cost against the baseline, as the API's summary has them; here the plan is the cheaper.
    summary = done["summary"]
    assert figure(page, "objective") == money(summary["objective"])
    assert figure(page, "baseline") == money(summary["greedy_objective"])
    assert figure(page, "saving") == money(summary["greedy_objective"] - summary["objective"])
    assert summary["greedy_objective"] > summary["objective"]
    assert figure(page, "units_short") == str(summary["units_short"])
    assert summary["units_short"] > 0
    assert figure(page, "units") == f"{summary['units']} / {summary['demand_units']}"

    # Accept one move (ORL's S) by its box.
    orl = next(m for m in moves if (m["sku"], m["source"]) == ("S", "ORL"))
    page.get_by_label(f"Choose move {orl['id']}").check()
    page.get_by_role("button", name="Accept selected").click()
    page.wait_for_selector(".messages .success")
    assert "1 approved transfer request" in page.locator(".messages").inner_text()
    after = {m["id"]: m for m in api_moves(world, plan_id)}
    assert {i: m["status"] for i, m in after.items()} == {
        m["id"]: ("accepted" if m["id"] == orl["id"] else "proposed") for m in moves
    }
    (transfer,) = api_transfers(world)
    assert (transfer["id"], transfer["status"], transfer["approval"]) == (
        after[orl["id"]]["transfer_id"],
        "approved",
        "plan",
    )
    assert (transfer["sku"], transfer["source"], transfer["destination"], transfer["quantity"]) == (
        "S",
        "ORL",
        "PAR",
        orl["quantity"],
    )
    assert table_moves(page) == shape(list(after.values()))
    assert drawn_lines(page) == {LINE_COLOURS[0]: 3, LINE_COLOURS[1]: 1}
    console_site.screenshot(page, "plan")

    # "Rebalance T": every proposed move of T, and only those.
    page.get_by_role("button", name="Rebalance T").click()
    page.wait_for_selector(".messages .success")
    assert "every move of SKU T" in page.locator(".messages").inner_text()
    statuses = {(m["sku"], m["source"]): m["status"] for m in api_moves(world, plan_id)}
    assert statuses == {
        ("S", "ORL"): "accepted",
        ("S", "LYO"): "proposed",
        ("T", "PAR"): "accepted",
        ("U", "ORL"): "proposed",
    }
    assert sorted((t["sku"], t["source"], t["status"]) for t in api_transfers(world)) == [
        ("S", "ORL", "approved"),
        ("T", "PAR", "approved"),
    ]
    # S still has a proposed move, T none: only S keeps its rebalance button.
    assert page.get_by_role("button", name="Rebalance S").count() == 1
    assert page.get_by_role("button", name="Rebalance T").count() == 0

    # The list shows the plan with the same figures.
    page.get_by_role("link", name="All plans").click()
    row = page.locator(f'tr[data-plan="{plan_id}"]')
    assert row.locator(".status").inner_text() == "succeeded"
    cells = row.locator("td.num").all_inner_texts()
    assert cells == [
        str(summary["moves"]),
        str(summary["units"]),
        str(summary["units_short"]),
        money(summary["objective"]),
        money(summary["greedy_objective"]),
        money(summary["greedy_objective"] - summary["objective"]),
    ]
    # A second plan is started from the list; while it is queued the list says so and offers no start.
    page.get_by_role("button", name="Start a plan").click()
    page.wait_for_url(re.compile(r"/transfer-plans/[0-9a-f-]{36}/$"))
    second = page.url.rstrip("/").rsplit("/", 1)[1]
    page.get_by_role("link", name="All plans").click()
    assert "queued" in page.locator(".plan-active").inner_text()
    assert page.get_by_role("button", name="Start a plan").count() == 0
    transfers_plan(second)
    page.wait_for_selector('#plan-list[data-active="false"]')
    assert page.locator(f'tr[data-plan="{second}"] .status').inner_text() == "succeeded"
    assert page.get_by_role("button", name="Start a plan").count() == 1


def nothing_changed(world: TenantWorld, plan_id: str, before: list[dict]) -> None:
    assert api_moves(world, plan_id) == before
    assert api_transfers(world) == []


def test_refused_accepts_say_why_with_400_and_write_nothing(world, other_world, settings):
    network(world)
    network(other_world)
    first, theirs = planned(world), planned(other_world)
    mine = api_moves(world, first)
    client = Client()
    client.force_login(world.planner.user)
    accept = f"/console/acme/transfer-plans/{first}/accept/"

    # Moves of another plan of the same tenant (plan ids are UUIDs, move ids numbers that exist).
    second = planned(world)
    others = [m["id"] for m in api_moves(world, second)]
    assert others
    assert not set(others) & {m["id"] for m in mine}
    for ids in ([others[0]], [mine[0]["id"], others[0]], [m["id"] for m in api_moves(other_world, theirs)]):
        refused = client.post(accept, {"action": "selected", "move": ids})
        assert refused.status_code == 400
        text = refused.content.decode()
        assert "Nothing accepted: No move" in text
        assert "in this plan" in text
        nothing_changed(world, first, mine)

    # Not a number, nothing chosen, an unknown SKU, an unknown action: each named.
    for body, why in (
        ({"action": "selected", "move": ["12x"]}, "&#x27;12x&#x27; is not a move id."),
        ({"action": "selected"}, "choose at least one move"),
        ({"rebalance": "NOPE"}, "no proposed move of SKU &#x27;NOPE&#x27;"),
        ({}, "say what to accept"),
    ):
        refused = client.post(accept, body)
        assert refused.status_code == 400
        assert why in refused.content.decode()
        nothing_changed(world, first, mine)

    # Another tenant's plan: 404 to read and to accept, whatever the body.
    assert client.get(f"/console/acme/transfer-plans/{theirs}/").status_code == 404
    assert client.post(f"/console/acme/transfer-plans/{theirs}/accept/", {"action": "all"}).status_code == 404
    assert client.get("/console/acme/transfer-plans/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"/console/globex/transfer-plans/{first}/").status_code == 404
    assert [m["status"] for m in api_moves(other_world, theirs)] == ["proposed"] * len(api_moves(other_world, theirs))

    # A source that can no longer spare: ORL sells 60 of its 100 (it gave 72); nothing accepted.
    orl = next(m for m in mine if (m["sku"], m["source"]) == ("S", "ORL"))
    lyo = next(m for m in mine if m["source"] == "LYO")
    pushed(
        world,
        "movements",
        [
            {
                "kind": "sale",
                "sku": "S",
                "warehouse": "ORL",
                "quantity": 60,
                "occurred_at": ts(0),
                "external_ref": "late",
            }
        ],
    )
    refused = client.post(accept, {"action": "selected", "move": [lyo["id"], orl["id"]]})
    assert refused.status_code == 400
    assert f"Move {orl['id']} ({orl['quantity']} x S from ORL)" in refused.content.decode()
    assert "ORL can spare" in refused.content.decode()
    nothing_changed(world, first, mine)

    # LYO alone goes through; twice is refused.
    assert client.post(accept, {"action": "selected", "move": [lyo["id"]]}).status_code == 302
    assert [t["source"] for t in api_transfers(world)] == ["LYO"]
    again = client.post(accept, {"action": "selected", "move": [lyo["id"]]})
    assert again.status_code == 400
    assert "accepted already" in again.content.decode()
    assert [t["source"] for t in api_transfers(world)] == ["LYO"]

    # A second start while one is queued is refused with the service's message; the queued plan has
    # nothing to accept yet.
    queued = ok(world.planner.client.post(url(world, "transfer-plans/")), 202)
    refused = client.post("/console/acme/transfer-plans/")
    assert refused.status_code == 400
    assert f"already queued ({queued['id']})" in refused.content.decode()
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 3
    waiting = client.post(f"/console/acme/transfer-plans/{queued['id']}/accept/", {"action": "all"})
    assert waiting.status_code == 400
    assert "This plan is queued; only a finished plan" in waiting.content.decode()
    # Its page polls itself (not the accept URL it was refused on).
    assert f'hx-get="/console/acme/transfer-plans/{queued["id"]}/"' in waiting.content.decode()
    assert [t["source"] for t in api_transfers(world)] == ["LYO"]

    # Its worker never came: past the stale limit a start from the console fails it and queues anew.
    settings.TRANSFER_PLAN_STALE_SECONDS = 60
    TransferPlan.objects.filter(pk=queued["id"]).update(created_at=timezone.now() - timedelta(seconds=61))
    started = client.post("/console/acme/transfer-plans/")
    assert started.status_code == 302
    (fresh,) = [
        p for p in ok(world.analyst.client.get(url(world, "transfer-plans/")))["results"] if p["status"] == "queued"
    ]
    assert started["Location"] == f"/console/acme/transfer-plans/{fresh['id']}/"
    failed = client.get(f"/console/acme/transfer-plans/{queued['id']}/").content.decode()
    assert "This plan failed: No worker finished it within 60 s" in failed


def test_analysts_read_without_buttons_and_are_refused_posts_and_forms_need_csrf(world):
    network(world)
    plan_id = planned(world)
    before = api_moves(world, plan_id)
    analyst = Client()
    analyst.force_login(world.analyst.user)
    for path in ("/console/acme/transfer-plans/", f"/console/acme/transfer-plans/{plan_id}/"):
        page = analyst.get(path)
        assert page.status_code == 200
        text = page.content.decode()
        main = text.split("<main", 1)[1]
        assert 'method="post"' not in main  # the page's only form left is the GET filter by SKU
        for action in ("Start a plan", "Accept", "Rebalance"):
            assert action not in main
        assert 'type="checkbox"' not in text
    assert analyst.post(f"/console/acme/transfer-plans/{plan_id}/accept/", {"action": "all"}).status_code == 403
    assert analyst.post("/console/acme/transfer-plans/").status_code == 403
    nothing_changed(world, plan_id, before)
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 1

    # Without the CSRF token a planner's posts are refused too.
    planner = Client(enforce_csrf_checks=True)
    planner.force_login(world.planner.user)
    assert planner.post(f"/console/acme/transfer-plans/{plan_id}/accept/", {"action": "all"}).status_code == 403
    assert planner.post("/console/acme/transfer-plans/").status_code == 403
    nothing_changed(world, plan_id, before)
    assert TransferPlan.objects.filter(tenant=world.tenant).count() == 1
    assert TransferPlanMove.objects.filter(plan_id=plan_id, status="accepted").count() == 0
    assert TransferRequest.objects.filter(tenant=world.tenant).count() == 0
    # With it (the form's own token, as the page renders it) the same post goes through.
    form = planner.get(f"/console/acme/transfer-plans/{plan_id}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    accepted = planner.post(
        f"/console/acme/transfer-plans/{plan_id}/accept/", {"action": "all", "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert {m["status"] for m in api_moves(world, plan_id)} == {"accepted"}
    transfers = api_transfers(world)
    again = planner.post(
        f"/console/acme/transfer-plans/{plan_id}/accept/", {"action": "all", "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 400
    assert "every move of this plan is accepted already" in again.content.decode()
    assert api_transfers(world) == transfers


def test_a_plan_with_nothing_to_move_says_so(world):
    # The bare world has no overstock and no stock-out alert: an empty plan.
    plan_id = planned(world)
    assert api_moves(world, plan_id) == []
    client = Client()
    client.force_login(world.planner.user)
    text = client.get(f"/console/acme/transfer-plans/{plan_id}/").content.decode()
    assert "Nothing to move" in text
    assert "Accept all" not in text


def test_an_analyst_on_a_phone_reads_the_plan_and_its_map(console_site, world):
    network(world)
    plan_id = planned(world)
    moves = api_moves(world, plan_id)
    page = console_site.signed_in(world.analyst.user, viewport=PHONE)
    page.goto("/console/acme/transfer-plans/")
    page.locator(f'tr[data-plan="{plan_id}"] a').click()
    page.wait_for_url(re.compile(f"/transfer-plans/{plan_id}/$"))
    assert table_moves(page) == shape(moves)
    assert drawn_lines(page) == {LINE_COLOURS[0]: len(moves), LINE_COLOURS[1]: 0}
    assert page.locator("#moves tr").count() == len(moves) + 1 + 4  # head and rows, by-SKU head and 3 SKUs
    assert page.locator("#moves button").count() == 0
    assert page.locator("#moves input[type=checkbox]").count() == 0
    # The page fits the phone: only the tables scroll sideways, inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#plan-map svg").bounding_box()["width"] <= PHONE["width"]


def chart_option(html: str) -> dict:
    found = re.search(r'<script id="chart-plan-map" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_a_large_plan_pages_its_table_draws_flows_per_warehouse_pair_and_filters_by_sku(world, monkeypatch):
    # The page's limits lowered to this plan's size: 2 moves a page, a line a move up to 2 moves.
    monkeypatch.setattr(plans_page, "PAGE_SIZE", 2)
    monkeypatch.setattr(plans_page, "MAP_MOVE_LIMIT", 2)
    network(world)
    plan_id = planned(world)
    moves = api_moves(world, plan_id)
    client = Client()
    client.force_login(world.planner.user)
    path = f"/console/acme/transfer-plans/{plan_id}/"

    first, second = (client.get(path, {"page": n}).content.decode() for n in (1, 2))
    assert "moves 1-2 of 4" in first
    assert "moves 3-4 of 4" in second
    assert "page 1 of 2" in first
    for html, part in ((first, moves[:2]), (second, moves[2:])):
        assert re.findall(r'<tr data-move="(\d+)">', html) == [str(m["id"]) for m in part]
    assert client.get(path, {"page": "x"}).status_code == 200

    # 4 moves over the limit: a line per pair of warehouses, ORL -> PAR carrying both of its moves.
    lines = chart_option(first)["series"][1]["data"]
    pairs = {}
    for m in moves:
        pair = pairs.setdefault(f"{m['source']} → {m['destination']}", [0, 0])
        pair[0], pair[1] = pair[0] + 1, pair[1] + m["quantity"]
    assert len(lines) == len(pairs) == 3
    assert {line["name"].split(":")[0]: line["value"] for line in lines} == {k: v[1] for k, v in pairs.items()}
    orl_par = next(line for line in lines if line["name"].startswith("ORL → PAR"))
    assert "2 moves" in orl_par["name"]
    assert "4 moves drawn as 3 flows" in first

    # One SKU: its moves only, a line each, and its rebalance button beside the table.
    only_s = client.get(path, {"sku": "S"}).content.decode()
    s_moves = [m for m in moves if m["sku"] == "S"]
    assert re.findall(r'<tr data-move="(\d+)">', only_s) == [str(m["id"]) for m in s_moves]
    assert [line["value"] for line in chart_option(only_s)["series"][1]["data"]] == [m["quantity"] for m in s_moves]
    assert only_s.count('name="rebalance" value="S"') == 2  # beside the table and in the by-SKU table
    nothing = client.get(path, {"sku": "NOPE"})
    assert nothing.status_code == 200
    assert "no move of SKU NOPE in this plan" in nothing.content.decode()


# Last in the module: the real worker (module-scoped) starts here, after every test above ran without
# one, so none of their tasks ran behind their backs.
def test_a_plan_started_in_the_browser_is_computed_by_the_worker_while_the_page_polls(
    console_site, world, celery_worker_process
):
    network(world, evaluated=False)
    worker_idle_wait()  # the worker's own evaluation of the pushed stock
    alerts = ok(world.analyst.client.get(url(world, "alerts/"), {"rule": "stock_out_risk", "active": "true"}))
    assert {a["warehouse"] for a in alerts["results"]} >= {"PAR", "MRS"}
    page = console_site.signed_in(world.admin.user)
    page.goto("/console/acme/transfer-plans/")
    page.get_by_role("button", name="Start a plan").click()
    page.wait_for_url(re.compile(r"/transfer-plans/[0-9a-f-]{36}/$"))
    plan_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.wait_for_selector('#plan-body[data-status="succeeded"]', timeout=30_000)
    done = api_plan(world, plan_id)
    assert done["status"] == "succeeded"
    moves = api_moves(world, plan_id)
    assert moves
    assert table_moves(page) == shape(moves)
    assert drawn_lines(page) == {LINE_COLOURS[0]: len(moves), LINE_COLOURS[1]: 0}
    assert figure(page, "objective") == money(done["summary"]["objective"])
