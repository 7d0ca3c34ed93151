"""A reply from the desk through the real connector, against a loopback Mastodon instance
that answers as Mastodon does: posted in the thread (with its link), brought back by the next
sync as the organization's answer and shown once; refused when the token is, with why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from beffroi.audit.services import Actor
from beffroi.cli import main
from beffroi.conversations import sending, services
from beffroi.conversations.models import Conversation, Reply
from beffroi.sources import failures
from beffroi.sources.models import Source
from tests.fakes.mastodon_server import FakeMastodon

pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        alice = fake.add_account("alice", display_name="Alice Martin")
        post = fake.add_status("Travaux rue Jean Jaurès lundi", days_ago=2)
        fake.add_status(
            "Bonjour, la rue sera-t-elle fermée aux voitures ?", account=alice, in_reply_to=post
        )
        yield fake


@pytest.fixture
def mastodon(org: Any, server: FakeMastodon) -> Source:
    source = Source(
        organization=org,
        name="Mastodon",
        platform="mastodon",
        settings={"base_url": server.base_url},
    )
    source.set_credentials({"access_token": server.token})
    source.save()
    _sync(org)
    return source


def _sync(org: Any) -> None:
    result = CliRunner().invoke(main, ["sync", "--org", org.slug], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_reply_is_posted_in_the_thread_and_comes_back_once(
    org: Any, mastodon: Source, server: FakeMastodon, member: Callable[..., Any]
) -> None:
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    assert conversation.author.handle.startswith("alice")
    reply = services.send_reply(
        Actor(member("claire"), "ui"), conversation, "Non, seulement de 8 h à 12 h.", key="k1"
    )
    assert sending.send(reply.pk) == Reply.State.SENT
    reply.refresh_from_db()
    posted = server.statuses[reply.platform_id]
    assert "Non, seulement de 8 h à 12 h." in posted["content"]
    assert posted["in_reply_to_id"] == conversation.root.platform_id
    assert reply.url.startswith("http")
    # Delivered again (a job run twice): nothing more is posted.
    count = len(server.statuses)
    assert sending.send(reply.pk) == Reply.State.SENT and len(server.statuses) == count
    # The next sync brings the reply back: the organization's answer, shown once.
    _sync(org)
    services.attach_new_items(org)
    conversation.refresh_from_db()
    assert conversation.state == Conversation.State.ANSWERED
    assert conversation.items.filter(platform_id=reply.platform_id).exists()
    from tests.conversations.test_desk_pages import _login

    html = _login(member("david")).get(f"/o/{org.slug}/conversations/{conversation.pk}/")
    assert html.content.decode().count("Non, seulement de 8 h à 12 h.") == 1


def test_a_refused_token_fails_the_reply_with_why(
    org: Any, mastodon: Source, server: FakeMastodon, member: Callable[..., Any]
) -> None:
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    reply = services.send_reply(Actor(member("claire"), "ui"), conversation, "Bonjour", key="k")
    server.revoke_token()
    assert sending.send(reply.pk) == Reply.State.FAILED
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_CREDENTIALS and "token" in reply.detail.lower()
    assert not [s for s in server.statuses.values() if "Bonjour" == s.get("text")]
