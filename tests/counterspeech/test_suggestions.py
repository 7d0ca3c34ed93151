"""Suggestions where hate and hoaxes appear: which entries come (approved, within their dates,
own or subscribed), in what order and why, on which pages and for whom, and the reply that
begins as an entry — edited, sent by a person, counted as a use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conversations.conftest import Thread
from tests.counterspeech.conftest import Desk, entry_data

pytestmark = pytest.mark.django_db

MIGRANTS = (
    "Les personnes migrantes ne volent le travail de personne : elles occupent surtout des "
    "métiers où l'on manque de bras, et paient leurs cotisations comme tout le monde."
)
LGBT = (
    "Aimer une personne du même sexe n'est ni une maladie ni une menace pour les enfants. "
    "Chacun a le droit de vivre et d'aimer en sécurité dans notre ville."
)
WOMEN = (
    "Insulting a woman for speaking in public is not an opinion, it is intimidation. Women "
    "elected by the town are doing the job they were chosen for."
)
WATER = (
    "L'eau du robinet de la ville n'est pas empoisonnée : elle est contrôlée chaque semaine "
    "par l'agence régionale de santé, et les analyses sont publiques."
)


@pytest.fixture(autouse=True)
def _fresh_indexes() -> Any:
    from beffroi.counterspeech.suggesting import forget_indexes

    forget_indexes(on_disk=True)
    yield
    forget_indexes(on_disk=True)


def _approved(desk: Desk, **overrides: Any) -> Any:
    from beffroi.counterspeech import services

    entry = services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=True)
    return services.approve(desk.ctx(desk.approver), entry)


@pytest.fixture
def library(desk: Desk) -> dict[str, Any]:
    """Four approved entries, a draft and an entry whose dates are over."""
    from beffroi.counterspeech import services

    entries = {
        "migrants": _approved(
            desk,
            title="Migrants et travail",
            targets=["migrants"],
            texts=[("fr", MIGRANTS), ("en", "Migrants do not steal anyone's job.")],
            sources=[],
        ),
        "lgbt": _approved(
            desk, title="Aimer n'est pas une menace", targets=["lgbt"], texts=[("fr", LGBT)]
        ),
        "women": _approved(
            desk,
            title="Women in public life",
            strategy="denouncing",
            targets=["women"],
            texts=[("en", WOMEN)],
        ),
        "water": _approved(desk, title="Eau contrôlée", targets=["other"], texts=[("fr", WATER)]),
    }
    services.create_entry(
        desk.ctx(desk.writer),
        entry_data(title="Brouillon migrants", targets=["migrants"], texts=[("fr", MIGRANTS)]),
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    _approved(
        desk,
        title="Chiffre périmé",
        targets=["migrants"],
        texts=[("fr", MIGRANTS + " En 2019, 12 % des emplois.")],
        valid_from=yesterday - timedelta(days=30),
        valid_until=yesterday,
    )
    return entries


@pytest.fixture
def thread(desk: Desk) -> Thread:
    from beffroi.sources.models import Source

    page = Source.objects.create(
        organization=desk.org, name="Page", platform="facebook", settings={"page_id": "1"}
    )
    return Thread(desk.org, page)


def _hateful(thread: Thread, text: str, category: str = "hate") -> Any:
    item = thread.say("raoul", text, thread.post())
    item.analysis = {"verdict": "review", "category": category, "score": 0.9}
    item.save(update_fields=["analysis"])
    return item


def test_a_hateful_comment_gets_the_entry_for_the_group_it_attacks(
    desk: Desk, library: dict[str, Any], thread: Thread
) -> None:
    from beffroi.counterspeech.suggesting import suggest

    item = _hateful(thread, "Ces migrants viennent voler notre travail, dehors !")
    suggestions = suggest(desk.org, item)
    titles = [suggestion.entry.title for suggestion in suggestions]
    assert titles[0] == "Migrants et travail"
    # Approved and within their dates only: the draft and the outdated figure never come.
    assert "Brouillon migrants" not in titles and "Chiffre périmé" not in titles
    first = suggestions[0]
    assert first.language == "fr" and first.text == MIGRANTS
    assert "in the author's language" in first.why
    assert any(reason.startswith("defends the group the post attacks") for reason in first.why)
    assert first.ref == f"counter-speech:{first.entry.key}"


def test_an_english_post_is_answered_from_a_french_only_library(
    desk: Desk, library: dict[str, Any], thread: Thread
) -> None:
    from beffroi.counterspeech.suggesting import suggest

    item = _hateful(thread, "Gays should stay away from our children, it is disgusting.")
    item.language = "en"
    item.save(update_fields=["language"])
    suggestions = suggest(desk.org, item)
    assert suggestions[0].entry.title == "Aimer n'est pas une menace"
    # The only text the entry has, said in its language.
    assert suggestions[0].language == "fr"


def test_an_entry_linked_to_the_matched_claim_comes_first_and_says_so(
    desk: Desk, library: dict[str, Any], thread: Thread
) -> None:
    from beffroi.counterspeech.suggesting import suggest
    from beffroi.veille.models import CheckedClaim, ClaimMatch

    claim = CheckedClaim.objects.create(
        organization=desk.org, key="eau", statement="La mairie empoisonne l'eau du robinet"
    )
    library["water"].claims.add(claim)
    item = thread.say("raoul", "Ils mettent du poison dans l'eau, ne la buvez plus", None)
    ClaimMatch.objects.create(organization=desk.org, item=item, claim=claim, similarity=0.9)
    suggestions = suggest(desk.org, item)
    assert suggestions[0].entry == library["water"] and suggestions[0].linked
    assert suggestions[0].why[0].startswith("answers the checked claim")


def test_ordinary_messages_get_no_panel_and_an_empty_library_says_so(
    desk: Desk, thread: Thread, verified_client: Any
) -> None:
    from beffroi.core.panels import item_panels
    from beffroi.counterspeech.suggesting import needs_counter_speech

    ordinary = thread.say("alice", "Le lampadaire de la rue des Écoles est éteint", thread.post())
    assert not needs_counter_speech(ordinary)
    hateful = _hateful(thread, "Ces migrants viennent voler notre travail")
    client = verified_client(desk.writer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("items:item", args=[desk.org.slug, ordinary.pk]))
    assert b"Counter-speech to answer with" not in page.content
    page = client.get(reverse("items:item", args=[desk.org.slug, hateful.pk]))
    assert b"The library has no approved entry to suggest for this message yet." in page.content
    with pytest.raises(ValueError):
        item_panels(page.wsgi_request, hateful, "elsewhere")


def test_subscribed_entries_are_suggested_until_the_subscription_ends(
    desk: Desk, cell: Desk, thread: Thread
) -> None:
    from beffroi.counterspeech import services
    from beffroi.counterspeech.suggesting import suggest

    shared = _approved(
        cell, title="Réponse nationale", targets=["migrants"], texts=[("fr", MIGRANTS)]
    )
    services.publish_library(cell.ctx(cell.admin), "Cellule nationale")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    item = _hateful(thread, "Les migrants volent notre travail")
    assert [s.entry for s in suggest(desk.org, item)] == [shared]
    services.unsubscribe(desk.ctx(desk.admin), cell.org)
    assert suggest(desk.org, item) == []


def _conversation_of(desk: Desk, item: Any) -> Any:
    from beffroi.conversations.models import Conversation
    from beffroi.conversations.services import attach_new_items

    attach_new_items(desk.org)
    return Conversation.objects.get(organization=desk.org, items=item)


def test_from_a_case_the_entry_opens_in_the_conversation_reply_box_and_counts_once_sent(
    desk: Desk,
    library: dict[str, Any],
    thread: Thread,
    verified_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from beffroi.conversations.models import Reply
    from beffroi.moderation.models import Case

    item = _hateful(thread, "Ces migrants viennent voler notre travail <b>dehors</b> !")
    conversation = _conversation_of(desk, item)
    case = Case.objects.create(organization=desk.org, item=item, category="hate")
    moderator = verified_client(desk.moderator)
    moderator.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = moderator.get(reverse("moderation:case", args=[desk.org.slug, case.pk]))
    html = page.content.decode()
    assert "Counter-speech to answer with" in html
    entry = library["migrants"]
    detail = reverse("conversations:detail", args=[desk.org.slug, conversation.pk])
    answer = f"{detail}?draft=counter-speech%3A{entry.key}&amp;lang=fr#reply"
    assert answer in html and 'aria-keyshortcuts="c"' in html
    # The conversation's reply box opens with the entry's text, to be edited: nothing sent.
    client = verified_client(desk.writer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"{detail}?draft=counter-speech:{entry.key}&lang=fr")
    html = page.content.decode()
    assert "Nothing is sent until you do." in html
    form = page.context["reply_form"]
    assert form.initial["text"] == MIGRANTS
    assert form.initial["drafted_from"] == f"counter-speech:{entry.key}"
    assert not Reply.objects.exists()
    edited = MIGRANTS.replace("Les personnes", "Monsieur, les personnes")
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            reverse("conversations:reply", args=[desk.org.slug, conversation.pk]),
            {"text": edited, "key": "k-1", "drafted_from": f"counter-speech:{entry.key}"},
        )
    reply = Reply.objects.get()
    assert reply.text == edited and reply.drafted_from == f"counter-speech:{entry.key}"
    entry.refresh_from_db()
    assert entry.use_count == 1
    assert list(entry.uses.values_list("item", "user")) == [(reply.item_id, desk.writer.pk)]


def test_a_reply_naming_an_unreadable_entry_counts_nothing(
    desk: Desk, cell: Desk, thread: Thread, verified_client: Any
) -> None:
    from beffroi.conversations.models import Reply

    foreign = _approved(cell, title="Pas partagée", texts=[("fr", MIGRANTS)])
    item = _hateful(thread, "Les migrants volent notre travail")
    conversation = _conversation_of(desk, item)
    client = verified_client(desk.writer)
    detail = reverse("conversations:detail", args=[desk.org.slug, conversation.pk])
    page = client.get(f"{detail}?draft=counter-speech:{foreign.key}")
    assert "text" not in page.context["reply_form"].initial
    client.post(
        reverse("conversations:reply", args=[desk.org.slug, conversation.pk]),
        {"text": "Bonjour", "key": "k-2", "drafted_from": f"counter-speech:{foreign.key}"},
    )
    assert Reply.objects.get().drafted_from == ""
    foreign.refresh_from_db()
    assert foreign.use_count == 0


def test_without_a_conversation_the_entry_opens_a_counter_speech_post(
    desk: Desk, library: dict[str, Any], thread: Thread, verified_client: Any
) -> None:
    item = _hateful(thread, "Ces migrants viennent voler notre travail")
    client = verified_client(desk.writer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("items:item", args=[desk.org.slug, item.pk]))
    entry = library["migrants"]
    create = reverse("publishing:create", args=[desk.org.slug])
    link = f"{create}?counter_speech={item.pk}&amp;draft=counter-speech%3A{entry.key}&amp;lang=fr"
    assert link in page.content.decode()
    composer = client.get(link.replace("&amp;", "&"))
    assert composer.context["form"].initial["main_text"] == MIGRANTS
    assert composer.context["answered"] == item


def test_the_panel_is_for_those_who_answer_and_escapes_the_library(
    desk: Desk, thread: Thread, verified_client: Any
) -> None:
    _approved(
        desk, title="<i>titre</i>", targets=["migrants"], texts=[("fr", "<script>x()</script>")]
    )
    item = _hateful(thread, "Les migrants volent notre travail")
    url = reverse("items:item", args=[desk.org.slug, item.pk])
    writer = verified_client(desk.writer).get(url).content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in writer and "<script>x()" not in writer
    assert "&lt;i&gt;titre&lt;/i&gt;" in writer
    viewer = verified_client(desk.viewer).get(url).content.decode()
    assert "counter-speech-suggestions" not in viewer


def test_suggestions_in_french(
    desk: Desk, library: dict[str, Any], thread: Thread, verified_client: Any
) -> None:
    item = _hateful(thread, "Les migrants volent notre travail")
    client = verified_client(desk.writer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    html = client.get(reverse("items:item", args=[desk.org.slug, item.pk])).content.decode()
    assert "Contre-discours pour répondre" in html and "Répondre avec" in html


def test_the_index_is_built_once_per_state_of_the_library_and_read_back_from_disk(
    desk: Desk, library: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.counterspeech import services, suggesting

    first = suggesting.library_index(desk.org)
    assert suggesting.library_index(desk.org) is first
    # Another process (or a restart): read from the data directory, not built again.
    suggesting.forget_indexes()

    def no_build(organization: Any) -> Any:
        raise AssertionError("built again")

    monkeypatch.setattr(suggesting, "_build", no_build)
    again = suggesting.library_index(desk.org)
    assert again is not None and len(again.entries) == len(first.entries)
    # A change of the library (an entry retired) is a new state: built again.
    services.retire(desk.ctx(desk.approver), library["women"], "obsolète")
    with pytest.raises(AssertionError, match="built again"):
        suggesting.library_index(desk.org)


def test_a_moderator_who_writes_no_posts_is_offered_no_post_and_drafting_shows_where_it_can(
    desk: Desk, library: dict[str, Any], thread: Thread, verified_client: Any
) -> None:
    from beffroi.counterspeech.models import LibrarySettings

    item = _hateful(thread, "Ces migrants viennent voler notre travail")
    moderator = verified_client(desk.moderator)
    moderator.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = moderator.get(reverse("items:item", args=[desk.org.slug, item.pk])).content.decode()
    assert "Counter-speech to answer with" in html
    assert reverse("publishing:create", args=[desk.org.slug]) not in html
    assert "No conversation holds this message" in html
    # Drafting by a language model is offered in a conversation, once the organization turned
    # it on (tests/counterspeech/test_drafting.py drafts).
    conversation = _conversation_of(desk, item)
    detail = reverse("conversations:detail", args=[desk.org.slug, conversation.pk])
    draft = reverse("counterspeech:draft", args=[desk.org.slug, item.pk])
    assert draft not in moderator.get(detail).content.decode()
    LibrarySettings.objects.update_or_create(
        organization=desk.org, defaults={"drafting_enabled": True}
    )
    html = moderator.get(detail).content.decode()
    assert f'hx-post="{draft}"' in html
    assert f'name="entries" value="{library["migrants"].key}"' in html
