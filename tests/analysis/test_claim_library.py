"""Fact-check library import: schema.org ClaimReview in JSON-LD (pages and feeds) and CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beffroi.analysis.claims.library import (
    LibraryImportError,
    claims_from_csv,
    claims_from_html,
    claims_from_json,
    claims_from_jsonld,
)

REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factcheck.example.org/2026/eau-plomb",
    "datePublished": "2026-11-02",
    "inLanguage": "fr",
    "headline": "Non, l'eau du robinet de Saint-Aubin n'est pas contaminée au plomb",
    "author": {"@type": "Organization", "name": "Vérif'Loire"},
    "claimReviewed": "L'eau du robinet de Saint-Aubin est contaminée au plomb.",
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "Un compte anonyme"},
        "datePublished": "2026-10-30",
    },
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": 1,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Faux",
    },
}


def test_a_claimreview_object() -> None:
    [claim] = claims_from_jsonld(REVIEW)
    assert claim.text.startswith("L'eau du robinet")
    assert claim.verdict == "Faux"
    assert claim.source == "Vérif'Loire" and claim.claimant == "Un compte anonyme"
    assert claim.language == "fr" and claim.published == "2026-11-02"
    assert claim.as_claim().title.startswith("Non, l'eau")
    assert len(claim.id) == 16 and claim.id == claims_from_jsonld(REVIEW)[0].id


def test_graph_lists_and_numeric_ratings() -> None:
    numeric = {
        **REVIEW,
        "url": "https://factcheck.example.org/2",
        "reviewRating": {"ratingValue": "2", "bestRating": "5"},
    }
    document = {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, numeric]}
    broken = {"@type": "ClaimReview", "claimReviewed": "no verdict"}
    claims = claims_from_jsonld([document, REVIEW, broken])
    assert [c.verdict for c in claims] == ["2/5", "Faux"]


def test_claimreviews_in_a_page() -> None:
    html = (
        "<html><head><script type='application/ld+json'>"
        + json.dumps(REVIEW)
        + "</script><script>var x = 1;</script></head><body>…</body></html>"
    )
    assert [c.verdict for c in claims_from_html(html)] == ["Faux"]
    with pytest.raises(LibraryImportError, match="JSON-LD script 1: not valid JSON"):
        claims_from_html('<script type="application/ld+json">{"@type": </script>')


def test_csv_import_checks_every_row_first() -> None:
    good = "claim,verdict,url,source\nLa piscine ferme définitivement,Faux,https://x.fr/1,Mairie\n"
    [claim] = claims_from_csv(good)
    assert claim.source == "Mairie" and claim.url == "https://x.fr/1"
    bad = "claim,verdict,url\n,Faux,\nUne rumeur,,\nAutre,Vrai,ftp://x\n"
    with pytest.raises(LibraryImportError) as error:
        claims_from_csv(bad)
    message = str(error.value)
    assert "line 2: the claim is empty" in message
    assert "line 3: the verdict is empty" in message
    assert "line 4: the url must start with https://" in message
    with pytest.raises(LibraryImportError, match="missing column"):
        claims_from_csv("text,label\na,b\n")


# --- pages as fact-checkers really publish them ----------------------------------------------

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "claimreview"


def test_a_page_with_a_broken_script_keeps_its_claimreview() -> None:
    """A video description with a raw line break and tab (not strict JSON) once cost the
    whole page; a script with a trailing comma is skipped and said; the empty claim too."""
    notes: list[str] = []
    page = (REAL / "decodeurs_video_page.html").read_text(encoding="utf-8")
    [claim] = claims_from_html(page, notes=notes)
    assert claim.text == (
        "Cette vidéo montre des manifestants «\xa0envahir\xa0» l'Assemblée nationale en mars 2024"
    )
    assert claim.source == "Vérif'Actu"  # the publisher, not the journalist
    assert claim.claimant == 'Compte "InfoLibre"'
    assert claim.url == "https://verif.example.fr/2024/03/12/video-manifestation-paris/"
    assert claim.language == "fr-FR"  # from <html lang>
    assert claim.verdict.startswith("Faux. La vidéo a été tournée") and len(claim.verdict) > 120
    assert any(n.startswith("JSON-LD script 4: not valid JSON") for n in notes), notes
    assert any("ClaimReview 2" in n and "claim is empty" in n for n in notes), notes
    assert not any("script 1" in n for n in notes), notes


def test_references_in_a_yoast_graph_are_followed() -> None:
    notes: list[str] = []
    page = (REAL / "yoast_graph_page.html").read_text(encoding="utf-8")
    [claim] = claims_from_html(page, notes=notes)
    assert claim.source == "Checagem Exemplo" and claim.claimant == "Deputado X"
    # Relative to the WebPage node's address: the page has no canonical link.
    assert claim.url == "https://checagem.example.com.br/2023/05/vacina-chip/"
    assert claim.language == "pt-BR" and notes == []


def test_a_journalist_alone_is_not_the_fact_checker_and_an_unresolvable_address_is_said() -> None:
    review = {
        **REVIEW,
        "url": "/2026/eau-plomb",
        "author": {"@type": "Person", "name": "Jeanne Dupont", "worksFor": {"name": "Vérif"}},
    }
    notes: list[str] = []
    [claim] = claims_from_jsonld(review, notes=notes)
    assert claim.source == "Vérif" and claim.url == ""
    assert notes == [
        "ClaimReview 1: the review address '/2026/eau-plomb' is not a web address and the "
        "page's address is unknown; it was left out"
    ]
    [claim] = claims_from_jsonld(review, page_url="https://factcheck.example.org/a/b")
    assert claim.url == "https://factcheck.example.org/2026/eau-plomb"
    alone = {**review, "author": {"@type": "Person", "name": "Jeanne Dupont"}}
    assert claims_from_jsonld(alone)[0].source == ""


@pytest.mark.parametrize("page_url", ["", "https://www.aosfatos.org/noticias/drauzio/"])
def test_a_review_address_written_without_its_scheme_is_not_taken_for_a_path(
    page_url: str,
) -> None:
    # As Aos Fatos writes it (tests/corpus/claimreview/meedan-fetch/aos_fatos_raw.json):
    # joined to the page's address it became .../noticias/drauzio/aosfatos.org/noticias/...
    review = {**REVIEW, "url": "aosfatos.org/noticias/drauzio/"}
    notes: list[str] = []
    [claim] = claims_from_jsonld(review, page_url=page_url, notes=notes)
    assert claim.url == "https://aosfatos.org/noticias/drauzio/" and notes == []


@pytest.mark.parametrize("given", ["index.php/2026/eau-plomb", "verif.2026/eau-plomb"])
def test_a_relative_path_that_looks_dotted_stays_a_path(given: str) -> None:
    [claim] = claims_from_jsonld(
        {**REVIEW, "url": given}, page_url="https://factcheck.example.org/a/b"
    )
    assert claim.url == f"https://factcheck.example.org/a/{given}"


def test_a_google_fact_check_tools_answer_is_read() -> None:
    # The shape of claims:search (tests/corpus/claimreview/meedan-fetch/google_fact_check_raw.json
    # is one of its claims).
    answer = {
        "claims": [
            {
                "text": "Le pont de Saint-Aubin va fermer l&#39;été prochain",
                "claimant": "Un compte anonyme",
                "claimDate": "2026-10-30T00:00:00Z",
                "claimReview": [
                    {
                        "publisher": {"name": "Vérif'Loire", "site": "verif.example.org"},
                        "url": "https://verif.example.org/2026/pont",
                        "title": "Non, le pont ne ferme pas",
                        "reviewDate": "2026-11-02T09:00:00Z",
                        "textualRating": "Faux",
                        "languageCode": "fr",
                    },
                    {"publisher": {"site": "autre.example"}, "url": "https://autre.example/p"},
                ],
            }
        ],
        "nextPageToken": "CAE",
    }
    notes: list[str] = []
    [claim] = claims_from_json(json.dumps(answer), notes=notes)
    assert claim.text == "Le pont de Saint-Aubin va fermer l'été prochain"
    assert (claim.verdict, claim.source, claim.claimant) == (
        "Faux",
        "Vérif'Loire",
        "Un compte anonyme",
    )
    assert (claim.url, claim.published, claim.language, claim.title) == (
        "https://verif.example.org/2026/pont",
        "2026-11-02T09:00:00Z",
        "fr",
        "Non, le pont ne ferme pas",
    )
    assert notes == ["ClaimReview 2 (https://autre.example/p): skipped, its verdict is empty"]
    one = answer["claims"][0]
    assert claims_from_json(json.dumps(one)) == [claim]
