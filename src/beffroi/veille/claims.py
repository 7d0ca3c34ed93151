"""The organization's fact-check library and the items that repeat its claims:
``beffroi.analysis.claims`` (retrieval, and the ClaimReview and CSV libraries) over the
stored items."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from beffroi.analysis.claims.library import CheckedClaim as ImportedClaim
from beffroi.analysis.claims.retrieval import Claim, ClaimIndex
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import advance, new_item_batches, reset
from beffroi.veille.impersonation import handle_key, own_handles
from beffroi.veille.models import CheckedClaim, ClaimMatch

ANALYZER = "claims"
#: The sentence-encoder cosine from which the best claim counts as repeated by an item.
#: On the CLEF 2020 dev split (about 10,000 claims) the best claim at 0.6 or more is the right one
#: 87 % of the time (docs/veille.md); a smaller library makes false matches rarer still.
MATCH_MIN_SIMILARITY = 0.6
#: Texts shorter than this say too little to match a claim.
MIN_CHARS = 20

_cache_lock = threading.Lock()
_index_cache: dict[int, tuple[tuple[int, int], ClaimIndex, list[int]]] = {}


def claim_key(statement: str, url: str) -> str:
    """The same claim checked at the same address is one entry of the library."""
    normal = " ".join(statement.casefold().split())
    return hashlib.sha256(f"{normal}\x00{url.strip()}".encode()).hexdigest()[:40]


@dataclass
class LibraryImport:
    created: int
    existing: int
    #: What was skipped, left out or shortened, one sentence each, for the person importing.
    notes: list[str] = field(default_factory=list)


def fit(value: str, limit: int, what: str, notes: list[str]) -> str:
    """``value`` within ``limit`` characters: whole when it fits, else cut after a word
    with "…", and said in ``notes``."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut.strip():
        cut = cut.rstrip()[: cut.rstrip().rfind(" ")]
    shortened = cut.rstrip(" ,;:.-–—") + "…"
    notes.append(f"{what} was longer than {limit} characters; stored as {shortened!r}")
    return shortened


def add_claims(
    organization: Organization,
    claims: list[ImportedClaim],
    *,
    origin: str = CheckedClaim.Origin.IMPORTED,
    user: Any = None,
) -> LibraryImport:
    """Store parsed claims; one already in the library (same statement and address) is kept.
    A value longer than its column is cut after a word and said in the result's notes."""
    created = existing = 0
    notes: list[str] = []
    with transaction.atomic():
        for claim in claims:
            shortened: list[str] = []
            quoted = repr(claim.text[:60])
            defaults = {
                "statement": claim.text,
                "verdict": fit(
                    claim.verdict, _limit("verdict"), f"the verdict of {quoted}", shortened
                ),
                "url": claim.url,
                "source": fit(
                    claim.source, _limit("source"), f"the fact-checker of {quoted}", shortened
                ),
                "claimant": fit(
                    claim.claimant, _limit("claimant"), f"the claimant of {quoted}", shortened
                ),
                "reviewed_on": _date(claim.published),
                "language": claim.language[: _limit("language")],
                "title": fit(claim.title, _limit("title"), f"the title of {quoted}", shortened),
                "reply": claim.reply,
                "origin": origin,
                "created_by": user if getattr(user, "is_authenticated", False) else None,
            }
            _, made = CheckedClaim.objects.get_or_create(
                organization=organization,
                key=claim_key(claim.text, claim.url),
                defaults=defaults,
            )
            created += int(made)
            existing += int(not made)
            if made:  # one kept as it was lost nothing
                notes.extend(shortened)
    if created:
        library_changed(organization)
    return LibraryImport(created, existing, notes)


def _limit(column: str) -> int:
    """The length of a text column, read from the model so that it stays the model's."""
    text_field = CheckedClaim._meta.get_field(column)
    assert isinstance(text_field, models.CharField) and text_field.max_length is not None
    return text_field.max_length


def _date(value: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def library_changed(organization: Organization) -> None:
    """Items are matched again against the new library (by the next scan)."""
    with _cache_lock:
        _index_cache.pop(organization.pk, None)
    reset(organization, ANALYZER)


def _index(organization: Organization) -> tuple[ClaimIndex, list[int]] | None:
    claims = list(CheckedClaim.objects.filter(organization=organization).order_by("pk"))
    if not claims:
        return None
    version = (len(claims), max(claim.pk for claim in claims))
    with _cache_lock:
        cached = _index_cache.get(organization.pk)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
    index = ClaimIndex([Claim(str(c.pk), c.statement, c.title) for c in claims])
    ids = [claim.pk for claim in claims]
    with _cache_lock:
        _index_cache[organization.pk] = (version, index, ids)
    return index, ids


def match_items(organization: Organization) -> int:
    """Match every item not yet looked at against the library; returns the matches made."""
    made = 0
    built: tuple[ClaimIndex, list[int]] | None = None
    for cursor, batch in new_item_batches(organization, ANALYZER, batch_size=500):
        candidates = [item for item in batch if len(item.text_as_read.strip()) >= MIN_CHARS]
        # Built on the first batch only: a scan with nothing new never loads the encoder.
        if built is None and candidates:
            built = _index(organization)
        # Matched before the transaction (the encoder is slow), which then only writes.
        matches = _matches(organization, built, candidates) if built and candidates else []
        with transaction.atomic():
            ClaimMatch.objects.bulk_create(matches, ignore_conflicts=True)
            advance(cursor, batch)
        made += len(matches)
    return made


def _matches(
    organization: Organization, built: tuple[ClaimIndex, list[int]], items: list[Item]
) -> list[ClaimMatch]:
    index, ids = built
    # A quote of a hoax spreads it: the quoted post is matched with the item.
    texts = [item.text_as_read for item in items]
    best = index.search(texts, k=1)
    similarity = index.similarity(texts)
    position = {str(pk): n for n, pk in enumerate(ids)}
    matches = []
    for row, (item, ranked) in enumerate(zip(items, best, strict=True)):
        column = position[ranked[0].claim_id]
        value = float(similarity[row, column])
        if value >= MATCH_MIN_SIMILARITY:
            matches.append(
                ClaimMatch(
                    organization=organization,
                    item=item,
                    claim_id=ids[column],
                    similarity=round(value, 4),
                )
            )
    # The organization's own posts (its rebuttals first) resemble the claims they deny: they
    # are not repetitions.
    rebuttals = set(
        CheckedClaim.objects.filter(organization=organization, item__isnull=False).values_list(
            "item_id", flat=True
        )
    )
    own = own_handles(organization)
    by_id = {item.pk: item for item in items}
    matches = [
        match
        for match in matches
        if match.item_id not in rebuttals
        and handle_key(by_id[match.item_id].author.handle) not in own
    ]
    return matches


def rebuttal_draft(item: Item, user: Any = None) -> CheckedClaim:
    """An unsaved library entry for the organization's own post ``item``: the post is the
    reply, the organization the checker; the claim it denies is for a person to write."""
    return CheckedClaim(
        organization=item.organization,
        url=item.url,
        source=item.organization.name[:200],
        reviewed_on=item.created_at.date(),
        language=item.language,
        reply=item.text,
        origin=CheckedClaim.Origin.REBUTTAL,
        item=item,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def add_rebuttal(item: Item, statement: str, reply: str, verdict: str, user: Any) -> CheckedClaim:
    """The organization's own answer to a false claim joins its library."""
    claim = rebuttal_draft(item, user)
    claim.statement, claim.verdict = statement, verdict
    claim.reply = reply or item.text
    claim.key = claim_key(statement, item.url or f"item:{item.pk}")
    claim.save()
    library_changed(item.organization)
    return claim
