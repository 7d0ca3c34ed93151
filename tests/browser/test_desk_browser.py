"""The answering desk in a real browser, from the keyboard: a publisher moves in the
conversations with j/k, opens one with Enter, assigns it to themself (a), picks a saved reply
(s) that opens filled with the citizen's first name, completes it and sends it (Ctrl+Enter),
sees it "sending" then simulated once the job has run, and resolves the conversation (e).
The same publisher also answers from the list: j to a row, r opens the reply box under it, Esc
closes it, s opens it at the saved replies, Ctrl+Enter sends and the list comes back with
the row showing the reply's state.

Drives Debian's chromium through Playwright (see ``test_inbox_browser``). Screenshots go to
``test-results/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.csp import csp_violations, watch_csp
from tests.browser.test_accessibility import AXE
from tests.browser.test_inbox_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    RESULTS,
)
from tests.browser.test_layout import OVERFLOW
from tests.browser.test_moderation_browser import SLUG, _login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"
    ),
]

SAVED_TEXT = "Bonjour {prénom}, merci pour votre signalement : nous transmettons au service."
FILLED_TEXT = "Bonjour Alice, merci pour votre signalement : nous transmettons au service."
ADDED_TEXT = " Une équipe passe demain matin."


@pytest.fixture
def desk_page() -> Any:
    """A 1280×800 French browser tab (the size the desk must fit without sideways scroll)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 800}, timezone_id="Europe/Paris"
        )
        context.set_default_timeout(8000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def desk(transactional_db: Any) -> dict[str, Any]:
    """A town whose demo Facebook page has two citizens' comments under a post (two
    conversations), a publisher with a TOTP device and one saved reply."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.conversations import services
    from beffroi.conversations.models import Conversation, SavedReply
    from beffroi.organizations.models import Membership, Organization
    from beffroi.sources.models import DEMO_SETTING, Source
    from tests.conversations.conftest import Thread

    org = Organization.objects.create(slug=SLUG, name="Ville de Démo")
    publisher = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=publisher, organization=org, role="publisher")
    device = TOTPDevice.objects.create(user=publisher, name="phone", confirmed=True)
    # A demo source: the reply is simulated, nothing is sent (the job runs in the test).
    source = Source.objects.create(
        organization=org,
        name="Page Facebook",
        platform="facebook",
        settings={"page_id": "1", DEMO_SETTING: True},
    )
    thread = Thread(org, source)
    post = thread.post()
    thread.say("bruno", "Et le marché de samedi, il est maintenu ?", post)
    thread.say("alice", "Le lampadaire de la rue des Écoles est éteint depuis lundi.", post)
    services.attach_new_items(org)
    saved = SavedReply.objects.create(organization=org, name="Signalement", text=SAVED_TEXT)
    alice = Conversation.objects.get(organization=org, author__handle="alice")
    return {
        "org": org,
        "publisher": publisher,
        "device": device,
        "saved": saved,
        "alice": alice,
        "conversations": Conversation.objects.filter(organization=org).count(),
    }


def test_answering_a_citizen_from_the_keyboard(
    live_server: Any, desk: dict[str, Any], desk_page: Any
) -> None:
    from playwright.sync_api import expect

    from beffroi.conversations.models import Reply
    from beffroi.jobs.engine import run_pending

    page = desk_page
    RESULTS.mkdir(exist_ok=True)
    alice = desk["alice"]
    _login(page, live_server.url, "claire", desk["device"])

    # The list, default view: both conversations, and no sideways scroll at 1280×800.
    page.goto(f"{live_server.url}/o/{SLUG}/conversations/")
    rows = page.locator("[data-keyboard-list] [data-row-link]")
    expect(rows).to_have_count(desk["conversations"])
    assert desk["conversations"] == 2
    assert page.evaluate(OVERFLOW) is None  # else: what sticks out, and what pushes it
    page.screenshot(path=str(RESULTS / "desk-list.png"), full_page=True)

    # j/k move in the rows; Enter opens the focused one (Alice's).
    alice_row = page.locator(f"[data-row-link][href$='/conversations/{alice.pk}/']")
    index = [rows.nth(n).get_attribute("href") for n in range(2)].index(
        alice_row.get_attribute("href")
    )
    page.keyboard.press("j")
    expect(rows.first).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.first).to_be_focused()
    if index == 1:
        page.keyboard.press("j")
    expect(alice_row).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/conversations/{alice.pk}/")
    assert page.evaluate(OVERFLOW) is None

    # ? lists the desk's keys.
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    desk_keys = dialog.locator("table[aria-labelledby=shortcuts-desk-title]")
    expect(desk_keys).to_be_visible()
    for key in ("j", "k", "r", "s", "a", "e"):
        expect(desk_keys.locator("kbd", has_text=key).first).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # a: the assignee field; the publisher picks themself, Tab, Enter on "Assign".
    page.keyboard.press("a")
    assignee = page.locator("#id_assignee")
    expect(assignee).to_be_focused()
    assignee.select_option(str(desk["publisher"].pk))
    page.keyboard.press("Tab")
    expect(page.locator("button[data-key=a]")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#id_assignee")).to_have_value(str(desk["publisher"].pk))
    alice.refresh_from_db()
    assert alice.assignee == desk["publisher"]

    # s: the saved replies; the chosen one opens in the reply box, the first name filled in.
    page.keyboard.press("s")
    saved_select = page.locator("#saved-reply")
    expect(saved_select).to_be_focused()
    saved_select.select_option(str(desk["saved"].pk))
    box = page.locator("[data-reply-form] textarea")
    expect(box).to_be_focused()
    expect(box).to_have_value(FILLED_TEXT)
    # Completed by hand, then Ctrl+Enter sends it.
    page.keyboard.press("Control+End")
    page.keyboard.type(ADDED_TEXT)
    expect(box).to_have_value(FILLED_TEXT + ADDED_TEXT)
    page.keyboard.press("Control+Enter")
    sending = page.locator("li.reply-sending")
    expect(sending).to_contain_text(FILLED_TEXT + ADDED_TEXT)
    expect(sending.locator(".badge")).to_have_text("Envoi en cours")
    reply = Reply.objects.get(conversation=alice)
    assert reply.state == Reply.State.SENDING
    assert reply.saved_reply_id == desk["saved"].pk
    assert reply.text == FILLED_TEXT + ADDED_TEXT
    page.screenshot(path=str(RESULTS / "desk-reply-sending.png"), full_page=True)

    # The job runs (here, in the test): on a demo source the reply is simulated.
    assert run_pending() >= 1
    reply.refresh_from_db()
    assert reply.state == Reply.State.SIMULATED
    page.reload()
    simulated = page.locator("li.reply-simulated")
    expect(simulated).to_contain_text(FILLED_TEXT + ADDED_TEXT)
    expect(simulated.locator(".badge")).to_have_text("Simulée (démo)")
    expect(page.locator("li.reply-sending")).to_have_count(0)
    page.screenshot(path=str(RESULTS / "desk-reply-simulated.png"), full_page=True)

    # e: resolved.
    page.keyboard.press("e")
    page.wait_for_load_state()
    expect(page.locator(".page-head .badge")).to_have_text("Résolue")
    alice.refresh_from_db()
    assert alice.state == "resolved"
    page.screenshot(path=str(RESULTS / "desk-resolved.png"), full_page=True)


def test_replying_from_the_list_from_the_keyboard(
    live_server: Any, desk: dict[str, Any], desk_page: Any
) -> None:
    from playwright.sync_api import expect

    from beffroi.conversations.models import Reply
    from beffroi.jobs.engine import run_pending

    page = desk_page
    watch_csp(page.context)
    RESULTS.mkdir(exist_ok=True)
    alice = desk["alice"]
    _login(page, live_server.url, "claire", desk["device"])
    page.goto(f"{live_server.url}/o/{SLUG}/conversations/")

    # ? lists the list's reply keys.
    page.keyboard.press("?")
    desk_keys = page.locator("#shortcuts-dialog table[aria-labelledby=shortcuts-desk-title]")
    list_keys = desk_keys.locator("tr", has=page.locator("kbd", has_text="Esc"))
    expect(list_keys.locator("kbd")).to_have_text(["r", "s", "Esc"])
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-dialog")).to_be_hidden()

    # j to Alice's row (the list's order decides how many).
    rows = page.locator("[data-keyboard-list] [data-row-link]")
    alice_link = page.locator(f"[data-row-link][href$='/conversations/{alice.pk}/']")
    alice_row = page.locator(f"tr[data-conversation='{alice.pk}']")
    control = alice_row.locator("[data-reply-open]")
    expect(control).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("j")
    if rows.first.get_attribute("href") != alice_link.get_attribute("href"):
        page.keyboard.press("j")
    expect(alice_link).to_be_focused()

    # r: the reply box opens under the row, a region named after the citizen, the citizen's
    # last message quoted, the focus in its text.
    page.keyboard.press("r")
    region = page.locator(f"#reply-box-{alice.pk}")
    expect(region).to_be_visible()
    expect(region).to_have_attribute("aria-labelledby", f"reply-box-title-{alice.pk}")
    title = page.locator(f"#reply-box-title-{alice.pk}").inner_text()
    assert "@alice" in title
    expect(page.get_by_role("region", name=title)).to_be_visible()
    under = page.evaluate(
        "pk => document.getElementById('reply-box-' + pk).closest('tr')"
        ".previousElementSibling.getAttribute('data-conversation')",
        alice.pk,
    )
    assert under == str(alice.pk)
    expect(control).to_have_attribute("aria-expanded", "true")
    expect(control).to_have_attribute("aria-controls", f"reply-box-{alice.pk}")
    expect(region.locator("blockquote")).to_contain_text("Le lampadaire de la rue des Écoles")
    box = region.locator("textarea")
    expect(box).to_be_focused()
    assert page.evaluate(OVERFLOW) is None
    page.evaluate(AXE.read_text())
    audit = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    assert [violation["id"] for violation in audit["violations"]] == []
    page.screenshot(path=str(RESULTS / "desk-list-reply-box.png"), full_page=True)

    # Esc closes it and gives the focus back to the row; the draft is kept. Writing in the
    # box tells the others on the conversation: "claire is replying".
    page.keyboard.type("Brouillon")
    from beffroi.conversations.models import Presence

    for _ in range(50):
        if Presence.objects.filter(
            conversation=alice, user__username="claire", activity="replying"
        ).exists():
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("writing from the list did not announce claire as replying")
    page.keyboard.press("Escape")
    expect(region).to_be_hidden()
    expect(alice_link).to_be_focused()
    expect(control).to_have_attribute("aria-expanded", "false")

    # s: the same box, at its saved replies; the chosen one opens filled for Alice.
    page.keyboard.press("s")
    expect(region).to_be_visible()
    expect(box).to_have_value("Brouillon")
    saved_select = region.locator("[data-saved-replies]")
    expect(saved_select).to_be_focused()
    saved_select.select_option(str(desk["saved"].pk))
    expect(box).to_be_focused()
    expect(box).to_have_value(FILLED_TEXT)
    region.locator("input[name=resolve]").check()
    box.focus()

    # Ctrl+Enter sends: back on the list, at Alice's row (selected), which says the reply is
    # sending.
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url.endswith(f"/conversations/#conversation-{alice.pk}"))
    expect(page.locator(".messages")).to_contain_text("@alice")
    state = alice_row.locator("[data-reply-state]")
    expect(state).to_have_attribute("data-reply-state", "sending")
    expect(state.locator(".badge")).to_have_text("Envoi en cours")
    expect(alice_link).to_be_focused()
    reply = Reply.objects.get(conversation=alice)
    assert reply.state == Reply.State.SENDING
    assert reply.saved_reply_id == desk["saved"].pk and reply.text == FILLED_TEXT
    page.screenshot(path=str(RESULTS / "desk-list-reply-sending.png"), full_page=True)

    # The job runs: simulated on a demo source, the row says so, and the conversation is
    # resolved as asked.
    assert run_pending() >= 1
    reply.refresh_from_db()
    assert reply.state == Reply.State.SIMULATED
    page.goto(f"{live_server.url}/o/{SLUG}/conversations/?view=all")
    state = alice_row.locator("[data-reply-state]")
    expect(state).to_have_attribute("data-reply-state", "simulated")
    expect(state.locator(".badge")).to_have_text("Simulée (démo)")
    alice.refresh_from_db()
    assert alice.state == "resolved"
    assert csp_violations(page) == []
