"""Replying from the conversation list: the row's reply box (an HTML fragment), sent to the
reply view with the list as ``next``, back on the list with a flash and the row showing the
reply's state — sending until the platform answered, never "sent" before; who may do it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from beffroi.audit.services import Actor
from beffroi.connectors.base import ActionResult, AuthError
from beffroi.conversations import sending, services
from beffroi.conversations.models import Conversation, Reply, SavedReply

pytestmark = pytest.mark.django_db


def _login(user: Any) -> Client:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def conversation(org: Any, thread: Any) -> Conversation:
    """Alice's comment under the town's post, and her second message below it (the one a
    reply answers)."""
    first = thread.say("alice", "Le lampadaire de la rue des Écoles est éteint", thread.post())
    thread.say("alice", "Toujours éteint ce soir, <b>rien</b> n'a bougé.", first)
    services.attach_new_items(org)
    return Conversation.objects.get(organization=org)


def _list(org: Any, query: str = "") -> str:
    return f"/o/{org.slug}/conversations/{query}"


def _box(org: Any, conversation: Conversation) -> str:
    return f"/o/{org.slug}/conversations/{conversation.pk}/reply-box/"


def _row(html: str, conversation: Conversation) -> str:
    """The list's row of ``conversation``."""
    found = re.search(rf'<tr [^>]*data-conversation="{conversation.pk}".*?</tr>', html, re.S)
    assert found is not None, "the conversation's row is not in the list"
    return found.group(0)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no hidden {name} in the box"
    return found.group(1).replace("&amp;", "&")


def test_the_row_offers_a_reply_box_with_the_message_answered_and_saved_replies(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    SavedReply.objects.create(organization=org, name="Lampadaire", text="Bonjour {prénom}, noté.")
    client = _login(member("claire"))
    row = _row(client.get(_list(org)).content.decode(), conversation)
    # Without JavaScript, "Reply" is the conversation page's reply box; the script fetches
    # the fragment instead.
    assert f'href="/o/{org.slug}/conversations/{conversation.pk}/#reply-title"' in row
    assert f'data-reply-box-url="{_box(org, conversation)}"' in row
    assert 'aria-label="Reply to @alice"' in row

    response = client.get(_box(org, conversation), {"next": _list(org, "?view=mine&page=1")})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment, not a page
    # A labelled region.
    assert f'aria-labelledby="reply-box-title-{conversation.pk}"' in html
    assert re.search(rf'<h2 id="reply-box-title-{conversation.pk}">Reply to @alice</h2>', html)
    # The citizen's last message (the one the reply answers), quoted and escaped.
    assert "Toujours éteint ce soir, &lt;b&gt;rien&lt;/b&gt;" in html
    assert "Le lampadaire de la rue" not in html
    # The saved reply, filled for this conversation.
    assert 'data-text="Bonjour Alice, noté."' in html
    # Posted to the reply view, with a key and the list to come back to, at this row.
    assert f'action="/o/{org.slug}/conversations/{conversation.pk}/reply/"' in html
    assert "csrfmiddlewaretoken" in html and _hidden(html, "key")
    assert _hidden(html, "next") == _list(org, f"?view=mine&page=1#conversation-{conversation.pk}")
    # A Facebook comment may be answered in private; resolving after sending is offered.
    assert 'name="private"' in html and 'name="resolve"' in html
    # A second box is another draft: another key.
    again = client.get(_box(org, conversation)).content.decode()
    assert _hidden(again, "key") != _hidden(html, "key")
    assert _hidden(again, "next") == _list(org, f"#conversation-{conversation.pk}")


def test_the_box_says_who_else_is_on_the_conversation_and_announces_its_writer(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    claire, david = _login(member("claire")), _login(member("david"))
    presence = f"/o/{org.slug}/conversations/{conversation.pk}/presence/"
    claire.post(presence, {"activity": "replying"})  # claire writes on the conversation page
    html = david.get(_box(org, conversation)).content.decode()
    assert "claire is replying" in html  # before david writes a word from the list
    # The box's own heartbeat (desk.js, while the box is open): claire sees david in turn.
    assert f'data-presence-url="{presence}"' in html
    david.post(presence, {"activity": "replying"})
    assert "david is replying" in claire.post(presence).content.decode()
    assert "david" not in david.get(_box(org, conversation)).content.decode().split("<figure")[0]


def test_a_next_to_another_site_is_not_kept(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    client = _login(member("claire"))
    for target in ("https://evil.example/o/", "//evil.example/", "javascript:alert(1)"):
        html = client.get(_box(org, conversation), {"next": target}).content.decode()
        assert _hidden(html, "next") == _list(org, f"#conversation-{conversation.pk}")
        response = client.post(
            f"/o/{org.slug}/conversations/{conversation.pk}/reply/",
            {"text": "Bonjour", "key": services.new_reply_key(), "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == f"/o/{org.slug}/conversations/{conversation.pk}/"


def test_sending_from_the_list_comes_back_to_it_with_the_reply_state_in_the_row(
    org: Any,
    conversation: Conversation,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    saved = SavedReply.objects.create(organization=org, name="Lampadaire", text="Bonjour.")
    client = _login(member("claire"))
    box = client.get(_box(org, conversation), {"next": _list(org, "?view=open")})
    html = box.content.decode()
    body = {
        "text": "Bonjour Alice, c'est signalé.",
        "key": _hidden(html, "key"),
        "next": _hidden(html, "next"),
        "saved_reply": str(saved.pk),
        "resolve": "on",
    }
    url = f"/o/{org.slug}/conversations/{conversation.pk}/reply/"
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(url, body)
        second = client.post(url, body)  # a double submission: the same reply
    back = _list(org, f"?view=open#conversation-{conversation.pk}")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == back
    reply = Reply.objects.get()
    assert reply.conversation == conversation and reply.saved_reply == saved
    assert reply.state == Reply.State.SENDING

    listed = client.get(_list(org, "?view=open")).content.decode()
    assert "Reply to @alice recorded: it is being sent, its row shows its state." in listed
    row = _row(listed, conversation)
    assert 'data-reply-state="sending"' in row and ">Sending<" in row
    assert "Sent" not in row  # not before the platform answered

    # The platform refuses it: the row says so.
    def refuse(reply: Reply) -> ActionResult:
        raise AuthError("OAuthException: Error validating access token (190)")

    monkeypatch.setattr(sending, "_call", refuse)
    assert sending.send(reply.pk, resolve=True) == Reply.State.FAILED
    row = _row(client.get(_list(org, "?view=open")).content.decode(), conversation)
    assert 'data-reply-state="failed"' in row and ">Failed<" in row

    # Sent again, posted this time: the row shows the newest reply's state.
    services.retry_reply(Actor(reply.author, "ui"), reply)
    monkeypatch.setattr(sending, "_call", lambda reply: ActionResult(ok=True, platform_id="c1"))
    assert sending.send(reply.pk, resolve=True) == Reply.State.SENT
    row = _row(client.get(_list(org, "?view=all")).content.decode(), conversation)
    assert 'data-reply-state="sent"' in row and ">Sent<" in row


def test_an_empty_reply_from_the_list_comes_back_to_the_list_with_why(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    client = _login(member("claire"))
    response = client.post(
        f"/o/{org.slug}/conversations/{conversation.pk}/reply/",
        {"text": "", "key": "k", "next": _list(org)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == _list(org)
    assert "Write the reply first." in response.content.decode()
    assert not Reply.objects.exists()


def test_private_is_offered_only_where_the_platform_allows_it(
    org: Any, member: Callable[..., Any]
) -> None:
    from beffroi.sources.models import Source
    from tests.conversations.conftest import Thread

    client = _login(member("claire"))
    # YouTube has no private messages; a private conversation is private already.
    channel = Source.objects.create(
        organization=org, name="Chaîne", platform="youtube", settings={"channel_id": "UC9"}
    )
    videos = Thread(org, channel)
    videos.say("alice", "Bonjour la mairie", videos.post())
    page = Source.objects.create(
        organization=org, name="Page", platform="facebook", settings={"page_id": "1"}
    )
    Thread(org, page).say("bruno", "Bonjour", kind="message")
    services.attach_new_items(org)
    kinds = sorted(Conversation.objects.filter(organization=org).values_list("kind", flat=True))
    assert kinds == ["private", "public"]
    for conversation in Conversation.objects.filter(organization=org):
        assert 'name="private"' not in client.get(_box(org, conversation)).content.decode()
        detail = client.get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
        assert 'name="private"' not in detail  # the conversation page decides the same way
        assert 'name="resolve"' in detail


def test_only_who_may_answer_gets_the_box_and_another_organization_gets_404(
    org: Any,
    other_org: Any,
    conversation: Conversation,
    make_user: Callable[..., Any],
) -> None:
    box = _box(org, conversation)
    for role in ("viewer", "analyst"):
        client = _login(make_user(f"{role}-1", org=org, role=role))
        html = client.get(_list(org)).content.decode()
        assert "@alice" in html and "data-reply-open" not in html and box not in html
        assert client.get(box).status_code == 403
    publisher = _login(make_user("paul", org=org, role="publisher"))
    assert publisher.post(box).status_code == 405  # a fragment to read, nothing to post
    outsider = _login(make_user("otto", org=other_org, role="admin"))
    assert outsider.get(box).status_code == 404
    assert outsider.get(_box(other_org, conversation)).status_code == 404
