"""The review queue in a real browser, from the keyboard: review a blurred comment, hide it,
undo, hide again, record the author's appeal, download the evidence dossier, and have another
moderator decide the appeal.

Drives Debian's chromium through Playwright (see ``test_inbox_browser``). Screenshots go to
``test-results/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_inbox_browser import (
    CHROMIUM,
    PASSWORD,
    RESULTS,
    _totp,
    browser_page,  # noqa: F401 (fixture)
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"
    ),
]

SLUG = "ville-demo"
HATEFUL = "Les gens comme vous, on devrait tous vous faire disparaître."


@pytest.fixture
def town(transactional_db: Any) -> dict[str, Any]:
    """A town with its default charter, two moderators (one admin) and two doubtful comments."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.charter.services import ensure_default_charter
    from beffroi.organizations.models import Membership, Organization
    from beffroi.sources.models import Source
    from tests.moderation.test_views import make_case

    org = Organization.objects.create(slug=SLUG, name="Ville de Démo")
    ensure_default_charter(org)
    devices = {}
    for username, role in (("maire", "admin"), ("alice", "moderator")):
        user = get_user_model().objects.create_user(username, password=PASSWORD)
        Membership.objects.create(user=user, organization=org, role=role)
        devices[username] = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    # A demo source: its platform actions are simulated (the jobs run in the test).
    source = Source.objects.create(
        organization=org, name="Page Facebook", platform="facebook", settings={"demo": True}
    )
    hateful = make_case(org, source, 1, category="hate", severity=4, text=HATEFUL, priority=1)
    insult = make_case(org, source, 2, category="insult", text="Quel guignol ce maire.")
    return {"org": org, "devices": devices, "hateful": hateful, "insult": insult}


def _login(page: Any, url: str, username: str, device: Any) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/verify/**")
    page.fill("#id_code", _totp(device))
    page.click("main form[action*=verify] button[type=submit]")
    page.wait_for_url(f"**/o/{SLUG}/")


def test_review_hide_undo_appeal_and_dossier(
    live_server: Any,
    town: dict[str, Any],
    browser_page: Any,  # noqa: F811 (fixture)
) -> None:
    from playwright.sync_api import expect

    from beffroi.items.models import Item
    from beffroi.jobs.engine import run_pending
    from beffroi.moderation.models import Appeal, Case, Decision, Evidence

    page = browser_page
    RESULTS.mkdir(exist_ok=True)
    hateful_item = town["hateful"].item
    _login(page, live_server.url, "maire", town["devices"]["maire"])

    # The queue, then "n" takes the first case: the hateful one (higher priority), blurred.
    page.goto(f"{live_server.url}/o/{SLUG}/moderation/queue/")
    expect(page.locator("main")).to_contain_text("Quel guignol")
    page.keyboard.press("n")
    page.wait_for_url(f"**/moderation/cases/{town['hateful'].pk}/")
    reveal = page.locator("[data-reveal]").first
    expect(reveal).to_have_attribute("aria-expanded", "false")
    page.screenshot(path=str(RESULTS / "moderation-case-blurred.png"), full_page=True)
    page.keyboard.press("v")
    expect(reveal).to_have_attribute("aria-expanded", "true")
    expect(page.locator("main")).to_contain_text("faire disparaître")

    # "h" hides it: evidence first, then the next case comes, with an undo offer.
    page.keyboard.press("h")
    page.wait_for_url(f"**/moderation/cases/{town['insult'].pk}/")
    hateful_item.refresh_from_db()
    assert hateful_item.visibility == Item.Visibility.VISIBLE  # until the platform hides it
    run_pending()
    hateful_item.refresh_from_db()
    assert hateful_item.visibility == Item.Visibility.HIDDEN
    hide = Decision.objects.get(item=hateful_item, action="hide", status="applied")
    assert Evidence.objects.filter(item=hateful_item).count() == 1
    assert hide.actor is not None and hide.actor.username == "maire"
    page.screenshot(path=str(RESULTS / "moderation-after-hide.png"), full_page=True)

    # "u" undoes it: the item is visible again and its case back in the queue.
    page.keyboard.press("u")
    expect(page.locator("main")).to_contain_text("faire disparaître")
    run_pending()  # the platform shows it again
    hateful_item.refresh_from_db()
    assert hateful_item.visibility == Item.Visibility.VISIBLE
    hide.refresh_from_db()
    assert hide.status == "undone"

    reopened = Case.objects.exclude(state="closed").get(item=hateful_item, kind="review")

    # Decide it for good, still from the keyboard: the reopened case comes first again.
    page.goto(f"{live_server.url}/o/{SLUG}/moderation/queue/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/moderation/cases/{reopened.pk}/")
    page.keyboard.press("h")
    page.wait_for_url(f"**/moderation/cases/{town['insult'].pk}/")
    run_pending()
    hateful_item.refresh_from_db()
    assert hateful_item.visibility == Item.Visibility.HIDDEN

    # The author contests: an agent records the appeal from the item's page.
    page.goto(f"{live_server.url}/o/{SLUG}/items/{hateful_item.pk}/")
    page.get_by_role("link", name="Enregistrer une contestation").first.click()
    page.get_by_label("Ce que dit l'auteur").fill("Je parlais d'un film, pas des gens.")
    page.get_by_role("button", name="Enregistrer la contestation").click()
    appeal = Appeal.objects.get(decision__item=hateful_item)
    appeal_case = Case.objects.get(appeal=appeal, kind="appeal")
    assert appeal.outcome == Appeal.Outcome.PENDING

    # The evidence dossier, JSON and PDF, downloaded from the item's page.
    page.goto(f"{live_server.url}/o/{SLUG}/items/{hateful_item.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Dossier de preuves (JSON)").click()
    dossier = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert dossier["item"]["item"]["text"] == HATEFUL
    assert len(dossier["evidence"]) == 2  # one bundle per hide
    assert all(entry["intact"] and len(entry["sha256"]) == 64 for entry in dossier["evidence"])
    with page.expect_download() as download:
        page.get_by_role("link", name="Dossier de preuves (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(RESULTS / "moderation-item.png"), full_page=True)

    # The mayor decided: the appeal is not theirs to decide. Alice takes it from the queue.
    page.context.clear_cookies()
    _login(page, live_server.url, "alice", town["devices"]["alice"])
    page.goto(f"{live_server.url}/o/{SLUG}/moderation/queue/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/moderation/cases/{appeal_case.pk}/")
    page.get_by_label("Annuler la décision (rétablir le contenu)").check()
    page.get_by_label("Motifs").fill("Le contexte montre une citation de film.")
    page.locator("#appeal-decide-form button[type=submit]").click()
    page.wait_for_load_state()
    appeal.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.REVERSED
    assert appeal.decided_by is not None and appeal.decided_by.username == "alice"
    run_pending()
    hateful_item.refresh_from_db()
    assert hateful_item.visibility == Item.Visibility.VISIBLE
    page.screenshot(path=str(RESULTS / "moderation-appeal-decided.png"), full_page=True)
