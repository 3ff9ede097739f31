"""Driving Debian's Chromium through Playwright for the admin's browser tests.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (``.ci/run``
installs it with apt). Without it the tests skip locally and fail under ``REQUIRE_SERVICES=1``.
"""
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from accounts.models import Membership, Organization, Role
from tests.support import need

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "browser-pw-2f9c"


def chromium_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK) or bool(shutil.which("chromium"))


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A logged-out page of a fresh Chromium, against the live test server."""
    need(chromium_available(), f"Chromium at {CHROMIUM} with the playwright package")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between page actions are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        page.base_url = live_server.url
        try:
            yield page
        finally:
            browser.close()
            # With Playwright's loop running, the ORM calls of the test got connections of their
            # own (asgiref keys them by context); close them, or the test database stays in use.
            connections.close_all()


def staff_user(username, organization, *, superuser=False, role=Role.ADMIN):
    users = get_user_model().objects
    make = users.create_superuser if superuser else users.create_user
    user = make(username, f"{username}@example.com", PASSWORD)
    user.is_staff = True
    user.save()
    if organization is not None:
        Membership.objects.create(user=user, organization=organization, role=role)
    return user


def log_in(page, username):
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def row_hidden(page, name) -> bool:
    return page.eval_on_selector(f".form-row.field-{name}", "el => el.hidden || el.offsetParent === null")


def screenshot(page, filename):
    """Saved only when SCREENSHOT_DIR is set (``SCREENSHOT_DIR=docs`` refreshes the README's images)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # The sticky navigation sidebar lands mid-page in a full-page capture: fold it away.
        page.evaluate("""() => { const nav = document.getElementById('nav-sidebar');
            if (nav) { nav.style.display = 'none'; } document.getElementById('main')?.classList.remove('shifted');
            const toggle = document.getElementById('toggle-nav-sidebar'); if (toggle) { toggle.style.display = 'none'; } }""")
        page.screenshot(path=str(Path(folder) / filename), full_page=True)


def organization(name="Acme"):
    return Organization.objects.create(name=name)
