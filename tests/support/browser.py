"""The console in a real browser: Debian's Chromium driven by Playwright against the live server.

``console_site`` serves the project (pytest-django's ``live_server``, on the test database) and
opens pages signed in as a user: ``console_site.signed_in(user)`` gives a Playwright page whose
session cookie is that user's, so a test starts where a signed-in planner would be. The sign-in
form itself is driven by its own test. No browser is downloaded: ``make browser`` (also run by
``make test`` and ``.ci/run``) installs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling out to Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "")) if os.environ.get("CONSOLE_SCREENSHOTS") else None


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: run `make browser` (it installs Debian's chromium package).")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django then refuses database work
    # here as if it were async code (Playwright's and pytest-django's documented workaround).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@dataclass
class ConsoleSite:
    url: str
    browser: object
    contexts: list = field(default_factory=list)

    def page(self, viewport: dict | None = None):
        """A new page in a new context (no cookies): as a visitor who has not signed in."""
        context = self.browser.new_context(viewport=viewport or DESKTOP, base_url=self.url)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def signed_in(self, user: object, viewport: dict | None = None):
        """A page whose session is ``user``'s (signed in as through the form, without typing)."""
        client = Client()
        client.force_login(user)
        page = self.page(viewport)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.url}])
        return page

    def screenshot(self, page: object, name: str) -> None:
        """Saved to ``$CONSOLE_SCREENSHOTS/<name>.png`` when that is set (docs/console.md's images)."""
        if SCREENSHOTS is not None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def console_site(live_server, browser, transactional_db) -> Iterator[ConsoleSite]:
    site = ConsoleSite(url=live_server.url, browser=browser)
    yield site
    for context in site.contexts:
        context.close()
