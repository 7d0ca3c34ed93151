"""Fact-checkers' pages and ClaimReview feeds recorded by other projects
(tests/corpus/claimreview/), through the fact-check library's import as an upload does it.

Files:

- a recorded page, ``{"url": <address>, "page": <HTML>}`` (meedan/fetch's recordings):
  :func:`~beffroi.analysis.claims.library.claims_from_html` on the page, without its
  address, as a person uploads a saved page (the page's own ``<link rel=canonical>`` /
  ``og:url`` must say where it stands); the recorded address is kept for the checks;
- any other JSON (a Data Commons ``DataFeed``, a Google Fact Check Tools answer):
  :func:`~beffroi.analysis.claims.library.claims_from_json`, as the ``jsonld`` upload;
- ``.html``: the page itself, through ``claims_from_html``.

One outcome per ClaimReview the recording holds, found here independently of Beffroi (every
JSON-LD script read with a regex and a tolerant JSON parser; a Google Fact Check Tools
answer's ``claimReview`` entries): the claim Beffroi made of it, in document order, or none
where Beffroi skipped it (its note is in the context) or never saw it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from beffroi.analysis.claims.library import CheckedClaim, claims_from_html, claims_from_json
from tests.fidelity import common
from tests.fidelity.common import error_text, is_absolute, mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "claimreview"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"

_SCRIPT = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.I | re.S,
)
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']([^\"']*)[\"']", re.I | re.S)
_WRAPPER = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
#: An address that starts with a host name (``example.org/…``), its last label captured.
_HOST_FIRST = re.compile(r"^(?:[\w-]+\.)+([a-z]{2,})/", re.I)
_ORGANIZATIONS = {"Organization", "NewsMediaOrganization", "Corporation", "NGO"}


def _types(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    return {str(k).rsplit("/", 1)[-1] for k in (kind if isinstance(kind, list) else [kind])}


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document, in document order."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _scripts(page: str) -> list[Any]:
    """The page's JSON-LD documents that a tolerant parser reads."""
    documents = []
    for script in _SCRIPT.findall(page):
        try:
            documents.append(json.loads(_WRAPPER.sub("", script), strict=False))
        except json.JSONDecodeError:
            continue
    return documents


def _reviews(documents: list[Any]) -> list[dict[str, Any]]:
    return [node for node in _walk(documents) if "ClaimReview" in _types(node)]


def _google(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A Google Fact Check Tools claim (``text``, ``claimant``, ``claimReview: [...]``) as
    one record per review, in the terms of schema.org's ClaimReview for the checks."""
    records = []
    for review in answer.get("claimReview") or ():
        if isinstance(review, dict):
            publisher = review.get("publisher") or {}
            records.append(
                {
                    "@type": "ClaimReview (Google Fact Check Tools)",
                    "claimReviewed": answer.get("text"),
                    "itemReviewed": {"author": {"name": answer.get("claimant")}},
                    "reviewRating": {"alternateName": review.get("textualRating")},
                    "url": review.get("url"),
                    "publisher": {
                        "@type": "Organization",
                        "name": publisher.get("name") or publisher.get("site"),
                    },
                    "datePublished": review.get("reviewDate"),
                    "inLanguage": review.get("languageCode"),
                    "headline": review.get("title"),
                }
            )
    return records


def read(path: Path) -> Iterator[Outcome]:
    """Every ClaimReview of one recorded page or feed, as the library import reads it."""
    relative = str(path.relative_to(CORPUS))
    text = path.read_text("utf-8-sig")
    notes: list[str] = []
    context: dict[str, Any] = {"notes": notes}
    recorded: Any = None if path.suffix == ".html" else json.loads(text)
    if isinstance(recorded, dict) and isinstance(recorded.get("page"), str):
        page = recorded["page"]
        context["recorded_url"] = str(recorded.get("url") or "")
    elif recorded is None:
        page = text
    else:
        page = None
    if page is not None:
        lang = _HTML_LANG.search(page)
        context["page_language"] = lang.group(1).strip() if lang else ""
        payloads = _reviews(_scripts(page))
        context["format"] = "html"
    elif isinstance(recorded, dict) and "claimReview" in recorded and "@type" not in recorded:
        payloads = _google(recorded)
        context["format"] = "google-factcheck"
    else:
        payloads = _reviews([recorded])
        context["format"] = "json-ld"
    try:
        if page is not None:
            claims = claims_from_html(page, notes=notes)
        else:
            claims = claims_from_json(text, notes=notes)
    except Exception as exc:  # the whole file was refused: said on each record
        for number, payload in enumerate(payloads or [{}], start=1):
            yield Outcome(
                relative, f"review {number}", payload, error=error_text(exc), context=context
            )
        return
    pending = list(claims)
    for number, payload in enumerate(payloads, start=1):
        ref = f"review {number}: {payload.get('url') or ''}".rstrip(": ")
        # Beffroi numbers the reviews as found here; a skipped one says so in the notes.
        skipped = [
            note
            for note in notes
            if note.startswith((f"ClaimReview {number} ", f"ClaimReview {number}:"))
            and "skipped" in note
        ]
        item = pending.pop(0) if pending and not skipped else None
        yield Outcome(relative, ref, payload, item=item, context={**context, "skipped": skipped})
    for extra, claim in enumerate(pending, start=1):
        # A claim Beffroi made that matches no ClaimReview found here.
        yield Outcome(relative, f"unmatched {extra}", {}, item=claim, context=context)


# --- what the review says, read here ------------------------------------------------------


def _words(value: Any) -> str:
    """A JSON-LD text value as a reader sees it (first of a list, a node's name, unescaped)."""
    if isinstance(value, list):
        return _words(value[0]) if value else ""
    if isinstance(value, dict):
        return _words(value.get("name") or value.get("@value") or "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return " ".join(html.unescape(str(value or "")).split())


def _claim(outcome: Outcome) -> CheckedClaim:
    claim: CheckedClaim = outcome.item
    return claim


def _claim_text(payload: Mapping[str, Any]) -> str:
    item = payload.get("itemReviewed")
    name = item.get("name") if isinstance(item, Mapping) else ""
    return _words(payload.get("claimReviewed")) or _words(name)


def _rating(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    rating = payload.get("reviewRating")
    return rating if isinstance(rating, Mapping) else {}


def _verdict_words(payload: Mapping[str, Any]) -> str:
    rating = _rating(payload)
    return _words(rating.get("alternateName")) or _words(rating.get("name"))


def _has_verdict(payload: Mapping[str, Any]) -> bool:
    rating = _rating(payload)
    return bool(_verdict_words(payload) or _words(rating.get("ratingValue")))


def _usable(outcome: Outcome) -> bool:
    """A review that says something: a claim and a verdict."""
    return bool(outcome.payload) and bool(
        _claim_text(outcome.payload) and _has_verdict(outcome.payload)
    )


def _nodes(value: Any) -> list[Mapping[str, Any]]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, Mapping)]


def _organization(payload: Mapping[str, Any]) -> str:
    """The fact-checker as the review names it: its publisher, else an organization author."""
    for publisher in _nodes(payload.get("publisher")):
        if name := _words(publisher):
            return name
    for author in _nodes(payload.get("author")):
        if _types(author) & _ORGANIZATIONS and (name := _words(author)):
            return name
    return ""


def _people(payload: Mapping[str, Any]) -> set[str]:
    return {
        _words(author)
        for author in _nodes(payload.get("author"))
        if "Person" in _types(author) and _words(author)
    }


def _claimant(payload: Mapping[str, Any]) -> str:
    item = payload.get("itemReviewed")
    if not isinstance(item, Mapping):
        return ""
    authors = item.get("author")
    for author in authors if isinstance(authors, list) else [authors]:
        if name := _words(author):
            return name
    return ""


def _review_url(outcome: Outcome) -> str:
    return _words(outcome.payload.get("url"))


def _language(outcome: Outcome) -> str:
    given = outcome.payload.get("inLanguage")
    if isinstance(given, Mapping):
        given = given.get("alternateName") or given.get("name")
    return _words(given) or str(outcome.context.get("page_language") or "")


def _primary(tag: str) -> str:
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()


def _iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _same_address(outcome: Outcome) -> bool:
    """The stored review address is the page's, where the review gives a relative one."""
    given = _review_url(outcome)
    recorded = str(outcome.context.get("recorded_url") or "")
    stored = _claim(outcome).url
    if is_absolute(given):
        return stored == given
    host = _HOST_FIRST.match(given)
    if host and host.group(1).lower() not in ("html", "htm", "php", "asp", "aspx"):
        # ``aosfatos.org/noticias/…``: a host without its scheme, not a path.
        return stored == f"https://{given}"
    return bool(recorded) and stored == urljoin(recorded, given)


def _texts(claim: CheckedClaim) -> list[str]:
    return [claim.text, claim.verdict, claim.title, claim.source, claim.claimant]


CHECKS: tuple[Check, ...] = (
    Check(
        "review_read",
        "every ClaimReview with a claim and a verdict becomes a library claim",
        mapped,
        _usable,
    ),
    Check(
        "skipped_is_said",
        "a ClaimReview that gives no claim is not read, and a note says so",
        lambda o: o.item is None and bool(o.context.get("skipped")),
        lambda o: (
            bool(o.payload) and not _usable(o) and o.context.get("format") != "google-factcheck"
        ),
    ),
    Check(
        "claim_text_whole",
        "the claim is the review's claimReviewed (entities unescaped), whole",
        lambda o: " ".join(_claim(o).text.split()) == _claim_text(o.payload),
        lambda o: mapped(o) and bool(_claim_text(o.payload)),
    ),
    Check(
        "verdict_is_the_rating_words",
        "the verdict is the rating's alternateName (else name), whole",
        lambda o: " ".join(_claim(o).verdict.split()) == _verdict_words(o.payload),
        lambda o: mapped(o) and bool(_verdict_words(o.payload)),
    ),
    Check(
        "review_date_storable",
        "the review's date is kept in a form the library stores as a date (YYYY-MM-DD…), "
        "not dropped",
        lambda o: _iso_date(_claim(o).published),
        lambda o: mapped(o) and bool(_words(o.payload.get("datePublished"))),
    ),
    common.no_html_entities(
        "no HTML entity is left in the claim, verdict, title, checker or claimant",
        texts=lambda o: _texts(_claim(o)),
    ),
    Check(
        "review_url_absolute",
        "the review's address is an absolute http(s) address",
        lambda o: is_absolute(_claim(o).url),
        lambda o: mapped(o) and bool(_review_url(o)),
    ),
    Check(
        "review_url_as_given",
        "the review's address is the one given, resolved against the page's address where relative",
        _same_address,
        lambda o: mapped(o) and bool(_review_url(o)),
    ),
    Check(
        "checked_by_organization",
        "'checked by' is the publisher, else the organization author",
        lambda o: _claim(o).source == _organization(o.payload),
        lambda o: mapped(o) and bool(_organization(o.payload)),
    ),
    Check(
        "checked_by_not_a_journalist",
        "'checked by' is never a Person author's name (the journalist)",
        lambda o: _claim(o).source not in _people(o.payload),
        lambda o: mapped(o) and bool(_people(o.payload)),
    ),
    Check(
        "claimant_kept",
        "who made the claim (itemReviewed.author) is kept",
        lambda o: _claim(o).claimant == _claimant(o.payload),
        lambda o: mapped(o) and bool(_claimant(o.payload)),
    ),
    Check(
        "published_kept",
        "the review's datePublished is kept",
        lambda o: _claim(o).published == _words(o.payload.get("datePublished")),
        lambda o: mapped(o) and bool(_words(o.payload.get("datePublished"))),
    ),
    Check(
        "language_kept",
        "the language is the review's inLanguage, else the page's <html lang>",
        lambda o: _claim(o).language.lower() == _language(o).lower(),
        lambda o: mapped(o) and bool(_language(o)),
    ),
    common.language_is_iso_639_1(
        "the language is empty or a tag whose primary code is ISO 639-1",
        name="language_iso_639_1",
        language=lambda o: _primary(language) if (language := _claim(o).language) else None,
    ),
    Check(
        "title_kept",
        "the review's headline (else name) is the title",
        lambda o: (
            " ".join(_claim(o).title.split())
            == (_words(o.payload.get("headline")) or _words(o.payload.get("name")))
        ),
        lambda o: (
            mapped(o) and bool(_words(o.payload.get("headline")) or _words(o.payload.get("name")))
        ),
    ),
)
