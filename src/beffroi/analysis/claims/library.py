"""Filling a fact-check library: schema.org ``ClaimReview`` (JSON-LD, as fact-checkers publish
it in their pages and feeds) and CSV files.

``ClaimReview`` fields read (https://schema.org/ClaimReview): ``claimReviewed`` (the claim),
``reviewRating.alternateName`` (the verdict in words; ``ratingValue`` with ``bestRating`` /
``worstRating`` when there are no words), ``url``, ``author.name`` (the fact-checker),
``datePublished``, ``inLanguage``, ``headline`` or ``name`` (the title), and
``itemReviewed`` (a ``Claim`` whose ``author`` and ``datePublished`` say who said it, when).

JSON may not nest deeper than :data:`~beffroi.connectors.fileimport.MAX_JSON_DEPTH` levels
(:class:`NestingTooDeep`) nor hold text no database stores (NUL, lone surrogates): the same
rules as the import of items.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

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

#: Columns of a CSV fact-check file; ``claim`` and ``verdict`` are required.
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
        return _text(rating)
    words = _text(rating.get("alternateName")) or _text(rating.get("name"))
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


def claims_from_json(text: str) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of a JSON-LD document (a fact-checker's feed), as text.
    Raises :class:`LibraryImportError` or ``json.JSONDecodeError``."""
    return claims_from_jsonld(_load_json(text))


def claims_from_jsonld(data: Any) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of a parsed JSON-LD document; other objects are ignored.
    A review without a claim or a verdict is skipped: it says nothing usable. Data nested too
    deeply or holding text no database stores raises :class:`LibraryImportError`."""
    _check(data)
    found: list[CheckedClaim] = []
    for node in _nodes(data):
        if "ClaimReview" not in _types(node):
            continue
        item = node.get("itemReviewed")
        item = item if isinstance(item, dict) else {}
        text = _text(node.get("claimReviewed")) or _text(item.get("name"))
        verdict = _verdict(node.get("reviewRating"))
        if not text or not verdict:
            continue
        found.append(
            CheckedClaim(
                text=text,
                verdict=verdict,
                # A fact-checker's page is not trusted to give a web address.
                url=web_address(_text(node.get("url"))),
                source=_text(node.get("author")) or _text(node.get("publisher")),
                published=_text(node.get("datePublished")),
                language=_text(node.get("inLanguage")),
                title=_text(node.get("headline")) or _text(node.get("name")),
                claimant=_text(item.get("author")),
            )
        )
    return found


class _JsonLdScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = dict(attrs).get("type") or ""
        self._inside = tag == "script" and kind.strip().lower() == "application/ld+json"
        if self._inside:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.scripts[-1] += data


def claims_from_html(html: str) -> list[CheckedClaim]:
    """The ``ClaimReview`` objects of every JSON-LD script of a fact-checker's page."""
    parser = _JsonLdScripts()
    parser.feed(html)
    found: list[CheckedClaim] = []
    for number, script in enumerate(parser.scripts, start=1):
        try:
            data = _load_json(script)
        except json.JSONDecodeError as error:
            raise LibraryImportError(
                f"JSON-LD script {number}: not valid JSON ({error.msg}, line {error.lineno})"
            ) from error
        found.extend(claims_from_jsonld(data))
    return found


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
