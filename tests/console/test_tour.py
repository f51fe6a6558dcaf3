"""The console on the demo tenant, as `make demo` builds it: every page opens, draws its charts, raises
no script error, fits a phone's width, and is photographed for the manual.

Run with CONSOLE_SCREENSHOTS=docs/images/console to refresh the pictures in docs/console.md and
README's tour.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from core.alerts.models import Alert
from core.demo.seed import DEMO_ROLE_USERNAMES
from tenants.models import Role
from tests.support.browser import DESKTOP, PHONE


@pytest.fixture
def demo_tenant(transactional_db):
    """The demo's own run without serving: migrated, seeded (small), evaluated, responded, planned."""
    call_command("demo", "--no-serve", stdout=StringIO(), stderr=StringIO())
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=DEMO_ROLE_USERNAMES[Role.PLANNER])


class Visit:
    """A page opened with its script errors, failed requests and charts watched."""

    def __init__(self, page: object) -> None:
        self.page, self.errors = page, []
        page.on("pageerror", lambda error: self.errors.append(f"script: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"console: {message.text}"))
        page.on("response", lambda answer: answer.status >= 400 and self.errors.append(f"{answer.status} {answer.url}"))

    def open(self, path: str) -> None:
        answer = self.page.goto(path)
        assert answer.status == 200, path
        self.check(path)

    def check(self, where: str) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").count() >= 1, where
        charts = page.locator("[data-chart]")
        for index in range(charts.count()):
            chart = charts.nth(index)
            if chart.is_visible():
                chart.locator("svg").first.wait_for(state="attached")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{where} is {overflow}px wider than the window"
        assert self.errors == [], (where, self.errors)


TOUR = [
    ("overview", ""),
    ("heatmap", "heatmap/?metric=days_of_cover"),
    ("map", "heatmap/?view=map&metric=overstock_value"),
    ("inbox", "alerts/"),
    ("plans", "transfer-plans/"),
    ("draft", "transfers/draft/"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_of_the_demo_tenant_opens_draws_and_fits(console_site, demo_tenant, viewport):
    page = console_site.signed_in(demo_tenant, viewport=viewport)
    visit = Visit(page)
    phone = viewport is PHONE
    for name, path in TOUR:
        visit.open(f"/console/acme/{path}")
        if not phone:
            console_site.screenshot(page, name)
    # From the inbox to an alert, and from the alert to its position, as a planner clicks through.
    visit.open("/console/acme/alerts/?active=true&grade=red")
    page.locator("a[href*='/console/acme/alerts/']").filter(has_not_text="Alerts").first.click()
    visit.check("an alert")
    if not phone:
        console_site.screenshot(page, "alert")
    page.locator("a[href*='/console/acme/positions/']").first.click()
    visit.check("a position")
    if not phone:
        console_site.screenshot(page, "position")
    visit.open("/console/acme/transfer-plans/")
    page.locator("a[href*='/console/acme/transfer-plans/']").filter(has_not_text="Transfer plans").first.click()
    visit.check("a plan")
    if not phone:
        console_site.screenshot(page, "plan")
    # What if demand for a SKU the engine warns about doubled for two weeks, in all its warehouses?
    sku = Alert.objects.filter(rule="stock_out_risk").order_by("pk").values_list("sku__code", flat=True)[0]
    visit.open("/console/acme/sandbox/")
    page.get_by_label("SKU codes").fill(sku)
    page.get_by_label("Scenario").select_option("demand_shock")
    page.get_by_label("Demand x k").fill("2")
    page.get_by_label("Days", exact=True).fill("14")
    page.get_by_role("button", name="Run scenario").click()
    page.locator("#sandbox-positions tr[data-warehouse]").first.wait_for()
    visit.check("a scenario's answer")
    if not phone:
        console_site.screenshot(page, "sandbox")
