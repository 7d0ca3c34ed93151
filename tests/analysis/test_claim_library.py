"""Fact-check library import: schema.org ClaimReview in JSON-LD (pages and feeds) and CSV."""

from __future__ import annotations

import json

import pytest

from beffroi.analysis.claims.library import (
    LibraryImportError,
    claims_from_csv,
    claims_from_html,
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
