"""Drafting a reply with a language model, against a loopback OpenAI-compatible server: off by
default; a grounded draft accepted with its citations; a fabricated figure, name or link, or a
draft the organization's moderation would flag, rejected with why; every failure of the
endpoint said in words; the key encrypted at rest and never in the logs nor the audit trail;
the pages, who may open them, another organization's item, both languages."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from beffroi.analysis.counterspeech import drafting as library
from beffroi.audit.models import AuditEvent
from beffroi.counterspeech import drafting, services
from beffroi.counterspeech.models import Entry, LibrarySettings, SourceSnapshot
from beffroi.counterspeech.services import LibraryError
from tests.counterspeech.conftest import Desk, entry_data
from tests.fakes.openai_chat_server import DEFAULT_MODEL, FakeChatServer

pytestmark = pytest.mark.django_db

KEY = "sk-proj-drafting-5f1d0c7e9a4b2d8c"
POST = "L'eau du robinet est empoisonnée par la mairie, personne ne la contrôle !"
PAGE = (
    "Qualité de l'eau potable\n\nEn 2025, l'Agence régionale de santé (ARS) a réalisé "
    "1 200 prélèvements à Saint-Aubin : 99,5 % étaient conformes.\n\nHoraires de la mairie."
)
GROUNDED = (
    "L'eau du robinet est contrôlée chaque semaine et les résultats sont publics [1]. "
    "En 2025, l'ARS a réalisé 1 200 prélèvements : 99,5 % étaient conformes [2]."
)


@pytest.fixture
def llm() -> Iterator[FakeChatServer]:
    with FakeChatServer(api_key=KEY, reply=GROUNDED) as server:
        yield server


def _approved(desk: Desk, **overrides: Any) -> Entry:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=True)
    entry = services.approve(desk.ctx(desk.approver), entry, seen_hash=entry.content_hash)
    source = entry.sources.get()
    SourceSnapshot.objects.create(source=source, sha256="a" * 64, size_bytes=len(PAGE), text=PAGE)
    return entry


def _item(org: Any, source: Any, text: str = POST) -> Any:
    from beffroi.items.models import Author, Item

    author, _created = Author.objects.get_or_create(
        organization=org, platform="file", platform_id="a1", defaults={"handle": "jean_du_77"}
    )
    return Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id=f"c{Item.objects.count() + 1}",
        kind="comment",
        author=author,
        text=text,
        language="fr",
        created_at=timezone.now(),
    )


def _turn_on(desk: Desk, server: FakeChatServer, key: str = KEY) -> LibrarySettings:
    return drafting.save_settings(
        desk.ctx(desk.admin),
        enabled=True,
        endpoint=f"{server.base_url}/v1",
        model=DEFAULT_MODEL,
        max_characters=400,
        api_key=key,
    )


@pytest.fixture
def ready(desk: Desk, llm: FakeChatServer, source: Any) -> tuple[Entry, Any]:
    _turn_on(desk, llm)
    return _approved(desk), _item(desk.org, source)


def _draft(desk: Desk, item: Any, entry: Entry, language: str = "fr") -> drafting.DraftOutcome:
    return drafting.draft_for(desk.ctx(desk.writer), item, [entry], language)


def _drafts() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="counter_speech.draft").order_by("id"))


# --- off by default ---------------------------------------------------------------------------


def test_drafting_is_off_by_default_and_says_who_turns_it_on(
    desk: Desk, llm: FakeChatServer, source: Any
) -> None:
    entry, item = _approved(desk), _item(desk.org, source)
    with pytest.raises(LibraryError) as refused:
        _draft(desk, item, entry)
    assert refused.value.code == "drafting_off"
    assert "administrator" in str(refused.value) and "Drafting" in str(refused.value)
    assert llm.requests == [] and _drafts() == []
    assert LibrarySettings._meta.get_field("drafting_enabled").default is False


# --- a draft and its checks -------------------------------------------------------------------


def test_a_grounded_draft_is_accepted_with_its_citations(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any]
) -> None:
    entry, item = ready
    outcome = _draft(desk, item, entry)
    assert outcome.accepted and outcome.problems == [] and outcome.text == GROUNDED
    assert outcome.model == DEFAULT_MODEL and outcome.moderation_checked is False
    assert [(c.number, c.entry, c.source) for c in outcome.citations] == [
        (1, entry, None),
        (2, entry, entry.sources.get()),
    ]
    # What the model was given: the post, the entry in the language asked, its page.
    (request,) = llm.chats()
    assert request.authorization == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == DEFAULT_MODEL
    system, user = body["messages"]
    assert system["role"] == "system" and "French (ISO 639-1 code: fr)" in system["content"]
    assert "At most 400 characters" in system["content"] and "[1], [2]" in system["content"]
    assert POST in user["content"]
    assert "[1] Eau du robinet\nL'eau du robinet est contrôlée" in user["content"]
    assert "[2] Qualité de l'eau — https://www.example.org/qualite-eau" in user["content"]
    assert "1 200 prélèvements" in user["content"]
    assert "jean_du_77" not in json.dumps(body)  # never the author
    (event,) = _drafts()
    assert event.object_id == str(item.pk) and event.organization == desk.org
    assert event.after["outcome"] == "accepted" and event.after["cited"] == [1, 2]
    assert event.after["entries"] == [entry.key] and "text" not in event.after


def test_a_fabricated_number_is_rejected_and_the_draft_still_shown(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any]
) -> None:
    entry, item = ready
    llm.reply = "L'eau est contrôlée : 97 % des prélèvements étaient conformes en 2025 [2]."
    outcome = _draft(desk, item, entry)
    assert not outcome.accepted and outcome.text == llm.reply
    assert outcome.problems == ["The figure “97” is in none of its sources."]
    assert _drafts()[-1].after["outcome"] == "rejected"
    assert _drafts()[-1].after["problems"] == ["number"]


def test_a_name_or_link_not_in_the_sources_is_rejected(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any]
) -> None:
    entry, item = ready
    llm.reply = (
        "Selon le professeur Martin Leblanc, l'eau est contrôlée [1]. "
        "Voir https://eau-info.example.org/rapport [2]."
    )
    outcome = _draft(desk, item, entry)
    assert outcome.problems == [
        "The address “https://eau-info.example.org/rapport” is in none of its sources.",
        "The name “Martin Leblanc” is in none of its sources.",
    ]


def test_citations_it_was_not_given_or_none_at_all_are_problems(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any]
) -> None:
    entry, item = ready
    llm.reply = "L'eau est contrôlée chaque semaine [7]."
    outcome = _draft(desk, item, entry)
    assert outcome.problems == [
        "It cites [7], which is not one of its sources.",
        "It cites none of its sources.",
    ]


def test_the_organizations_moderation_flags_an_insulting_draft(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], monkeypatch: Any
) -> None:
    from beffroi.charter import services as charter_services

    # The live charter's rules judge alone: the classifier, trained on first use (a minute
    # on a fresh data directory), goes through the same call.
    monkeypatch.setattr(drafting, "model_detectors", lambda organization: [])
    charter_services.ensure_default_charter(desk.org)
    entry, item = ready
    assert _draft(desk, item, entry).moderation_checked is True
    llm.reply = "Espèce de connard, l'eau est contrôlée chaque semaine [1]."
    outcome = _draft(desk, item, entry)
    assert not outcome.accepted
    assert len(outcome.problems) == 1
    assert outcome.problems[0].startswith("The organization's moderation would ")
    assert "moderation" in _drafts()[-1].after["problems"]


def test_only_approved_entries_of_a_library_read_ground_a_draft(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], other_org: Any
) -> None:
    entry, item = ready
    draft_entry = services.create_entry(desk.ctx(desk.writer), entry_data(title="Brouillon"))
    with pytest.raises(LibraryError, match="approved entries"):
        _draft(desk, item, draft_entry)
    with pytest.raises(LibraryError, match="approved entries"):
        drafting.chosen_entries(desk.ctx(desk.writer), [entry.key, "no-such-key"])
    assert drafting.chosen_entries(desk.ctx(desk.writer), [entry.key]) == [entry]
    assert llm.chats() == []


# --- the endpoint's failures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("breaks", "code", "says"),
    [
        (lambda s: s.revoke_key(), "key_refused", "refused the API key"),
        (lambda s: s.rate_limit(retry_after="20"), "rate_limited", "try again in 20 seconds"),
        (lambda s: s.server_error(status=500), "server_error", "failed on its side"),
        (lambda s: s.malformed(b'{"id": "chatcmpl-1", "choices": [{"mess'), "malformed", "nothing"),
        (lambda s: s.malformed(b'{"object": "chat.completion", "choices": []}'), "malformed", ""),
        (lambda s: s.drop_connections(), "unreachable", "BEFFROI_ALLOWED_INTERNAL_HOSTS"),
    ],
)
def test_each_failure_of_the_endpoint_is_said_in_words(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], breaks: Any, code: str, says: str
) -> None:
    entry, item = ready
    breaks(llm)
    with pytest.raises(LibraryError) as refused:
        _draft(desk, item, entry)
    assert refused.value.code == code and says in str(refused.value)
    assert KEY not in str(refused.value)
    assert _drafts()[-1].after == {
        "entries": [entry.key],
        "language": "fr",
        "model": DEFAULT_MODEL,
        "outcome": "failed",
        "error": code,
    }


def test_an_unknown_model_and_a_slow_endpoint(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], monkeypatch: Any
) -> None:
    entry, item = ready
    LibrarySettings.objects.filter(organization=desk.org).update(drafting_model="gpt-9")
    with pytest.raises(LibraryError, match="does not know the model “gpt-9”") as refused:
        _draft(desk, item, entry)
    assert refused.value.code == "model_unknown"

    LibrarySettings.objects.filter(organization=desk.org).update(drafting_model=DEFAULT_MODEL)
    monkeypatch.setattr(library, "TIMEOUT", 0.3)
    llm.slow(1.5)
    with pytest.raises(LibraryError, match="did not answer in time") as refused:
        _draft(desk, item, entry)
    assert refused.value.code == "timeout"


def test_a_local_server_needs_the_administrators_egress_allowance(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], monkeypatch: Any
) -> None:
    entry, item = ready
    monkeypatch.setenv("BEFFROI_ALLOWED_INTERNAL_HOSTS", "")
    with pytest.raises(LibraryError, match="BEFFROI_ALLOWED_INTERNAL_HOSTS") as refused:
        _draft(desk, item, entry)
    assert refused.value.code == "unreachable"
    assert llm.requests == []  # refused before connecting


# --- the key ----------------------------------------------------------------------------------


def test_the_key_is_encrypted_at_rest_and_in_no_log_nor_audit_event(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], caplog: Any
) -> None:
    entry, item = ready
    settings = LibrarySettings.objects.get(organization=desk.org)
    assert settings.drafting_api_key == KEY
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT drafting_api_key_encrypted FROM counterspeech_librarysettings WHERE id = %s",
            [settings.pk],
        )
        (raw,) = cursor.fetchone()
    assert raw and KEY not in raw and KEY[-8:] not in raw

    caplog.set_level(logging.DEBUG)
    _draft(desk, item, entry)
    llm.revoke_key()
    with pytest.raises(LibraryError):
        _draft(desk, item, entry)
    assert KEY not in caplog.text
    events = AuditEvent.objects.filter(organization=desk.org)
    assert events.filter(action="counter_speech.drafting_settings").exists()
    for event in events:
        assert KEY not in json.dumps([event.before, event.after]), event.action


def test_the_settings_keep_replace_and_remove_the_key(desk: Desk, llm: FakeChatServer) -> None:
    ctx = desk.ctx(desk.admin)
    _turn_on(desk, llm)

    def save(**changes: Any) -> LibrarySettings:
        values: dict[str, Any] = {
            "enabled": True,
            "endpoint": f"{llm.base_url}/v1",
            "model": DEFAULT_MODEL,
            "max_characters": 400,
        }
        return drafting.save_settings(ctx, **(values | changes))

    assert save().drafting_api_key == KEY  # an empty field keeps it
    assert save(api_key="sk-new-key-0000").drafting_api_key == "sk-new-key-0000"
    assert save(clear_api_key=True).drafting_api_key_encrypted == ""
    with pytest.raises(LibraryError, match="give the endpoint's address and the model"):
        save(model="")
    with pytest.raises(LibraryError, match="http:// or https://"):
        save(endpoint="ftp://llm.example.org")
    with pytest.raises(LibraryError, match="between 100 and 5000"):
        save(max_characters=20)
    with pytest.raises(PermissionDenied):
        drafting.save_settings(desk.ctx(desk.writer), **{**_defaults(llm), "enabled": False})
    changes = AuditEvent.objects.filter(action="counter_speech.drafting_settings")
    assert [event.after.get("api_key_change", "") for event in changes.order_by("id")] == [
        "replaced",
        "replaced",
        "removed",
    ]


def _defaults(server: FakeChatServer) -> dict[str, Any]:
    return {"endpoint": f"{server.base_url}/v1", "model": DEFAULT_MODEL, "max_characters": 400}


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def verified_client(verified_client: Any) -> Any:
    def login(user: Any, language: str = "en") -> Any:
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return login


def _url(desk: Desk, name: str, pk: int | None = None) -> str:
    args: list[Any] = [desk.org.slug] if pk is None else [desk.org.slug, pk]
    return reverse(f"counterspeech:{name}", args=args)


def test_only_administrators_open_the_settings(desk: Desk, verified_client: Any) -> None:
    for role in ("writer", "moderator", "approver", "admin", "viewer"):
        response = verified_client(getattr(desk, role)).get(_url(desk, "drafting"))
        assert response.status_code == (200 if role == "admin" else 403), role
    page = verified_client(desk.writer).get(_url(desk, "library")).content.decode()
    assert _url(desk, "drafting") not in page
    page = verified_client(desk.admin).get(_url(desk, "library")).content.decode()
    assert _url(desk, "drafting") in page


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_settings_page_in_both_languages(
    desk: Desk, llm: FakeChatServer, verified_client: Any, language: str
) -> None:
    client = verified_client(desk.admin, language)
    page = client.get(_url(desk, "drafting")).content.decode()
    assert f'<html lang="{language}">' in page
    assert 'name="endpoint"' in page and 'type="password"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    response = client.post(
        _url(desk, "drafting"),
        {**_defaults(llm), "enabled": "on", "api_key": KEY},
    )
    assert response.status_code == 302
    page = client.get(_url(desk, "drafting")).content.decode()
    assert KEY not in page and f'value="{llm.base_url}/v1"' in page
    assert 'name="clear_api_key"' in page  # a key is stored: it may be removed, never shown

    response = client.post(_url(desk, "drafting_test"), follow=True)
    assert DEFAULT_MODEL in response.content.decode()
    assert len(llm.chats()) == 1


def test_a_refused_setting_is_said_on_the_form(
    desk: Desk, llm: FakeChatServer, verified_client: Any
) -> None:
    client = verified_client(desk.admin)
    response = client.post(_url(desk, "drafting"), {"enabled": "on", "max_characters": 500})
    assert response.status_code == 200
    assert "give the endpoint&#x27;s address and the model" in response.content.decode()
    assert not LibrarySettings.objects.filter(organization=desk.org, drafting_enabled=True)


def test_the_draft_fragment_shows_the_draft_its_sources_or_why_not(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], verified_client: Any
) -> None:
    entry, item = ready
    client = verified_client(desk.writer)
    data = {"entries": [entry.key], "language": "fr"}
    page = client.post(_url(desk, "draft", item.pk), data).content.decode()
    assert 'data-draft-accepted="true"' in page and "data-draft-text=" in page
    assert "1 200 prélèvements" in page and "https://www.example.org/qualite-eau" in page
    assert "data-counter-speech-use" in page

    llm.reply = "<script>alert(1)</script> 97 % des prélèvements [2]."
    page = client.post(_url(desk, "draft", item.pk), data).content.decode()
    assert 'data-draft-accepted="false"' in page and "<script>alert" not in page
    assert "cannot be used as is" in page and "97" in page
    assert "data-counter-speech-use" not in page

    llm.rate_limit()
    page = client.post(_url(desk, "draft", item.pk), data).content.decode()
    assert 'data-draft-error="rate_limited"' in page and "20 seconds" in page

    assert client.post(_url(desk, "draft", item.pk), {"language": "fr"}).status_code == 400
    assert verified_client(desk.viewer).post(_url(desk, "draft", item.pk), data).status_code == 403


def test_another_organizations_item_is_not_found(
    desk: Desk, llm: FakeChatServer, ready: tuple[Entry, Any], verified_client: Any, other_org: Any
) -> None:
    from beffroi.sources.models import Source

    entry, _item_here = ready
    elsewhere = Source.objects.create(
        organization=other_org, name="Import", platform="file", kind="import"
    )
    theirs = _item(other_org, elsewhere)
    response = verified_client(desk.writer).post(
        _url(desk, "draft", theirs.pk), {"entries": [entry.key], "language": "fr"}
    )
    assert response.status_code == 404
    assert llm.chats() == [] and _drafts() == []


# --- the sources' text ------------------------------------------------------------------------


def test_reading_a_source_keeps_its_visible_text_for_drafts(desk: Desk) -> None:
    from beffroi.counterspeech.validation import SourceData
    from tests.counterspeech.fake_pages import PagesServer

    with PagesServer() as site:
        site.pages["/eau"] = (
            "<html><head><title>Qualité de l'eau</title><style>p { color: red }</style></head>"
            "<body><p>En 2025, 1 200 prélèvements.</p><script>track()</script>"
            "<p>99,5 % conformes.</p></body></html>"
        ).encode()
        entry = services.create_entry(
            desk.ctx(desk.writer), entry_data(sources=[SourceData(site.url("/eau"), "Eau")])
        )
        source = entry.sources.get()
        assert services.take_snapshot(source.pk) == "new"
        snapshot = SourceSnapshot.objects.get(source=source)
        assert "En 2025, 1 200 prélèvements.\n\n99,5 % conformes." in snapshot.text
        assert "track()" not in snapshot.text and "color" not in snapshot.text

        # A snapshot taken before texts were kept gets its text at the next reading.
        SourceSnapshot.objects.update(text="")
        assert services.take_snapshot(source.pk) == "same"
        assert "99,5 % conformes." in SourceSnapshot.objects.get(source=source).text


def test_a_compressed_page_is_read_and_a_file_that_is_not_a_page_keeps_no_text() -> None:
    import gzip

    import httpx

    from beffroi.counterspeech.page_text import KeepingTransport
    from beffroi.counterspeech.snapshots import read_page

    class Streamed(httpx.SyncByteStream):
        """A body that streams, as a server's does (bytes given whole are read at once)."""

        def __init__(self, body: bytes) -> None:
            self.body = body

        def __iter__(self) -> Iterator[bytes]:
            yield self.body[:10]
            yield self.body[10:]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rapport.pdf":
            pdf = {"content-type": "application/pdf"}
            return httpx.Response(200, headers=pdf, stream=Streamed(b"%PDF-1.7"))
        body = gzip.compress("<p>Eau conforme à 99,5 %</p>".encode())
        headers = {"content-type": "text/html; charset=utf-8", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, stream=Streamed(body))

    keeper = KeepingTransport(httpx.MockTransport(answer))
    read_page("https://www.example.org/eau", transport=keeper)
    assert keeper.text() == "Eau conforme à 99,5 %"
    read_page("https://www.example.org/rapport.pdf", transport=keeper)
    assert keeper.text() == ""
