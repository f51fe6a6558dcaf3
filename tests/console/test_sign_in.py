"""Signing in to the console, choosing a tenant, and who sees what: in a real browser."""

import json
import re

from django.test import Client, RequestFactory

from core import urls
from tenants import services
from tests.support.browser import PHONE


def test_a_planner_signs_in_with_the_form_and_lands_on_the_overview(console_site, world):
    page = console_site.page()
    page.goto("/console/")
    assert "/console/login/" in page.url
    page.get_by_label("User name").fill(world.planner.user.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/acme/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert "planner" in page.locator(".who .role").inner_text()


def test_a_member_of_two_tenants_chooses_and_switches(console_site, world, other_world):
    services.membership_set(tenant=other_world.tenant, user=world.analyst.user, role="planner")
    page = console_site.signed_in(world.analyst.user, viewport=PHONE)
    page.goto("/console/")
    links = page.locator(".tenant-list a")
    assert sorted(links.all_inner_texts()) == ["Tenant acme", "Tenant globex"]
    links.filter(has_text="Tenant globex").click()
    page.wait_for_url(re.compile(r"/console/globex/$"))
    page.select_option("#tenant-switcher", label="Tenant acme (analyst)")
    page.wait_for_url(re.compile(r"/console/acme/$"))


def test_another_tenants_pages_answer_404_and_a_visitor_is_sent_to_sign_in(world, other_world):
    client = Client()
    client.force_login(world.planner.user)
    for path in ("", "heatmap/", "alerts/", "transfer-plans/", "sandbox/"):
        assert client.get(f"/console/acme/{path}").status_code == 200
        assert client.get(f"/console/globex/{path}").status_code == 404
        assert client.get(f"/console/nowhere/{path}").status_code == 404
    foreign = client.get("/console/globex/alerts/")
    assert foreign["Content-Type"].startswith("text/html")
    assert "belongs to a tenant you are not a member of" in foreign.content.decode()
    assert Client().get("/api/v1/nowhere/").json()["error"]["code"] == "not_found"  # the API's 404 stays JSON
    analyst = Client()
    analyst.force_login(world.analyst.user)
    refused = analyst.post("/console/acme/alerts/bulk/", {"action": "acknowledge"})
    assert refused.status_code == 403
    assert "As analyst you may not POST this page." in refused.content.decode()
    visitor = Client().get("/console/acme/heatmap/")
    assert visitor.status_code == 302
    assert visitor["Location"].startswith("/console/login/?next=/console/acme/heatmap/")


def test_options_names_what_the_role_may_use_and_a_failure_is_a_page(world) -> None:
    analyst, planner = Client(), Client()
    analyst.force_login(world.analyst.user)
    planner.force_login(world.planner.user)
    assert analyst.options("/console/acme/alerts/")["Allow"] == "GET, HEAD, OPTIONS"
    assert analyst.options("/console/acme/alerts/bulk/")["Allow"] == "OPTIONS"
    assert planner.options("/console/acme/alerts/bulk/")["Allow"] == "OPTIONS, POST"
    assert Client().options("/console/acme/alerts/").status_code == 302  # signing in comes first
    failed = urls.handler500(RequestFactory().get("/console/acme/heatmap/"))
    assert (failed.status_code, failed["Content-Type"]) == (500, "text/html; charset=utf-8")
    assert "Something went wrong" in failed.content.decode()
    assert json.loads(urls.handler500(RequestFactory().get("/api/v1/")).content)["error"]["code"] == "server_error"
