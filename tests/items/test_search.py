"""The inbox's search speaks the watches' query language (issue 15): whole words in any
order, accents and case ignored, phrases, exclusions, #hashtags, from:, lang:…, run by the
database over ``Item.search_text`` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from beffroi.analysis.watch_query import WatchDocument, parse
from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem
from beffroi.items.filtersets import ItemFilter
from beffroi.items.ingest import ingest
from beffroi.items.models import Item
from beffroi.items.search import SearchQueryError, backfill_search_text, search_q
from tests.web.factories import make_author, make_item

pytestmark = pytest.mark.django_db

TAP_WATER = "L'eau du robinet est contaminée à Lille. #Canicule https://www.eaux.example.org/avis"


@pytest.fixture
def corpus(org: Any, source: Any) -> dict[str, Any]:
    alice = make_author(org, "alice@piaille.fr", display_name="Alice Lefèvre")
    mairie = make_author(org, "mairie", display_name="Mairie de Lille")
    texts = {
        "tap": (alice, TAP_WATER, "fr"),
        "fittings": (mairie, "La robinetterie de l'eau chaude est changée.", "fr"),
        "robinet_only": (mairie, "Le robinet fuit, rue Solférino.", "fr"),
        "heat_word": (mairie, "La canicule arrive : buvez de l'eau.", "fr"),
        "arabic": (mairie, "الماءُ ملوّث في الحي", "ar"),
        "english": (alice, "Tap water is fine again, says the city.", "en-GB"),
    }
    return {
        name: make_item(source, author, name, text=text, language=language)
        for name, (author, text, language) in texts.items()
    }


def found(org: Any, query: str) -> set[str]:
    """The platform ids (the corpus names) the inbox's filter lists for ``query``."""
    items = Item.objects.filter(organization=org)
    result = ItemFilter({"q": query}, queryset=items)
    assert result.form.is_valid(), result.form.errors
    return set(result.qs.values_list("platform_id", flat=True))


def test_words_in_any_order_whole_words_only(org: Any, corpus: Any) -> None:
    # Not adjacent, and "robinetterie" is not the word "robinet".
    assert found(org, "eau robinet") == {"tap"}
    assert found(org, "robinet eau") == {"tap"}
    assert found(org, "robinet") == {"tap", "robinet_only"}
    assert found(org, "robin") == set()


def test_accents_and_case_ignored(org: Any, corpus: Any) -> None:
    assert found(org, "contaminee") == {"tap"}
    assert found(org, "CONTAMINÉE") == {"tap"}
    assert found(org, "Solferino") == {"robinet_only"}
    # Harakat and shadda folded away on both sides.
    assert found(org, "ملوث") == {"arabic"}
    assert found(org, "الماء") == {"arabic"}


def test_exclusions_phrases_or_and_wildcards(org: Any, corpus: Any) -> None:
    assert found(org, "eau -robinet") == {"fittings", "heat_word"}
    assert found(org, "eau NOT robinet") == {"fittings", "heat_word"}
    assert found(org, "eau SAUF robinet") == {"fittings", "heat_word"}
    assert found(org, '"eau du robinet"') == {"tap"}
    assert found(org, '"robinet du eau"') == set()
    assert found(org, "fuit OR chaude") == {"robinet_only", "fittings"}
    assert found(org, "(fuit OU chaude) eau") == {"fittings"}
    assert found(org, "robinet*") == {"tap", "fittings", "robinet_only"}
    assert found(org, '"eau du rob*"') == {"tap"}


def test_hashtags_authors_languages_platforms_domains(org: Any, corpus: Any) -> None:
    # The hashtag, not the plain word; the plain word finds both.
    assert found(org, "#canicule") == {"tap"}
    assert found(org, "canicule") == {"tap", "heat_word"}
    assert found(org, "#canic*") == {"tap"}
    # from: as watches compare it: any instance without one, that account with one.
    assert found(org, "from:alice") == {"tap", "english"}
    assert found(org, "@ALICE@piaille.fr") == {"tap", "english"}
    assert found(org, "from:alice@other.social") == set()
    assert found(org, "from:mairie -robinet*") == {"heat_word", "arabic"}
    assert found(org, "lang:ar") == {"arabic"}
    assert found(org, "lang:en") == {"english"}  # en-GB is English
    assert found(org, "platform:file lang:ar") == {"arabic"}
    assert found(org, "platform:bluesky") == set()
    assert found(org, "domain:example.org") == {"tap"}
    assert found(org, "domain:eaux.example.org") == {"tap"}
    assert found(org, "domain:www.example.org") == {"tap"}
    assert found(org, "domain:ample.org") == set()
    assert found(org, "domain:piaille.fr") == set()  # the author's instance is no link


def test_author_name_and_handle_still_found_as_before(org: Any, corpus: Any) -> None:
    # The inbox always found an author's posts by their name or handle.
    assert found(org, "lefevre") == {"tap", "english"}
    assert found(org, "piaille.fr") == {"tap", "english"}
    # A phrase never runs from the text into the author's name.
    assert found(org, '"city alice"') == set()


@pytest.mark.parametrize(
    "query",
    [
        "eau robinet",
        "eau OR fuit",
        "(eau OR fuit) -chaude",
        '"eau du" OR "tap water"',
        "rob* -robinetterie",
        "#canicule OR water",
        "from:alice eau",
        "from:mairie OR lang:en",
        "lang:fr -eau",
        "domain:example.org OR ملوث",
        "NOT (eau OR fuit) platform:file",
    ],
)
def test_database_finds_what_the_watch_matcher_finds(org: Any, corpus: Any, query: str) -> None:
    # None of these words is in an author's name: the inbox and a watch agree item by item.
    parsed = parse(query)
    expected = {
        item.platform_id
        for item in Item.objects.filter(organization=org).select_related("author")
        if parsed.matches(
            WatchDocument(
                text=item.text_as_read,
                author_handle=item.author.handle,
                language=item.language,
                platform=item.platform,
                urls=tuple(item.urls),
            )
        )
    }
    assert expected  # each query finds something
    assert found(org, query) == expected


def test_like_wildcards_are_plain_characters(org: Any, source: Any) -> None:
    # "_" is a word character, and a wildcard of LIKE: it only matches itself.
    author = make_author(org, "dev")
    make_item(source, author, "snake", text="snake_case et 100%")
    make_item(source, author, "camel", text="snakeXcase et 1000")
    assert found(org, "snake_case") == {"snake"}
    assert found(org, "snake_*") == {"snake"}
    assert found(org, '"et 100"') == {"snake"}


def test_other_organizations_items_never_listed(org: Any, other_org: Any, corpus: Any) -> None:
    from beffroi.sources.models import Source

    foreign = Source.objects.create(organization=other_org, name="X", platform="file")
    stranger = make_author(other_org, "stranger")
    make_item(foreign, stranger, "foreign", text="L'eau du robinet est contaminée ici aussi")
    assert found(org, "eau robinet") == {"tap"}
    assert found(org, "from:stranger") == set()


def test_malformed_query_raises_a_translated_error() -> None:
    with translation.override("en"), pytest.raises(SearchQueryError) as caught:
        search_q('"eau potable')
    assert caught.value.error.code == "unclosed_quote"
    assert caught.value.message == "This quote is never closed. (at character 1)"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This quote is never closed. (at character 5)"),
        ("fr", "Ce guillemet n’est jamais fermé. (au caractère 5)"),
    ],
)
def test_inbox_shows_a_malformed_query_by_the_field(
    org: Any, corpus: Any, make_user: Any, verified_client: Any, language: str, message: str
) -> None:
    client = verified_client(make_user("agent", org=org, role="viewer"))
    client.cookies["django_language"] = language
    url = reverse("items:inbox", args=[org.slug])
    page = client.get(url, {"q": 'eau "robinet'})
    assert page.status_code == 200
    body = page.content.decode()
    assert message in body
    assert 'id="search-errors"' in body
    assert TAP_WATER[:20] not in body  # nothing listed under an unreadable search
    # The live search (htmx) swaps the error in beside the field with the results.
    partial = client.get(url, {"q": "eau OR"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert 'id="search-errors" hx-swap-oob="innerHTML"' in partial.content.decode()
    expected = "after “OR”" if language == "en" else "après « OR »"
    assert expected in partial.content.decode()
    # A readable search lists what it finds, without an error.
    good = client.get(url, {"q": "contaminee"})
    assert "errorlist" not in good.content.decode()
    assert "contaminée à Lille" in good.content.decode()


def test_api_speaks_the_same_language(org: Any, corpus: Any, make_user: Any, client: Any) -> None:
    from beffroi.accounts.models import ApiToken

    _, key = ApiToken.issue(make_user("robot", org=org, role="viewer"), "test")
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/orgs/{org.slug}/items"
    listed = client.get(url, {"q": "contaminee eau"}, headers=headers)
    assert listed.status_code == 200
    assert [row["platform_id"] for row in listed.json()["items"]] == ["tap"]
    refused = client.get(url, {"q": "eau AND"}, headers=headers)
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["query", "q"]
    assert 'Expected a word or phrase after "AND". (at character 5)' in problem["msg"]


def test_ingestion_writes_the_words(org: Any, source: Any) -> None:
    item = NormalizedItem(
        platform_id="n1",
        kind=ItemKind.POST,
        text="Coupure d'EAU prévue #Travaux",
        created_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        author=NormalizedAuthor(platform_id="7", handle="Camille", display_name="Camille Dubois"),
        language="fr",
    )
    ingest(source, [item])
    stored = Item.objects.get(platform_id="n1")
    assert stored.search_text == (
        " coupure d eau prevue travaux | #travaux | camille dubois camille @camille @camille@ |  "
    )
    assert found(org, "prevue eau #travaux dubois") == {"n1"}


def test_saving_and_renaming_keep_the_words(org: Any, corpus: Any) -> None:
    item = corpus["robinet_only"]
    item.text = "La fontaine coule."
    item.save()
    assert found(org, "fontaine") == {"robinet_only"}
    mairie = item.author
    mairie.display_name = "Hôtel de Ville"
    mairie.save()
    assert found(org, "hotel ville") == {"fittings", "robinet_only", "heat_word", "arabic"}
    assert found(org, "lille -eau") == set()


def test_backfill_writes_every_row(org: Any, corpus: Any) -> None:
    from django.db.migrations.loader import MigrationLoader

    Item.objects.update(search_text="")
    assert found(org, "contaminee") == set()
    # The migration's function runs on the historical model, by batches.
    state = MigrationLoader(connection).project_state(("items", "0006_item_search_text"))
    written = backfill_search_text(state.apps.get_model("items", "Item"), batch_size=4)
    assert written == len(corpus)
    assert found(org, "contaminee") == {"tap"}
    assert found(org, "#canicule from:alice domain:example.org") == {"tap"}
    assert not Item.objects.filter(search_text="").exists()


@pytest.mark.postgres
def test_same_results_on_postgresql(org: Any, corpus: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…, as `make test` does)")
    # PostgreSQL's LIKE is case-sensitive, and % and _ are wildcards: both are handled.
    assert found(org, "EAU robinet") == {"tap"}
    assert found(org, "CONTAMINÉE -fuit") == {"tap"}
    assert found(org, "ملوث lang:ar") == {"arabic"}
    assert found(org, "from:ALICE #Canicule") == {"tap"}
    assert found(org, "robinet*") == {"tap", "fittings", "robinet_only"}
    assert found(org, "lang:EN") == {"english"}
