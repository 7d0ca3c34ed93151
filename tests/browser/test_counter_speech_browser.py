"""Counter-speech in a real browser (issue 17), from the review queue to the platform.

A hateful reply to the town's Mastodon post (a real account on the loopback fake Mastodon,
synced) waits in the review queue. The moderator opens its case: the library's entry for the
group it attacks is suggested, with why; ``c`` answers with it — the conversation's reply
box opens with the entry's text, nothing is sent. The moderator adapts the text and sends it
(Ctrl+Enter); the job runs: the fake Mastodon receives one status, in reply to the hateful
one, with the edited text; the entry counts one use. axe finds no WCAG A/AA violation on the
case page with its suggestions, and the content security policy holds.

Drives Debian's chromium through Playwright (see ``test_inbox_browser``). Screenshots go to
``test-results/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.csp import csp_violations, watch_csp
from tests.browser.test_accessibility import AXE
from tests.browser.test_inbox_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, RESULTS
from tests.browser.test_moderation_browser import SLUG, _login
from tests.publishing.support_platform import TimedMastodon

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"
    ),
]

HATEFUL = "Ces migrants viennent voler notre travail, qu'ils dégagent de notre ville !"
ENTRY_TEXT = (
    "Les personnes migrantes ne volent le travail de personne : elles occupent surtout des "
    "métiers où l'on manque de bras, et paient leurs cotisations comme tout le monde."
)
ADDED = " Merci de rester respectueux dans nos commentaires."


@pytest.fixture
def mastodon() -> Iterator[TimedMastodon]:
    with TimedMastodon(username="mairie", display_name="Mairie de Démo") as fake:
        yield fake


@pytest.fixture
def town(transactional_db: Any, mastodon: TimedMastodon) -> dict[str, Any]:
    """The town's Mastodon account, synced: its post and a hateful reply under it (a case
    in the queue, a conversation at the desk); a moderator; a library with the entry for
    migrants and another one, approved by someone other than their author."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.conversations.services import attach_new_items
    from beffroi.counterspeech import services
    from beffroi.counterspeech.validation import EntryData
    from beffroi.items.models import Item
    from beffroi.moderation.models import Case
    from beffroi.organizations.context import OrgContext
    from beffroi.organizations.models import Membership, Organization
    from beffroi.sources.sync import sync_source
    from tests.publishing.support_platform import mastodon_source

    post = mastodon.add_status("Fête de quartier samedi au parc des Tilleuls !", days_ago=0.1)
    troll = mastodon.add_account("raoul", display_name="Raoul")
    hateful_status = mastodon.add_status(HATEFUL, account=troll, in_reply_to=post, days_ago=0.05)
    org = Organization.objects.create(slug=SLUG, name="Ville de Démo")
    users = {}
    for username, role in (("karim", "moderator"), ("lucas", "publisher"), ("elise", "approver")):
        user = get_user_model().objects.create_user(username, password=PASSWORD)
        users[username] = Membership.objects.create(user=user, organization=org, role=role)
    device = TOTPDevice.objects.create(user=users["karim"].user, name="phone", confirmed=True)
    source = mastodon_source(org, mastodon, "Mastodon de la ville")
    assert sync_source(source).created >= 2
    item = Item.objects.get(organization=org, platform_id=hateful_status["id"])
    item.analysis = {"verdict": "review", "category": "hate", "score": 0.91}
    item.save(update_fields=["analysis"])
    case = Case.objects.create(organization=org, item=item, category="hate", reason="hate")
    attach_new_items(org)
    writer = OrgContext.for_member(users["lucas"], "ui")
    approver = OrgContext.for_member(users["elise"], "ui")
    entries = []
    for title, target, text in (
        ("Migrants et travail", "migrants", ENTRY_TEXT),
        (
            "Aimer n'est pas une menace",
            "lgbt",
            "Aimer une personne du même sexe n'est une menace pour personne.",
        ),
    ):
        entry = services.create_entry(
            writer,
            EntryData(
                title=title,
                strategy="facts",
                tone="calm",
                targets=[target],
                topics=[],
                licence="etalab-2.0",
                texts=[("fr", text)],
                sources=[],
            ),
            submit=True,
        )
        entries.append(services.approve(approver, entry))
    return {"org": org, "device": device, "case": case, "item": item, "entry": entries[0]}


def test_a_hateful_comment_answered_with_an_edited_library_entry(
    live_server: Any, town: dict[str, Any], mastodon: TimedMastodon
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from beffroi.conversations.models import Reply
    from beffroi.jobs.engine import run_pending

    RESULTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 800}, timezone_id="Europe/Paris"
        )
        context.set_default_timeout(20000)
        watch_csp(context)
        page = context.new_page()
        try:
            _login(page, live_server.url, "karim", town["device"])
            page.goto(f"{live_server.url}/o/{SLUG}/moderation/cases/{town['case'].pk}/")
            panel = page.locator("[data-counter-speech-panel]")
            expect(panel).to_be_visible()
            first = panel.locator(".suggestion").first
            expect(first.locator("h3")).to_contain_text("Migrants et travail")
            expect(first.locator("blockquote")).to_have_text(ENTRY_TEXT)
            expect(first).to_contain_text("défend le groupe que le message attaque")
            page.evaluate(AXE.read_text())
            audit = page.evaluate(
                """async () => await axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                    resultTypes: ['violations'],
                })"""
            )
            assert [violation["id"] for violation in audit["violations"]] == []
            page.screenshot(path=str(RESULTS / "counter-speech-case.png"), full_page=True)

            # c: the conversation's reply box opens with the entry's text; nothing is sent.
            page.keyboard.press("c")
            page.wait_for_url("**/conversations/**")
            box = page.locator("[data-reply-form] textarea")
            expect(box).to_have_value(ENTRY_TEXT)
            expect(page.locator("[data-draft-notice]")).to_be_visible()
            assert not Reply.objects.exists()
            # Adapted by the moderator, then Ctrl+Enter sends it.
            box.click()
            page.keyboard.press("Control+End")
            page.keyboard.type(ADDED)
            expect(box).to_have_value(ENTRY_TEXT + ADDED)
            page.keyboard.press("Control+Enter")
            expect(page.locator("li.reply-sending")).to_contain_text(ENTRY_TEXT + ADDED)
            page.screenshot(path=str(RESULTS / "counter-speech-sending.png"), full_page=True)
            assert csp_violations(page) == []
        finally:
            context.close()
            browser.close()

    reply = Reply.objects.get()
    assert reply.text == ENTRY_TEXT + ADDED
    assert reply.drafted_from == f"counter-speech:{town['entry'].key}"
    assert run_pending() >= 1
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT, (reply.reason, reply.detail)
    (status,) = mastodon.published()[-1:]
    assert status["in_reply_to_id"] == town["item"].platform_id
    assert (ENTRY_TEXT + ADDED) in mastodon.status(status["id"])["content"].replace("&#39;", "'")
    assert len(mastodon.creations()) == 1
    town["entry"].refresh_from_db()
    assert town["entry"].use_count == 1
