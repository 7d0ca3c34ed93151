"""The query language of watches."""

from __future__ import annotations

import pytest

from beffroi.analysis.watch_query import (
    ERROR_CODES,
    Watch,
    WatchDocument,
    WatchQueryError,
    normalize,
    parse,
    prepare,
    tokenize,
)


def matches(
    query: str,
    text: str = "",
    *,
    author_handle: str = "",
    language: str = "",
    platform: str = "",
    urls: tuple[str, ...] = (),
) -> bool:
    doc = WatchDocument(text, author_handle, language, platform, urls)
    return parse(query).matches(doc)


# --- operators and precedence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("eau coupure", "Coupure d'eau rue Hugo", True),
        ("eau coupure", "Coupure de courant", False),
        ("eau AND coupure", "coupure eau", True),
        ("eau AND coupure", "eau", False),
        ("eau OR fontaine", "la fontaine", True),
        ("eau OR fontaine", "le parc", False),
        ("eau NOT piscine", "eau froide", True),
        ("eau NOT piscine", "eau de la piscine", False),
        ("eau -piscine", "eau de la piscine", False),
        ("eau -piscine", "eau du robinet", True),
        ("eau -(piscine OR bain)", "eau du bain", False),
        ('eau -"piscine municipale"', "eau piscine", True),
        ("(eau OR gaz) coupure", "gaz coupure", True),
        ("(eau OR gaz) coupure", "gaz", False),
        ("NOT NOT eau", "eau", True),
    ],
)
def test_operators(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_precedence_not_and_or() -> None:
    assert str(parse("a OR b c")) == "a OR (b AND c)"
    assert str(parse("a b OR c")) == "(a AND b) OR c"
    assert str(parse("-a b")) == "NOT a AND b"
    assert str(parse("x NOT a OR b")) == "(x AND NOT a) OR b"
    assert str(parse("NOT (a OR b) c")) == "NOT (a OR b) AND c"
    assert matches("a OR b c", "a") is True
    assert matches("a OR b c", "b") is False
    assert matches("a OR b c", "b c") is True
    assert matches("x NOT a OR b", "x a b") is True
    assert matches("x NOT a OR b", "x a") is False
    assert matches("x NOT a OR b", "x") is True


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("eau ET coupure", "eau coupure", True),
        ("eau et coupure", "eau", False),
        ("eau OU gaz", "gaz", True),
        ("eau ou gaz", "gaz", True),
        ("eau SAUF piscine", "eau piscine", False),
        ("eau NON piscine", "eau piscine", False),
        ("eau non piscine", "eau", True),
        ("eau and coupure", "eau", False),
        ('eau "ou"', "eau ou gaz", True),
        ('eau "ou"', "eau gaz", False),
    ],
)
def test_operators_are_case_insensitive_and_french(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Eau", True),
        ("EAU !", True),
        ("l'eau", True),
        ("l’eau", True),
        ("#eau", True),
        ("Éau", True),
        ("beau", False),
        ("réseau", False),
        ("eaux", False),
        ("bureau", False),
    ],
)
def test_word_boundaries_accents_and_case(text: str, expected: bool) -> None:
    assert matches("eau", text) is expected


def test_accents_and_case_both_ways() -> None:
    assert matches("ecole", "École fermée")
    assert matches("ÉCOLE", "ecole fermee")
    assert matches("fermée", "FERMEE")
    assert matches("oeuvre", "Une œuvre")
    assert matches("Straße", "strasse")
    assert normalize("Ça Été") == "ca ete"
    assert tokenize("L'École, c'est 2 fois!") == ("l", "ecole", "c", "est", "2", "fois")


def test_phrases_are_token_sequences() -> None:
    assert matches('"eau potable"', "L'EAU, potable ?")
    assert matches('"eau potable"', "de l'eau-potable")
    assert not matches('"eau potable"', "potable eau")
    assert not matches('"eau potable"', "eau non potable")
    assert not matches('"eau potable"', "beau potable")
    assert matches('"rue de la paix"', "rue de la gare, rue de la paix")
    assert matches("“eau potable”", "eau potable")
    assert matches("« eau potable »", "eau potable")
    # a word with punctuation inside is a phrase
    assert matches("covid-19", "le covid 19")
    assert not matches("covid-19", "19 covid")


def test_wildcards() -> None:
    assert matches("eau*", "les eaux")
    assert matches("eau*", "eaufrance")
    assert not matches("eau*", "réseau")
    assert matches("fontain*", "Fontaines")
    assert matches('"eau pot*"', "eau potable")
    assert not matches('"eau pot*"', "pot eau")
    assert matches("#canic*", "#Canicule2025")
    assert not matches("#canic*", "canicule")


def test_hashtags() -> None:
    assert matches("#canicule", "Alerte #Canicule !")
    assert matches("#canicule", "#canicule")
    assert matches("#ete", "vive l'#Été")
    assert not matches("#canicule", "la canicule arrive")
    assert not matches("#canicule", "#caniculeextreme")
    assert not matches("#section", "https://example.org/page#section")
    assert matches("canicule", "#canicule")
    assert WatchDocument("Vive #Été et #ÉtéChaud").hashtags == {"ete", "etechaud"}


def test_emoji_are_words() -> None:
    assert matches("🔥", "ça chauffe 🔥🔥")
    assert matches("❤️", "merci ❤ à tous")
    assert not matches("🔥", "ça chauffe")


def test_arabic() -> None:
    assert matches("الماء", "انقطاع المَاءِ في الحي")
    assert matches("الماء", "انقطاع الـــماء")  # tatweel
    assert matches("مدرسة", "المدرسه مغلقة مدرسه")  # teh marbuta / heh
    assert matches("أحمد", "احمد")  # hamza on alef
    assert matches("مستشفى", "مستشفي")  # alef maqsura / yeh
    assert not matches("ماء", "سماء")  # a word, not a substring
    assert matches('"انقطاع الماء"', "انقطاعُ الماءِ")
    assert matches("٢٠٢٥", "2025")
    assert matches("2025", "٢٠٢٥")


# --- fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "handle", "expected"),
    [
        ("from:mairie", "mairie", True),
        ("from:@Mairie", "MAIRIE", True),
        ("@mairie", "@mairie", True),
        ("from:mairie", "mairie2", False),
        ("from:alice", "alice@piaille.fr", True),
        ("from:alice@piaille.fr", "@Alice@Piaille.fr", True),
        ("from:alice@piaille.fr", "alice@mastodon.social", False),
        ("from:alice@piaille.fr", "alice", False),
        ("auteur:mairie.bsky.social", "mairie.bsky.social", True),
    ],
)
def test_from(query: str, handle: str, expected: bool) -> None:
    assert matches(query, "texte", author_handle=handle) is expected


def test_from_combines_with_words() -> None:
    assert matches("eau from:mairie", "eau", author_handle="mairie")
    assert not matches("eau from:mairie", "gaz", author_handle="mairie")
    assert matches("eau -from:mairie", "eau", author_handle="bob")


def test_lang_and_platform() -> None:
    assert matches("lang:fr", "x", language="fr")
    assert matches("lang:FR", "x", language="fr-CA")
    assert matches("langue:fr", "x", language="fr_BE")
    assert not matches("lang:fr", "x", language="en")
    assert not matches("lang:fr-ca", "x", language="fr")
    assert not matches("lang:fr", "x")
    assert matches("eau lang:ar OR lang:fr", "eau", language="fr")
    assert matches("platform:bluesky", "x", platform="Bluesky")
    assert matches("plateforme:mastodon eau", "eau", platform="mastodon")
    assert not matches("platform:bluesky", "x", platform="mastodon")


@pytest.mark.parametrize(
    ("query", "text", "urls", "expected"),
    [
        ("domain:example.org", "", ("https://example.org/a",), True),
        ("domain:example.org", "", ("https://www.example.org/a",), True),
        ("domain:example.org", "", ("https://news.sub.example.org",), True),
        ("domain:example.org", "", ("https://notexample.org",), False),
        ("domain:example.org", "", ("https://example.org.evil.com/x",), False),
        ("domain:example.org", "voir https://Actu.Example.org/x !", (), True),
        ("domain:example.org", "voir example.org.", (), True),
        ("domain:example.org", "écrire à contact@example.org", (), False),
        ("domain:example.org", "voir example.com", (), False),
        ("domain:www.example.org", "", ("http://example.org",), True),
        ("site:https://www.example.org/page", "", ("http://example.org",), True),
        ("domaine:sub.example.org", "", ("http://example.org",), False),
    ],
)
def test_domain(query: str, text: str, urls: tuple[str, ...], expected: bool) -> None:
    assert matches(query, text, urls=urls) is expected


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "position"),
    [
        ("", "empty_query", 0),
        ("   ", "empty_query", 0),
        ("x" * 4001, "too_long", 4000),
        ("(" * 41 + "x" + ")" * 41, "too_complex", 40),
        ('eau "potable', "unclosed_quote", 4),
        ('eau ""', "empty_quotes", 4),
        ('eau "  "', "empty_quotes", 4),
        ("(eau OR gaz", "unclosed_paren", 0),
        ("eau (", "unclosed_paren", 4),
        ("eau)", "unexpected_paren", 3),
        (") eau", "unexpected_paren", 0),
        ("eau ()", "empty_parens", 4),
        ("eau OR", "missing_term_after", 4),
        ("eau AND AND gaz", "missing_term_after", 4),
        ("eau NOT", "missing_term_after", 4),
        ("(eau OR) gaz", "missing_term_after", 5),
        ("eau - gaz", "missing_term_after", 4),
        ("eau -", "missing_term_after", 4),
        ("OR eau", "missing_term_before", 0),
        ("(ET eau)", "missing_term_before", 1),
        ("lang:", "empty_value", 0),
        ("eau from:", "empty_value", 4),
        ("#", "empty_value", 0),
        ("eau @", "empty_value", 4),
        ("lang:12", "invalid_value", 5),
        ("platform:!x", "invalid_value", 9),
        ("domain:localhost", "invalid_value", 7),
        ("from:a@b@c", "invalid_value", 5),
        ("#a-b", "invalid_value", 0),
        ("foo:bar", "unknown_field", 0),
        ("eau !!!", "no_words", 4),
        ("e*au", "bad_wildcard", 1),
        ("*", "bad_wildcard", 0),
        ('"eau *"', "bad_wildcard", 5),
        ("e*", "wildcard_too_short", 1),
        ("#e*", "wildcard_too_short", 0),
        ("-spam", "only_exclusions", 0),
        ("NOT spam NOT pub", "only_exclusions", 0),
        ("eau OR -spam", "only_exclusions", 0),
    ],
)
def test_errors(query: str, code: str, position: int) -> None:
    with pytest.raises(WatchQueryError) as caught:
        parse(query)
    error = caught.value
    assert error.code == code
    assert error.position == position
    assert error.message in str(error)
    assert "{" not in error.message
    assert isinstance(error, ValueError)


def test_every_error_code_is_tested() -> None:
    tested = {case[1] for case in _error_cases()}
    assert tested == set(ERROR_CODES)


def _error_cases() -> list[tuple[str, str, int]]:
    marker = next(m for m in test_errors.pytestmark if m.name == "parametrize")  # type: ignore[attr-defined]
    return list(marker.args[1])


def test_error_params_for_translation() -> None:
    with pytest.raises(WatchQueryError) as caught:
        parse("eau OU")
    assert caught.value.params == {"operator": "OU"}
    assert caught.value.message == 'Expected a word or phrase after "OU".'
    with pytest.raises(WatchQueryError) as caught:
        parse("lng:fr")
    assert caught.value.params == {"field": "lng:"}


def test_text_that_looks_like_a_field() -> None:
    assert matches("attention: eau", "Attention eau")
    assert matches("https://example.org/page", "voir https://example.org/page")
    assert matches("10:30", "à 10h 10 30")
    assert matches('"foo:bar"', "foo bar")
    assert matches("lang:fr", "x", language="fr")  # positive filters alone are fine


# --- terms and platform search ------------------------------------------------------------


def test_terms() -> None:
    query = parse('(eau OR "eau potable" OR fontaine*) #canicule -piscine NOT (gaz) lang:fr')
    assert query.terms() == ("eau", "eau potable", "fontaine*", "#canicule")
    assert parse("NOT NOT eau").terms() == ("eau",)
    assert parse("eau eau OR eau").terms() == ("eau",)
    assert parse("attention: eau").terms() == ("attention", "eau")
    assert parse("from:mairie lang:fr").terms() == ()


def test_to_platform_search() -> None:
    query = parse('(eau OR "eau potable" OR fontaine*) #canicule* -piscine from:mairie')
    assert query.to_platform_search() == 'eau OR "eau potable" OR fontaine OR #canicule'
    assert parse("covid-19 ET vaccin").to_platform_search() == '"covid-19" OR vaccin'
    assert parse("lang:fr from:mairie").to_platform_search() == ""


# --- documents and watches ----------------------------------------------------------------


def test_documents_are_prepared_once() -> None:
    doc = WatchDocument.from_text(
        "Coupure d'eau", author_handle=None, language=None, urls=["x.org"]
    )
    assert doc.language == "" and doc.urls == ("x.org",)
    assert doc.prepared() is doc.prepared()
    prepared = prepare(doc)
    assert prepared.tokens == ("coupure", "d", "eau")
    assert parse("eau").matches(prepared) and parse("eau").matches(doc)
    assert doc == WatchDocument("Coupure d'eau", urls=("x.org",))


def test_from_item() -> None:
    from datetime import UTC, datetime

    from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem

    item = NormalizedItem(
        platform_id="1",
        kind=ItemKind.POST,
        text="Coupure d'eau",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        author=NormalizedAuthor(platform_id="9", handle="alice@piaille.fr"),
        urls=("https://eau.example.org",),
        language="fr",
    )
    doc = WatchDocument.from_item(item, platform="mastodon")
    assert parse("eau from:alice lang:fr platform:mastodon domain:example.org").matches(doc)


def test_watch_restrictions() -> None:
    watch = Watch(
        "Eau", "eau OR fontaine", languages=("fr",), accounts=("@Mairie",), platforms=("mastodon",)
    )
    ok = WatchDocument("eau", author_handle="mairie", language="fr-FR", platform="Mastodon")
    assert watch.matches(ok)
    assert not watch.matches(WatchDocument("gaz", "mairie", "fr", "mastodon"))
    assert not watch.matches(WatchDocument("eau", "mairie", "en", "mastodon"))
    assert not watch.matches(WatchDocument("eau", "bob", "fr", "mastodon"))
    assert not watch.matches(WatchDocument("eau", "mairie", "fr", "bluesky"))
    assert Watch("Tout", "eau").matches(WatchDocument("eau"))
    only_accounts = Watch("Comptes", accounts=("mairie",))
    assert only_accounts.parsed is None
    assert only_accounts.matches(WatchDocument("n'importe quoi", author_handle="mairie@x.fr"))
    with pytest.raises(WatchQueryError) as caught:
        Watch("Rien")
    assert caught.value.code == "empty_query"
    with pytest.raises(WatchQueryError) as caught:
        Watch("Cassée", "(eau")
    assert caught.value.code == "unclosed_paren"
