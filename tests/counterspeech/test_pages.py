"""The library's pages: who may open what, another organization's entries, a subscriber's
read-only view, the entry form's round trip, the import's refusals, the exports, and both
languages."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.counterspeech.conftest import Desk, entry_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified_client(verified_client: Any) -> Any:
    """The signed-in client, reading the pages in English (the project's default is French;
    both languages are read in ``test_pages_in_both_languages``)."""

    def login(user: Any) -> Any:
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


def _url(desk: Desk, name: str, pk: int | None = None) -> str:
    args: list[Any] = [desk.org.slug] if pk is None else [desk.org.slug, pk]
    return reverse(f"counterspeech:{name}", args=args)


def _entry(desk: Desk, *, submit: bool = False, **overrides: Any) -> Any:
    from beffroi.counterspeech import services

    return services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=submit)


def _approved(desk: Desk, **overrides: Any) -> Any:
    from beffroi.counterspeech import services

    entry = _entry(desk, submit=True, **overrides)
    return services.approve(desk.ctx(desk.approver), entry)


def _shared(cell: Desk, town: Desk, **overrides: Any) -> Any:
    """An approved entry of the cell's library, which the town subscribes to."""
    from beffroi.counterspeech import services

    entry = _approved(cell, **overrides)
    services.publish_library(cell.ctx(cell.admin), "Cellule nationale")
    services.subscribe(town.ctx(town.admin), cell.org)
    return entry


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("library", {"writer", "moderator", "approver", "admin", "viewer"}),
        ("create", {"writer", "moderator", "admin"}),
        ("sharing", {"admin"}),
    ],
)
def test_each_page_answers_who_may_and_refuses_the_others(
    desk: Desk, verified_client: Any, name: str, allowed: set[str]
) -> None:
    for role in ("writer", "moderator", "approver", "admin", "viewer"):
        client = verified_client(getattr(desk, role))
        response = client.get(_url(desk, name))
        assert response.status_code == (200 if role in allowed else 403), (name, role)


def test_entry_page_and_actions_follow_the_state_and_the_role(
    desk: Desk, verified_client: Any
) -> None:
    draft = _entry(desk)
    writer_page = _html(verified_client(desk.writer).get(_url(desk, "detail", draft.pk)))
    assert _url(desk, "submit", draft.pk) in writer_page
    assert _url(desk, "edit", draft.pk) in writer_page
    assert _url(desk, "retire", draft.pk) not in writer_page
    viewer_page = _html(verified_client(desk.viewer).get(_url(desk, "detail", draft.pk)))
    for action in ("submit", "edit", "approve", "send_back", "retire"):
        assert _url(desk, action, draft.pk) not in viewer_page, action
    assert verified_client(desk.viewer).post(_url(desk, "submit", draft.pk)).status_code == 403

    client = verified_client(desk.writer)
    assert client.post(_url(desk, "submit", draft.pk)).status_code == 302
    draft.refresh_from_db()
    assert draft.state == "in_review"
    # The author may not approve: the page says why, and offers no approval.
    approver_page = _html(verified_client(desk.approver).get(_url(desk, "detail", draft.pk)))
    assert _url(desk, "approve", draft.pk) in approver_page
    admin = verified_client(desk.admin)  # one client: the last login is the one used
    response = admin.post(_url(desk, "approve", draft.pk), {"seen_hash": draft.content_hash})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "approved" and draft.approver == desk.admin
    page = _html(admin.get(_url(desk, "detail", draft.pk)))
    assert "Approved by town-admin" in page
    assert admin.post(_url(desk, "retire", draft.pk), {"reason": "Chiffres anciens"}).status_code
    draft.refresh_from_db()
    assert draft.state == "retired" and draft.state_reason == "Chiffres anciens"


def test_send_back_needs_a_comment_and_reaches_the_author(desk: Desk, verified_client: Any) -> None:
    entry = _entry(desk, submit=True)
    client = verified_client(desk.approver)
    client.post(_url(desk, "send_back", entry.pk), {"comment": ""})
    entry.refresh_from_db()
    assert entry.state == "in_review"
    client.post(_url(desk, "send_back", entry.pk), {"comment": "Citer la source officielle"})
    entry.refresh_from_db()
    assert entry.state == "draft" and entry.state_reason == "Citer la source officielle"
    page = _html(verified_client(desk.writer).get(_url(desk, "detail", entry.pk)))
    assert "Citer la source officielle" in page


def test_no_one_approves_what_they_wrote_from_the_page(desk: Desk, verified_client: Any) -> None:
    from beffroi.counterspeech import services

    entry = services.create_entry(desk.ctx(desk.admin), entry_data(), submit=True)
    client = verified_client(desk.admin)
    page = _html(client.get(_url(desk, "detail", entry.pk)))
    assert _url(desk, "approve", entry.pk) not in page
    assert "No one approves an entry they wrote." in page
    client.post(_url(desk, "approve", entry.pk), {"seen_hash": entry.content_hash})
    entry.refresh_from_db()
    assert entry.state == "in_review"


def test_an_entry_page_shows_sources_validity_and_history(desk: Desk, verified_client: Any) -> None:
    from beffroi.counterspeech.models import EntrySource

    yesterday = timezone.localdate() - timedelta(days=1)
    entry = _approved(desk, valid_until=yesterday, valid_from=yesterday - timedelta(days=30))
    EntrySource.objects.filter(entry=entry).update(
        sha256="b" * 64, reference_sha256="a" * 64, fetched_at=timezone.now()
    )
    page = _html(verified_client(desk.viewer).get(_url(desk, "detail", entry.pk)))
    assert "Changed since approval" in page
    assert "Out of date" in page
    assert "Corrects the message with verifiable facts" in page  # the strategy's help
    assert "Migrants" in page and "etalab" not in page.lower().split("licence")[0]
    assert "Version history" in page and "created" in page
    EntrySource.objects.filter(entry=entry).update(last_error="The page answered 404.")
    page = _html(verified_client(desk.viewer).get(_url(desk, "detail", entry.pk)))
    assert "Unreadable: The page answered 404." in page


# --- other organizations ----------------------------------------------------------------------


def test_another_organizations_entry_is_not_found(
    desk: Desk, cell: Desk, verified_client: Any
) -> None:
    theirs = _entry(cell)
    client = verified_client(desk.admin)
    for name in ("detail", "edit"):
        assert client.get(_url(desk, name, theirs.pk)).status_code == 404, name
    for name in ("submit", "approve", "send_back", "retire"):
        assert client.post(_url(desk, name, theirs.pk), {"comment": "x"}).status_code == 404
    # Nor is the organization's library opened by a member of another one.
    assert verified_client(cell.admin).get(_url(desk, "library")).status_code == 404


def test_a_subscriber_reads_the_shared_entry_read_only(
    desk: Desk, cell: Desk, verified_client: Any
) -> None:
    from beffroi.veille.models import Narrative

    narrative = Narrative.objects.create(organization=cell.org, name="Eau empoisonnée secret")
    entry = _shared(cell, desk, narratives=[narrative])
    client = verified_client(desk.admin)
    listing = _html(client.get(_url(desk, "library")))
    assert entry.title in listing and "Cellule nationale" in listing
    page = _html(client.get(_url(desk, "detail", entry.pk)))
    assert "From the library of Cellule nationale" in page
    assert "Eau empoisonnée secret" not in page  # the publisher's narratives stay theirs
    assert "<form" not in page.split('id="main"')[1].split("</main>")[0]
    for action in ("edit", "submit", "approve", "send_back", "retire"):
        assert _url(desk, action, entry.pk) not in page, action
    assert client.get(_url(desk, "edit", entry.pk)).status_code == 404
    assert client.post(_url(desk, "retire", entry.pk)).status_code == 404
    entry.refresh_from_db()
    assert entry.state == "approved"
    # The publisher sees its narrative on its own entry.
    own = _html(
        verified_client(cell.viewer).get(
            reverse("counterspeech:detail", args=[cell.org.slug, entry.pk])
        )
    )
    assert "Eau empoisonnée secret" in own


def test_sharing_publish_subscribe_and_unsubscribe(
    desk: Desk, cell: Desk, verified_client: Any
) -> None:
    from beffroi.counterspeech.models import LibrarySubscription

    cell_client = verified_client(cell.admin)
    url = reverse("counterspeech:publish", args=[cell.org.slug])
    assert (
        cell_client.post(url, {"public_name": "Cellule nationale", "description": ""}).status_code
        == 302
    )
    client = verified_client(desk.admin)
    page = _html(client.get(_url(desk, "sharing")))
    assert "Cellule nationale" in page
    client.post(_url(desk, "subscribe"), {"publisher": cell.org.pk})
    subscription = LibrarySubscription.objects.get(subscriber=desk.org)
    cell_page = _html(
        verified_client(cell.admin).get(reverse("counterspeech:sharing", args=[cell.org.slug]))
    )
    assert desk.org.name in cell_page  # its subscribers
    client = verified_client(desk.admin)
    client.post(_url(desk, "unsubscribe", subscription.pk))
    assert not LibrarySubscription.objects.filter(subscriber=desk.org).exists()
    # A library that is not shared cannot be subscribed to.
    verified_client(cell.admin).post(reverse("counterspeech:unpublish", args=[cell.org.slug]))
    client = verified_client(desk.admin)
    assert client.post(_url(desk, "subscribe"), {"publisher": cell.org.pk}).status_code == 404
    assert not LibrarySubscription.objects.filter(subscriber=desk.org).exists()


# --- the form ---------------------------------------------------------------------------------


def _form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Eau du robinet",
        "strategy": "facts",
        "tone": "calm",
        "targets": ["migrants"],
        "topics": "eau, santé",
        "licence": "etalab-2.0",
        "valid_from": "",
        "valid_until": "",
        "sources": "https://www.example.org/eau Qualité de l'eau",
        "texts-TOTAL_FORMS": "2",
        "texts-INITIAL_FORMS": "0",
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "30",
        "texts-0-language": "fr",
        "texts-0-text": "L'eau est contrôlée chaque semaine.",
        "texts-1-language": "",
        "texts-1-text": "",
    }
    data.update(overrides)
    return data


def test_the_form_round_trip(desk: Desk, verified_client: Any) -> None:
    from beffroi.counterspeech.models import Entry

    client = verified_client(desk.writer)
    response = client.post(_url(desk, "create"), _form_data())
    entry = Entry.objects.get(organization=desk.org)
    assert response.status_code == 302 and response["Location"] == _url(desk, "detail", entry.pk)
    assert entry.state == "draft" and entry.author == desk.writer
    assert entry.topics == ["eau", "santé"] and entry.targets == ["migrants"]
    assert [(s.url, s.title) for s in entry.sources.all()] == [
        ("https://www.example.org/eau", "Qualité de l'eau")
    ]
    form = _html(client.get(_url(desk, "edit", entry.pk)))
    assert "L&#x27;eau est contrôlée chaque semaine." in form and "eau, santé" in form
    changed = _form_data(
        **{
            "texts-INITIAL_FORMS": "1",
            "texts-1-language": "en",
            "texts-1-text": "Water is tested every week.",
            "reason": "English added",
        }
    )
    assert client.post(_url(desk, "edit", entry.pk), changed).status_code == 302
    entry.refresh_from_db()
    assert dict(entry.texts.values_list("language", "text")) == {
        "fr": "L'eau est contrôlée chaque semaine.",
        "en": "Water is tested every week.",
    }
    assert entry.version == 2
    assert entry.versions.get(number=2).reason == "English added"


def test_add_a_language_saves_nothing(desk: Desk, verified_client: Any) -> None:
    from beffroi.counterspeech.models import Entry

    client = verified_client(desk.writer)
    page = _html(client.post(_url(desk, "create"), _form_data(add_language="1")))
    assert 'name="texts-2-language"' in page
    assert not Entry.objects.exists()


def test_the_services_problems_are_shown_on_their_fields(desk: Desk, verified_client: Any) -> None:
    from beffroi.counterspeech.models import Entry

    client = verified_client(desk.writer)
    response = client.post(
        _url(desk, "create"),
        _form_data(
            sources="ftp://www.example.org/eau",
            **{"texts-0-language": "zz", "valid_from": "2026-05-01", "valid_until": "2026-01-01"},
        ),
    )
    page = _html(response)
    assert not Entry.objects.exists()
    assert 'id="id_sources_error"' in page
    assert 'id="id_valid_until_error"' in page
    assert "The entry&#x27;s validity ends before it begins." in page
    assert "&#x27;zz&#x27; is not a language code" in page.split('id="id_texts-0-text_error"')[1]
    empty = _html(
        client.post(
            _url(desk, "create"), _form_data(**{"texts-0-language": "", "texts-0-text": ""})
        )
    )
    assert "Write the entry&#x27;s text in at least one language." in empty


# --- import and export ------------------------------------------------------------------------


def test_import_errors_are_listed_by_row_and_column_and_nothing_is_stored(
    desk: Desk, verified_client: Any
) -> None:
    from beffroi.counterspeech.models import Entry

    body = "title,strategy,text_fr\nBon,facts,Texte\nMauvais,shouting,Texte\n"
    upload = SimpleUploadedFile("library.csv", body.encode(), content_type="text/csv")
    page = _html(verified_client(desk.admin).post(_url(desk, "import"), {"file": upload}))
    assert "Row 3, column &#x27;strategy&#x27;" in page
    assert not Entry.objects.exists()
    good = SimpleUploadedFile("library.csv", b"title,strategy,text_fr\nBon,facts,Texte\n")
    assert verified_client(desk.admin).post(_url(desk, "import"), {"file": good}).status_code == 302
    assert Entry.objects.get().title == "Bon"
    refused = verified_client(desk.writer).post(_url(desk, "import"), {"file": good})
    assert refused.status_code == 403


def test_exports_write_the_filtered_list(desk: Desk, verified_client: Any) -> None:
    _entry(desk, title="Eau du robinet")
    _entry(desk, title="Élections", strategy="empathy")
    client = verified_client(desk.viewer)
    response = client.get(_url(desk, "library"), {"format": "csv", "strategy": "empathy"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["title"] for row in rows] == ["Élections"]
    response = client.get(_url(desk, "library"), {"format": "json", "q": "Élections"})
    document = json.loads(b"".join(response.streaming_content))
    assert document["format"] == "beffroi.counter-speech"
    assert [entry["title"] for entry in document["entries"]] == ["Élections"]
    semicolons = client.get(_url(desk, "library"), {"format": "csv", "sep": "semicolon"})
    assert b"".join(semicolons.streaming_content).decode().startswith("\ufeff")


def test_the_list_filters_and_counts(desk: Desk, cell: Desk, verified_client: Any) -> None:
    _entry(desk, title="Eau du robinet")
    _shared(cell, desk, title="Discours national")
    client = verified_client(desk.viewer)
    page = _html(client.get(_url(desk, "library")))
    assert "2 entries" in page and "Discours national" in page
    own = _html(client.get(_url(desk, "library"), {"library": "own"}))
    assert "Discours national" not in own and "Eau du robinet" in own
    assert _url(desk, "create") not in own  # a viewer writes nothing
    assert _url(desk, "import") not in own


# --- both languages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "tabs"),
    [
        ("en", "Counter-speech library", "Counter-speech"),
        ("fr", "Bibliothèque de contre-discours", "Contre-discours"),
    ],
)
def test_pages_in_both_languages(
    desk: Desk, cell: Desk, verified_client: Any, language: str, title: str, tabs: str
) -> None:
    entry = _shared(cell, desk)
    own = _entry(desk)
    client = verified_client(desk.admin)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    library = _html(client.get(_url(desk, "library"), **headers))
    assert f'<html lang="{language}">' in library
    assert f"<h1>{title}</h1>" in library and f'aria-label="{tabs}"' in library
    for url in (
        _url(desk, "detail", entry.pk),
        _url(desk, "detail", own.pk),
        _url(desk, "edit", own.pk),
        _url(desk, "create"),
        _url(desk, "sharing"),
    ):
        page = _html(client.get(url, **headers))
        assert f'<html lang="{language}">' in page and f'aria-label="{tabs}"' in page, url
