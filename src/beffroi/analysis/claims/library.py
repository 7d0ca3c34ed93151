"""Filling a fact-check library: schema.org ``ClaimReview`` (JSON-LD, as fact-checkers publish
it in their pages and feeds) and CSV files.

``ClaimReview`` fields read (https://schema.org/ClaimReview): ``claimReviewed`` (the claim),
``reviewRating.alternateName`` (the verdict in words; ``ratingValue`` with ``bestRating`` /
``worstRating`` when there are no words), ``url`` (resolved against the page's address when
relative), ``publisher`` or an organization ``author`` (the fact-checker: a ``Person``
author is the journalist), ``datePublished``, ``inLanguage`` (else the page's
``<html lang>``), ``headline`` or ``name`` (the title), and ``itemReviewed`` (a ``Claim``
whose ``author`` says who made it). ``@id`` references are followed, HTML entities in texts
unescaped. What is skipped or left out is said in ``notes``, one sentence each.

Google Fact Check Tools answers (``claims:search``: ``{"claims": [{"text", "claimant",
"claimReview": [{"publisher", "url", "title", "reviewDate", "textualRating",
"languageCode"}]}]}``, or one such claim) are read too: each review of a claim is one
claim of the library.

JSON may not nest deeper than :data:`~beffroi.connectors.fileimport.MAX_JSON_DEPTH` levels
(:class:`NestingTooDeep`) nor hold text no database stores (NUL, lone surrogates): the same
rules as the import of items.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from beffroi.analysis.claims.retrieval import Claim
from beffroi.connectors.fileimport import MAX_JSON_DEPTH, UnstorableJSON, check_json, check_text
from beffroi.connectors.values import web_address

__all__ = [
    "CSV_COLUMNS",
    "CheckedClaim",
    "LibraryImportError",
    "NestingTooDeep",
    "claims_from_csv",
    "claims_from_html",
    "claims_from_json",
    "claims_from_jsonld",
]

#: Columns of a CSV fact-check file; ``claim`` and ``verdict`` are required. ``reply`` is read
#: so that the importer can say it leaves it out (see :attr:`CheckedClaim.reply`).
CSV_COLUMNS = ("claim", "verdict", "url", "source", "date", "language", "title", "reply")


class LibraryImportError(ValueError):
    """A file that cannot be read as a fact-check library, with where and why."""


class NestingTooDeep(LibraryImportError):
    """JSON nested deeper than :attr:`limit` levels: no fact-check feed is, and deeper data
    would exhaust Python's recursion."""

    limit = MAX_JSON_DEPTH

    def __init__(self) -> None:
        super().__init__(f"the JSON is nested more than {self.limit} levels deep (the limit)")


@dataclass(frozen=True)
class CheckedClaim:
    """A claim and what a fact-checker (or the organization) found about it."""

    text: str
    verdict: str
    url: str = ""
    source: str = ""
    published: str = ""
    language: str = ""
    title: str = ""
    claimant: str = ""
    #: A suggested reply the file gives with the claim. Not part of the claim: Beffroi's veille
    #: leaves it out, replies being kept in its counter-speech library.
    reply: str = ""

    @property
    def id(self) -> str:
        """Stable identity: the review's URL, else the claim's text and source."""
        basis = self.url or f"{self.source}\n{self.text}"
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]

    def as_claim(self) -> Claim:
        return Claim(self.id, self.text, self.title)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value") or "")
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _words(value: Any) -> str:
    """Text as a reader sees it: pages often escape their JSON-LD strings as HTML
    (``l&#039;eau``, ``vid&eacute;o``)."""
    return html.unescape(_text(value)).strip()


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1] for k in kinds}


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON-LD document (``@graph``, lists and nesting included), in
    document order, without recursion."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            yield value
            pending.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            pending.extend(reversed(value))


def _verdict(rating: Any) -> str:
    if not isinstance(rating, dict):
        return _words(rating)
    words = _words(rating.get("alternateName")) or _words(rating.get("name"))
    if words:
        return words
    value = _text(rating.get("ratingValue"))
    if not value:
        return ""
    best, worst = _text(rating.get("bestRating")), _text(rating.get("worstRating"))
    return f"{value}/{best}" + (f" (worst {worst})" if worst else "") if best else value


def _check(data: Any) -> None:
    try:
        check_json(data)
    except UnstorableJSON as error:
        if error.too_deep:
            raise NestingTooDeep() from None
        raise LibraryImportError(str(error)) from None


def _load_json(text: str) -> Any:
    """Parsed JSON; a nesting too deep for Python's parser is :class:`NestingTooDeep`, other
    errors are ``json.JSONDecodeError`` (a ``ValueError``)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestingTooDeep() from None


def _load_script(text: str) -> Any:
    """A JSON-LD script as pages really write it: strict JSON first, then with raw line
    breaks and tabs inside strings (a pasted video description) and the ``<!-- -->`` or
    ``CDATA`` wrappers old templates put around scripts. Raises ``json.JSONDecodeError``
    with the strict parser's reason when neither reads it."""
    try:
        return _load_json(text)
    except json.JSONDecodeError as error:
        unwrapped = _SCRIPT_WRAPPERS.sub("", text)
        try:
            return json.loads(unwrapped, strict=False)
        except RecursionError:
            raise NestingTooDeep() from None
        except json.JSONDecodeError:
            raise error from None


_SCRIPT_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")

#: Types of the fact-checker itself; any other author (a ``Person``) is the journalist.
_ORGANIZATIONS = {"Organization", "NewsMediaOrganization", "Corporation", "NGO"}


def _resolver(data: Any) -> dict[str, dict[str, Any]]:
    """The document's nodes by ``@id``: Yoast-made pages write ``"author": {"@id": …}``
    and describe the person or organization once, elsewhere in the graph."""
    named: dict[str, dict[str, Any]] = {}
    for node in _nodes(data):
        key = node.get("@id")
        if isinstance(key, str) and len(node) > 1:
            named.setdefault(key, node)
    return named


def _entities(value: Any, named: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``author``/``publisher`` as nodes: one or a list, references followed."""
    values = value if isinstance(value, list) else [value]
    found = []
    for entry in values:
        if isinstance(entry, str):
            entry = {"name": entry}
        if isinstance(entry, dict):
            key = entry.get("@id")
            found.append(named.get(key, entry) if isinstance(key, str) else entry)
    return found


def _checker(node: dict[str, Any], named: dict[str, dict[str, Any]]) -> str:
    """The organization that checked: the ``publisher``, else an author that is an
    organization, else the organization a journalist works for. A journalist's own name
    is not the fact-checker."""
    for publisher in _entities(node.get("publisher"), named):
        if name := _words(publisher):
            return name
    authors = _entities(node.get("author"), named)
    for author in authors:
        # An author without a type may be either: kept, as the only name given.
        if (_types(author) & _ORGANIZATIONS or not _types(author)) and (name := _words(author)):
            return name
    for author in authors:
        for employer in ("worksFor", "affiliation", "memberOf"):
            for organization in _entities(author.get(employer), named):
                if name := _words(organization):
                    return name
    return ""


def _page_address(data: Any) -> str:
    """The address of the page the document describes: its ``WebPage`` node's ``url`` or
    ``@id``."""
    for node in _nodes(data):
        if "WebPage" in _types(node):
            for key in ("url", "@id"):
                if address := web_address(_text(node.get(key)).split("#", 1)[0]):
                    return address
    return ""


#: A host written without its scheme (``aosfatos.org/noticias/…``): a name with a dot whose
#: last label is letters and not a page's extension (``index.php/…`` is a path).
_BARE_HOST = re.compile(
    r"^((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})(?::\d+)?(?:[/?#]|$)", re.I
)
_PAGE_EXTENSIONS = {"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cgi"}


def _bare_host(given: str, page_url: str) -> bool:
    """Whether ``given`` starts with a host name rather than a relative path: the page's
    own host (with or without ``www.``), or any host name when the page's is unknown."""
    match = _BARE_HOST.match(given)
    if not match or match.group(1).rsplit(".", 1)[-1].lower() in _PAGE_EXTENSIONS:
        return False
    if not page_url:
        return True
    page_host = (urlsplit(page_url).hostname or "").lower().removeprefix("www.")
    return match.group(1).lower().removeprefix("www.") == page_host


def _review_address(given: str, page_url: str, where: str, notes: list[str]) -> str:
    if not given or web_address(given):
        return web_address(given)
    if _bare_host(given, page_url):
        # Resolved as a path it would become <page>/aosfatos.org/…, an address that is
        # not the review's.
        return web_address(f"https://{given}")
    # A fact-checker's page is not trusted to give a web address: a relative one is
    # resolved against the page's, anything else is left out.
    resolved = web_address(urljoin(page_url, given)) if page_url else ""
    if not resolved:
        notes.append(
            f"{where}: the review address {given!r} is not a web address"
            + ("" if page_url else " and the page's address is unknown")
            + "; it was left out"
        )
    return resolved


def claims_from_json(
    text: str, *, page_url: str = "", notes: list[str] | None = None
) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of a JSON-LD document (a fact-checker's feed), or the
    reviews of a Google Fact Check Tools answer, as text. Raises
    :class:`LibraryImportError` or ``json.JSONDecodeError``. What was skipped or left out
    is said in ``notes``, one sentence each."""
    data = _load_json(text)
    google = _google_claims(data)
    if google is not None:
        _check(data)
        return _claims_from_google(google, [] if notes is None else notes)
    return claims_from_jsonld(data, page_url=page_url, notes=notes)


def _google_claims(data: Any) -> list[dict[str, Any]] | None:
    """The claims of a Google Fact Check Tools answer (a ``claims:search`` page, a list of
    its claims or one claim), else None: a JSON-LD document has none of their shape."""
    if isinstance(data, dict) and "@type" not in data and "@graph" not in data:
        if isinstance(data.get("claims"), list):
            data = data["claims"]
        elif isinstance(data.get("claimReview"), list):
            data = [data]
    if not isinstance(data, list) or not data:
        return None
    claims = [entry for entry in data if isinstance(entry, dict)]
    if not claims or any(
        not isinstance(c.get("claimReview"), list) or "@type" in c for c in claims
    ):
        return None
    return claims


def _claims_from_google(claims: list[dict[str, Any]], notes: list[str]) -> list[CheckedClaim]:
    found: list[CheckedClaim] = []
    number = 0
    for claim in claims:
        text = _words(claim.get("text"))
        for review in claim["claimReview"]:
            if not isinstance(review, dict):
                continue
            number += 1
            where = f"ClaimReview {number}"
            verdict = _words(review.get("textualRating"))
            if not text or not verdict:
                missing = "claim" if not text else "verdict"
                label = _text(review.get("url")) or _words(review.get("title"))
                notes.append(
                    f"{where}{f' ({label})' if label else ''}: skipped, its {missing} is empty"
                )
                continue
            publisher = review.get("publisher")
            publisher = publisher if isinstance(publisher, dict) else {}
            found.append(
                CheckedClaim(
                    text=text,
                    verdict=verdict,
                    # Google gives absolute addresses; anything else is left out (said).
                    url=_review_address(_text(review.get("url")), "", where, notes),
                    source=_words(publisher.get("name")) or _words(publisher.get("site")),
                    published=_text(review.get("reviewDate")),
                    language=_text(review.get("languageCode")),
                    title=_words(review.get("title")),
                    claimant=_words(claim.get("claimant")),
                )
            )
    return found


def claims_from_jsonld(
    data: Any, *, page_url: str = "", language: str = "", notes: list[str] | None = None
) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of a parsed JSON-LD document; other objects are ignored.
    A review without a claim or a verdict is skipped (said in ``notes``): it says nothing
    usable. Relative review addresses are resolved against ``page_url``, else the
    document's ``WebPage``; ``language`` (the page's) is used when a review gives none.
    Data nested too deeply or holding text no database stores raises
    :class:`LibraryImportError`."""
    _check(data)
    notes = [] if notes is None else notes
    named = _resolver(data)
    page_url = web_address(page_url) or _page_address(data)
    found: list[CheckedClaim] = []
    reviews = (node for node in _nodes(data) if "ClaimReview" in _types(node))
    for number, node in enumerate(reviews, start=1):
        where = f"ClaimReview {number}"
        item = node.get("itemReviewed")
        item = item if isinstance(item, dict) else {}
        text = _words(node.get("claimReviewed")) or _words(item.get("name"))
        verdict = _verdict(node.get("reviewRating"))
        if not text or not verdict:
            missing = "claim" if not text else "verdict"
            label = _text(node.get("url")) or _words(node.get("headline"))
            notes.append(
                f"{where}{f' ({label})' if label else ''}: skipped, its {missing} is empty"
            )
            continue
        found.append(
            CheckedClaim(
                text=text,
                verdict=verdict,
                url=_review_address(_text(node.get("url")), page_url, where, notes),
                source=_checker(node, named),
                published=_text(node.get("datePublished")),
                language=_language(node.get("inLanguage")) or language,
                title=_words(node.get("headline")) or _words(node.get("name")),
                claimant=next(
                    (name for e in _entities(item.get("author"), named) if (name := _words(e))),
                    "",
                ),
            )
        )
    return found


def _language(value: Any) -> str:
    """``inLanguage`` as a code: a ``Language`` node's ``alternateName`` is the code."""
    if isinstance(value, dict) and _text(value.get("alternateName")):
        return _text(value.get("alternateName"))
    return _text(value)


class _JsonLdScripts(HTMLParser):
    """The JSON-LD scripts of a page, and what says its language and address."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.language = ""
        self.address = ""
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "").strip() for name, value in attrs}
        kind = values.get("type", "")
        self._inside = tag == "script" and kind.lower() == "application/ld+json"
        if self._inside:
            self.scripts.append("")
        elif tag == "html" and not self.language:
            self.language = values.get("lang", "") or values.get("xml:lang", "")
        elif tag == "base" or (tag == "link" and values.get("rel", "").lower() == "canonical"):
            self.address = self.address or web_address(values.get("href"))
        elif tag == "meta" and values.get("property", "").lower() == "og:url":
            self.address = self.address or web_address(values.get("content"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.scripts[-1] += data

    def handle_comment(self, data: str) -> None:
        # "saved from url=(0063)https://…": the browser that saved the page said where from.
        saved = data.strip()
        if saved.startswith("saved from url=") and not self.address:
            self.address = web_address(saved.split(")", 1)[-1])


def claims_from_html(
    html_page: str, *, page_url: str = "", notes: list[str] | None = None
) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of every JSON-LD script of a fact-checker's page. Each
    script is read on its own and tolerantly; one still unreadable is skipped and said in
    ``notes``, unless no script could be read at all (:class:`LibraryImportError`). The
    page's ``<html lang>`` is the language of reviews that give none; its address
    (``page_url``, else its ``<base>``, canonical link or ``og:url``) resolves relative
    review addresses."""
    notes = [] if notes is None else notes
    parser = _JsonLdScripts()
    parser.feed(html_page)
    parser.close()
    documents: list[Any] = []
    unreadable: list[str] = []
    for number, script in enumerate(parser.scripts, start=1):
        try:
            documents.append(_load_script(script))
        except json.JSONDecodeError as error:
            unreadable.append(
                f"JSON-LD script {number}: not valid JSON ({error.msg}, line {error.lineno})"
            )
    if unreadable and not documents:
        raise LibraryImportError("; ".join(unreadable))
    notes.extend(f"{problem}; skipped" for problem in unreadable)
    # Read as one document, so that a review's "@id" references reach the other scripts.
    return claims_from_jsonld(
        documents,
        page_url=web_address(page_url) or parser.address,
        language=parser.language,
        notes=notes,
    )


def claims_from_csv(content: str) -> list[CheckedClaim]:
    """A CSV fact-check file (columns :data:`CSV_COLUMNS`, header required). The whole file
    is checked first: any bad row stops the import, and every bad row is listed."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    columns = {c.strip().lower() for c in reader.fieldnames or [] if c}
    missing = [c for c in ("claim", "verdict") if c not in columns]
    if missing:
        raise LibraryImportError(f"missing column(s): {', '.join(missing)}")
    claims: list[CheckedClaim] = []
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        if None in row:  # DictReader keeps the values beyond the header under None
            problems.append(f"line {line}: more values than the header has columns")
            continue
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            for name, value in values.items():
                check_text(value, f"line {line}: column '{name}'")
        except UnstorableJSON as error:
            problems.append(str(error))
            continue
        if not values.get("claim"):
            problems.append(f"line {line}: the claim is empty")
            continue
        if not values.get("verdict"):
            problems.append(f"line {line}: the verdict is empty")
            continue
        url = values.get("url", "")
        if url and not web_address(url):
            problems.append(f"line {line}: the url must start with https:// or http://")
            continue
        claims.append(
            CheckedClaim(
                text=values["claim"],
                verdict=values["verdict"],
                url=url,
                source=values.get("source", ""),
                published=values.get("date", ""),
                language=values.get("language", ""),
                title=values.get("title", ""),
                reply=values.get("reply", ""),
            )
        )
    if problems:
        raise LibraryImportError("; ".join(problems))
    if not claims:
        raise LibraryImportError("no claim in the file")
    return claims
