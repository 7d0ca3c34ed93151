"""The inbox in a real browser: login with a TOTP code, filters through htmx, keyboard use.

Drives Debian's chromium through Playwright's sync API (``playwright install`` is never
needed). Screenshots go to ``test-results/`` for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.web.factories import make_author, make_item

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "correct-horse-battery-staple-42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"
    ),
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris"
        )
        context.set_default_timeout(8000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def demo(transactional_db: Any) -> dict[str, Any]:
    """A town hall with a thread under a post, a private message and other comments."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.organizations.models import Membership, Organization
    from beffroi.sources.models import Source

    org = Organization.objects.create(slug="ville-demo", name="Ville de Démo")
    admin = get_user_model().objects.create_user("maire", password=PASSWORD)
    Membership.objects.create(user=admin, organization=org, role="admin")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    source = Source.objects.create(
        organization=org, name="Page Facebook", platform="file", kind="import"
    )
    mairie = make_author(org, "mairie", display_name="Mairie de Démo")
    camille = make_author(
        org, "camille", display_name="Camille", url="https://example.org/@camille"
    )
    dominique = make_author(org, "dominique")
    base = timezone.now() - timedelta(hours=3)
    root = make_item(
        source,
        mairie,
        "p1",
        kind="post",
        thread_id="p1",
        created_at=base,
        text="Travaux rue de la République à partir de lundi : circulation alternée.",
        raw={"id": "p1", "message": "Travaux rue de la République"},
    )
    question = make_item(
        source,
        camille,
        "c1",
        thread_id="p1",
        parent=root,
        parent_platform_id="p1",
        created_at=base + timedelta(minutes=5),
        text="Combien de temps vont durer les travaux ?",
    )
    make_item(
        source,
        mairie,
        "c2",
        kind="reply",
        thread_id="p1",
        parent=question,
        parent_platform_id="c1",
        created_at=base + timedelta(minutes=9),
        text="Trois semaines environ, jusqu'au 14.",
    )
    make_item(
        source,
        dominique,
        "c3",
        thread_id="p1",
        parent=root,
        parent_platform_id="p1",
        created_at=base + timedelta(minutes=12),
        text="Encore des bouchons en perspective…",
    )
    make_item(
        source,
        dominique,
        "m1",
        kind="message",
        created_at=base + timedelta(minutes=30),
        text="Bonjour, le lampadaire devant le 12 ne fonctionne plus.",
    )
    make_item(
        source,
        camille,
        "e1",
        kind="post",
        language="en",
        created_at=base + timedelta(minutes=40),
        text="Is the library open on Sunday?",
    )
    return {"org": org, "admin": admin, "device": device, "question": question}


def _totp(device: Any) -> str:
    from django_otp.oath import totp

    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def test_inbox_keyboard_and_filters(
    live_server: Any, demo: dict[str, Any], browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    RESULTS.mkdir(exist_ok=True)

    # Password, then a real TOTP code typed in the form.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "maire")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/verify/**")
    page.fill("#id_code", _totp(demo["device"]))
    page.click("main form[action*=verify] button[type=submit]")
    # Home is the organization's dashboard; g i goes to the inbox.
    page.wait_for_url("**/o/ville-demo/")
    expect(page.locator("h1")).to_have_text("Tableau de bord")
    page.screenshot(path=str(RESULTS / "dashboard.png"), full_page=True)
    page.keyboard.press("g")
    page.keyboard.press("i")
    page.wait_for_url("**/o/ville-demo/inbox/")

    rows = page.locator("[data-row-link]")
    expect(rows).to_have_count(6)
    page.screenshot(path=str(RESULTS / "inbox.png"), full_page=True)

    # Filter by kind: htmx replaces the results and pushes the address.
    page.select_option("#id_kind", "post")
    expect(rows).to_have_count(2)
    page.wait_for_url("**kind=post**")

    # Then a search word, typed (the search fires after a pause).
    page.select_option("#id_kind", "")
    expect(rows).to_have_count(6)
    page.locator("#id_q").press_sequentially("travaux", delay=20)
    expect(rows).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("Combien de temps")
    page.screenshot(path=str(RESULTS / "inbox-filtered.png"), full_page=True)

    # Leave the field, then j moves to the first row and Enter opens it.
    page.locator("#id_q").press("Escape")
    page.keyboard.press("j")
    expect(rows.first).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/items/{demo['question'].pk}/")

    thread = page.locator("ol.thread > li")
    expect(thread).to_have_count(4)
    expect(page.locator("ol.thread > li[aria-current=true]")).to_contain_text("Combien de temps")
    expect(page.locator("aside")).to_contain_text("@camille")
    page.screenshot(path=str(RESULTS / "item.png"), full_page=True)

    # ? opens the shortcuts help, Escape closes it; g i goes back to the inbox.
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-dialog")).to_be_visible()
    page.screenshot(path=str(RESULTS / "shortcuts.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-dialog")).to_be_hidden()
    page.keyboard.press("g")
    page.keyboard.press("i")
    page.wait_for_url("**/o/ville-demo/inbox/")
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url("**/o/ville-demo/")
    expect(page.locator("h1")).to_have_text("Tableau de bord")
