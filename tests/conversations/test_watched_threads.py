"""A watch over the wider network reads threads the organization has no part in: they are not
conversations. A mention of it, or a thread where it wrote, is one."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.conversations import services
from beffroi.conversations.models import Conversation
from beffroi.sources.models import Source
from tests.conversations.conftest import Thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(org: Any, thread: Thread) -> Thread:
    """The same network read by a watch (the town's own page is ``thread``'s source)."""
    thread.post("Le marché de Noël ouvre samedi.")  # the town's post: its author is its own
    watch = Source.objects.create(
        organization=org, name="Veille", platform="facebook", kind=Source.Kind.WATCH
    )
    found = Thread(org, watch)
    found.town = thread.town  # the town's account, as the watch reads it too
    found.count = 100  # other platform ids than the page's
    return found


def _roots(org: Any) -> set[str]:
    return {c.root.text for c in Conversation.objects.filter(organization=org)}


def test_threads_of_others_read_by_a_watch_are_not_conversations(org: Any, watched: Thread) -> None:
    news = watched.say("journal", "Article : le budget de la commune en hausse")
    news.kind = "post"
    news.save()
    watched.say("bruno", "Encore des impôts en plus, merci la mairie", news)
    watched.say("chloe", "@bruno n'importe quoi", news)
    assert services.attach_new_items(org) == 0
    assert not Conversation.objects.filter(organization=org).exists()


def test_a_mention_and_the_threads_the_town_wrote_in_are(org: Any, watched: Thread) -> None:
    mention = watched.say("alice", "@mairie le lampadaire est éteint", kind="mention")
    watched.say("alice", "Toujours rien ce soir", mention)
    post = watched.post("Fermeture de la piscine lundi.")  # the town's post, found by the watch
    watched.say("bruno", "Pourquoi ?", post)
    news = watched.say("journal", "Travaux du pont : la circulation déviée")
    news.kind = "post"
    news.save()
    question = watched.say("chloe", "Jusqu'à quand ?", news)
    answer = watched.answer("Jusqu'au 15 décembre.", question)  # the town wrote in the thread
    watched.say("chloe", "Merci !", answer)
    watched.say("david", "Et le bus 12 ?", news)  # another comment there: not the town's part
    services.attach_new_items(org)
    assert _roots(org) == {"@mairie le lampadaire est éteint", "Pourquoi ?", "Jusqu'à quand ?"}
    conversation = Conversation.objects.get(organization=org, root__text__startswith="@mairie")
    assert conversation.items.count() == 2


def test_an_account_that_verified_its_id_is_the_organization_not_the_posts_it_listens_to(
    org: Any,
) -> None:
    """A Mastodon account also listening to a hashtag brings others' public posts as posts:
    their authors are not the organization — the account the platform confirmed is."""
    mastodon = Source.objects.create(
        organization=org, name="Mastodon", platform="mastodon", cursor={"account_id": "109"}
    )
    listened = Thread(org, mastodon)
    listened.town = listened._author("109")  # the account's own statuses
    listened.post("Collecte des sapins samedi #SaintAubin")
    other = listened.say("journal", "Festival ce week-end #SaintAubin")
    other.kind = "post"
    other.save()
    comment = listened.say("alice", "Merci pour l'info", other)
    listened.say("journal", "Avec plaisir !", comment)  # not the organization answering
    own = services.own_author_ids(org)
    assert own == {listened.town.pk}
    # A page that does not know its own id: whoever publishes its posts is the organization.
    page = Source.objects.create(organization=org, name="Page", platform="facebook")
    Thread(org, page).post("Conseil municipal jeudi")
    assert len(services.own_author_ids(org)) == 2


def test_a_telegram_source_listing_others_channels_knows_its_own_by_its_setting(
    org: Any,
) -> None:
    telegram = Source.objects.create(
        organization=org,
        name="Telegram",
        platform="telegram",
        settings={"channels": "mairie_saint_aubin, journal_local", "method": "api"},
    )
    listened = Thread(org, telegram)
    listened.town = listened._author("mairie_saint_aubin")  # a channel's id is its username
    listened.post("Collecte des encombrants mardi")
    other = listened.say("journal_local", "Le conseil a voté le budget")
    other.kind = "post"
    other.save()
    # Without saying which channel is its own, every listed channel's posts are taken for it.
    assert len(services.own_author_ids(org)) == 2
    telegram.settings["own_channel"] = "https://t.me/mairie_saint_aubin"
    telegram.save()
    assert services.own_author_ids(org) == {listened.town.pk}
