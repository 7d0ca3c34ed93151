"""The organization's fact-check library and the items that repeat its claims:
``beffroi.analysis.claims`` (retrieval, and the ClaimReview and CSV libraries) over the
stored items."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils.translation import ngettext

from beffroi.analysis.claims.library import CheckedClaim as ImportedClaim
from beffroi.analysis.claims.retrieval import Calibration, Claim, ClaimIndex
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import advance, cursor_for, new_item_batches, newest_item_id, reset
from beffroi.veille.impersonation import handle_key, own_handles
from beffroi.veille.models import CheckedClaim, ClaimMatch

ANALYZER = "claims"
#: The sentence-encoder cosine from which the best claim counts as repeated by an item
#: whatever the organization's other posts look like. On the CLEF 2020 dev split (about
#: 10,000 claims) the best claim at 0.6 or more is the right one 87 % of the time
#: (docs/veille.md); a smaller library makes false matches rarer still.
MATCH_MIN_SIMILARITY = 0.6
#: Or: the best claim's calibrated score (words and meaning, in standard deviations above
#: the organization's ordinary posts in the item's language; ``ClaimIndex.calibrated``)
#: from which it counts as repeated. Measured on the demo town (docs/veille.md,
#: ``beffroi eval claims-demo``).
MATCH_MIN_CALIBRATED = 2.5
#: Texts shorter than this say too little to match a claim.
MIN_CHARS = 20
#: The organization's latest posts (of at least MIN_CHARS) that calibrate the library.
CALIBRATION_POSTS = 2000
#: A narrative of which at least this many items, and this share of its items, repeat one
#: claim repeats it as a whole: its other items (rewordings the encoder scores lower, one
#: story told in other words) are matched too.
NARRATIVE_MIN_MATCHES = 2
NARRATIVE_MIN_SHARE = 0.25
#: A watch of which at least this many hits by others, and this share of them, repeat one
#: claim (by their words and meaning, or their narrative's) follows that claim: its other hits repeat it from a
#: calibrated score of WATCH_MIN_CALIBRATED (one standard deviation above the organization's
#: ordinary posts), the watch having already said that they speak of the claim's subject.
#: A broad watch (« la maire ») follows no claim: few of its hits repeat any one.
WATCH_MIN_MATCHES = 2
WATCH_MIN_SHARE = 0.25
WATCH_MIN_CALIBRATED = 1.0
#: Replies to an item that spreads a claim are matched to it down to this depth: agreeing,
#: doubting or asking, they are where an answer to the claim is needed.
THREAD_MAX_DEPTH = 4
WATCH_ANALYZER = "claims-watch"

_cache_lock = threading.Lock()
_index_cache: dict[int, tuple[tuple[int, int], ClaimIndex, list[int], Calibration | None]] = {}


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
    A value longer than its column is cut after a word and said in the result's notes; so is
    a suggested reply the file gives, which is not stored (replies are the counter-speech
    library's, which imports its own files)."""
    created = existing = 0
    notes: list[str] = []
    replies = sum(1 for claim in claims if claim.reply.strip())
    if replies:
        notes.append(
            ngettext(
                "%(count)d suggested reply in the file was left out: replies are kept in the "
                "counter-speech library, which imports its own files",
                "%(count)d suggested replies in the file were left out: replies are kept in "
                "the counter-speech library, which imports its own files",
                replies,
            )
            % {"count": replies}
        )
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
    reset(organization, WATCH_ANALYZER)


Built = tuple[ClaimIndex, list[int], Calibration | None]


def _index(organization: Organization) -> Built | None:
    claims = list(CheckedClaim.objects.filter(organization=organization).order_by("pk"))
    if not claims:
        return None
    version = (len(claims), max(claim.pk for claim in claims))
    with _cache_lock:
        cached = _index_cache.get(organization.pk)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2], cached[3]
    index = ClaimIndex([Claim(str(c.pk), c.statement, c.title) for c in claims])
    ids = [claim.pk for claim in claims]
    calibration = _calibration(organization, index)
    with _cache_lock:
        _index_cache[organization.pk] = (version, index, ids, calibration)
    return index, ids, calibration


def _calibration(organization: Organization, index: ClaimIndex) -> Calibration | None:
    """The library scored against the organization's latest posts by others: what an
    ordinary post of each language scores (its own posts answer claims, so they are left
    out)."""
    own = own_handles(organization)
    recent = (
        Item.objects.filter(organization=organization)
        .select_related("author")
        .order_by("-created_at")[: 2 * CALIBRATION_POSTS]
    )
    posts = [
        item
        for item in recent
        if len(item.text_as_read.strip()) >= MIN_CHARS and handle_key(item.author.handle) not in own
    ][:CALIBRATION_POSTS]
    return index.calibrate(
        [item.text_as_read for item in posts], [item.language or "" for item in posts]
    )


def match_items(organization: Organization) -> int:
    """Match every item not yet looked at against the library; returns the matches made."""
    made = 0
    built: Built | None = None
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


@dataclass(frozen=True)
class Scored:
    """The best claim for one item: its id, the cosine shown to people, the calibrated
    score (``None`` without calibration) and whether it counts as a repetition."""

    claim_id: int
    similarity: float
    calibrated: float | None
    matched: bool


def score_items(built: Built, items: list[Item]) -> list[Scored]:
    """The best claim of the library for each item (fused ranking, as ``beffroi eval
    claims`` measures it) and whether the item repeats it: a sentence-encoder cosine of
    MATCH_MIN_SIMILARITY or more, or a calibrated score of MATCH_MIN_CALIBRATED or more."""
    index, ids, calibration = built
    # A quote of a hoax spreads it: the quoted post is matched with the item.
    texts = [item.text_as_read for item in items]
    best = index.search(texts, k=1)
    similarity = index.similarity(texts)
    calibrated = (
        index.calibrated(texts, [item.language or "" for item in items], calibration)
        if calibration is not None
        else None
    )
    position = {str(pk): n for n, pk in enumerate(ids)}
    scored = []
    for row, ranked in enumerate(best):
        column = position[ranked[0].claim_id]
        value = float(similarity[row, column])
        z = float(calibrated[row, column]) if calibrated is not None else None
        matched = value >= MATCH_MIN_SIMILARITY or (z is not None and z >= MATCH_MIN_CALIBRATED)
        scored.append(Scored(ids[column], value, z, matched))
    return scored


def _matches(organization: Organization, built: Built, items: list[Item]) -> list[ClaimMatch]:
    matches = [
        ClaimMatch(
            organization=organization,
            item=item,
            claim_id=found.claim_id,
            similarity=round(found.similarity, 4),
        )
        for item, found in zip(items, score_items(built, items), strict=True)
        if found.matched
    ]
    answers = _answering(organization)
    by_id = {item.pk: item for item in items}
    return [match for match in matches if not answers(by_id[match.item_id])]


def _answering(organization: Organization) -> Callable[[Item], bool]:
    """Whether an item is the organization's own: its posts (its rebuttals first) resemble
    the claims they deny, they are not repetitions."""
    rebuttals = set(
        CheckedClaim.objects.filter(organization=organization, item__isnull=False).values_list(
            "item_id", flat=True
        )
    )
    own = own_handles(organization)
    return lambda item: item.pk in rebuttals or handle_key(item.author.handle) in own


def follow_context(organization: Organization) -> int:
    """Match what the items' context says repeats a claim, after the items were matched on
    their own text and the narratives updated: the other items of the narratives that repeat
    one, the other hits of the watches that follow one, then the threads under every match.
    Returns the matches made."""
    made = follow_narratives(organization)
    made += follow_watches(organization)
    return made + follow_threads(organization)


def follow_watches(organization: Organization) -> int:
    """Match the hits of every watch that follows a claim (see WATCH_MIN_MATCHES) that score
    WATCH_MIN_CALIBRATED or more against it; returns the matches made.

    Reads the hits of items not looked at yet, and all the hits of a watch when it starts
    following a claim (its cursor keeps the pairs followed)."""
    from beffroi.veille.models import WatchHit

    cursor = cursor_for(organization, WATCH_ANALYZER)
    hits: dict[int, set[int]] = {}
    for watch_id, item_id in WatchHit.objects.filter(
        watch__organization=organization, watch__enabled=True
    ).values_list("watch_id", "item_id"):
        hits.setdefault(watch_id, set()).add(item_id)
    if not hits:
        return 0
    own = own_handles(organization)
    others = {
        pk
        for pk, handle in Item.objects.filter(
            pk__in={pk for items in hits.values() for pk in items}
        ).values_list("pk", "author__handle")
        if handle_key(handle) not in own
    }
    by_text: dict[int, set[int]] = {}  # what the items or their narratives say
    for item_id, claim_id in ClaimMatch.objects.filter(
        organization=organization,
        evidence__in=[ClaimMatch.Evidence.TEXT, ClaimMatch.Evidence.NARRATIVE],
    ).values_list("item_id", "claim_id"):
        by_text.setdefault(item_id, set()).add(claim_id)
    followed: set[tuple[int, int]] = set()
    for watch_id, items in hits.items():
        counted: dict[int, int] = {}
        for pk in items & others:
            for claim_id in by_text.get(pk, ()):
                counted[claim_id] = counted.get(claim_id, 0) + 1
        for claim_id, count in counted.items():
            if count >= WATCH_MIN_MATCHES and count >= WATCH_MIN_SHARE * len(items & others):
                followed.add((watch_id, claim_id))
    before = {tuple(pair) for pair in cursor.state.get("followed", [])}
    newest = newest_item_id(organization)
    wanted: dict[int, set[int]] = {}  # item -> claims it may repeat
    for watch_id, claim_id in followed:
        since = 0 if (watch_id, claim_id) not in before else cursor.last_item_id
        for pk in hits[watch_id] & others:
            if since < pk <= newest and claim_id not in by_text.get(pk, ()):
                wanted.setdefault(pk, set()).add(claim_id)
    made = _scored_matches(organization, wanted) if wanted else []
    with transaction.atomic():
        ClaimMatch.objects.bulk_create(made, ignore_conflicts=True)
        cursor.state = {"followed": sorted([watch, claim] for watch, claim in followed)}
        cursor.last_item_id = max(cursor.last_item_id, newest)
        cursor.save(update_fields=["last_item_id", "state", "updated_at"])
    return len(made)


def _scored_matches(organization: Organization, wanted: dict[int, set[int]]) -> list[ClaimMatch]:
    """Matches (evidence: watch) of the items in ``wanted`` to those of their claims they
    score WATCH_MIN_CALIBRATED or more against."""
    built = _index(organization)
    if built is None:
        return []
    index, ids, calibration = built
    if calibration is None:  # too few posts to say what an ordinary one scores
        return []
    answers = _answering(organization)
    items = [
        item
        for item in Item.objects.filter(pk__in=wanted).select_related("author").order_by("pk")
        if len(item.text_as_read.strip()) >= MIN_CHARS and not answers(item)
    ]
    if not items:
        return []
    texts = [item.text_as_read for item in items]
    calibrated = index.calibrated(texts, [item.language or "" for item in items], calibration)
    similarity = index.similarity(texts)
    position = {pk: column for column, pk in enumerate(ids)}
    return [
        ClaimMatch(
            organization=organization,
            item=item,
            claim_id=claim_id,
            similarity=round(float(similarity[row, position[claim_id]]), 4),
            evidence=ClaimMatch.Evidence.WATCH,
        )
        for row, item in enumerate(items)
        for claim_id in sorted(wanted[item.pk])
        if claim_id in position and calibrated[row, position[claim_id]] >= WATCH_MIN_CALIBRATED
    ]


def follow_threads(organization: Organization) -> int:
    """Match the replies under every matched item to its claims, down to THREAD_MAX_DEPTH
    (the organization's own replies never); returns the matches made."""
    claims_of: dict[int, set[int]] = {}
    for item_id, claim_id in ClaimMatch.objects.filter(organization=organization).values_list(
        "item_id", "claim_id"
    ):
        claims_of.setdefault(item_id, set()).add(claim_id)
    answers = _answering(organization)
    frontier = set(claims_of)
    wanted: dict[int, set[int]] = {}  # claim -> replies to match
    replies: dict[int, Item] = {}
    for _depth in range(THREAD_MAX_DEPTH):
        reached: set[int] = set()
        parents = sorted(frontier)
        for start in range(0, len(parents), 500):
            for reply in Item.objects.filter(
                organization=organization, parent_id__in=parents[start : start + 500]
            ).select_related("author"):
                assert reply.parent_id is not None
                missing = claims_of[reply.parent_id] - claims_of.get(reply.pk, set())
                if not missing or answers(reply):
                    continue
                claims_of.setdefault(reply.pk, set()).update(missing)
                replies[reply.pk] = reply
                for claim_id in missing:
                    wanted.setdefault(claim_id, set()).add(reply.pk)
                reached.add(reply.pk)
        if not (frontier := reached):
            break
    made: list[ClaimMatch] = []
    for claim_id, pks in wanted.items():
        claim = CheckedClaim.objects.get(pk=claim_id)
        items = [replies[pk] for pk in sorted(pks)]
        made.extend(
            ClaimMatch(
                organization=organization,
                item=item,
                claim=claim,
                similarity=round(value, 4),
                evidence=ClaimMatch.Evidence.THREAD,
            )
            for item, value in zip(items, _claim_similarity(claim, items), strict=True)
        )
    ClaimMatch.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def follow_narratives(organization: Organization) -> int:
    """Match the other items of every narrative that repeats a claim as a whole (see
    NARRATIVE_MIN_MATCHES); returns the matches made. Run after the narratives are updated:
    the clusterer groups rewordings and translations of one story that the encoder alone
    scores too low against the claim."""
    from beffroi.veille.models import Narrative, NarrativeItem

    members: dict[int, list[int]] = {}
    for narrative_id, item_id in NarrativeItem.objects.filter(
        narrative__organization=organization, narrative__status=Narrative.Status.ACTIVE
    ).values_list("narrative_id", "item_id"):
        members.setdefault(narrative_id, []).append(item_id)
    matched: dict[int, set[int]] = {}
    for item_id, claim_id in ClaimMatch.objects.filter(organization=organization).values_list(
        "item_id", "claim_id"
    ):
        matched.setdefault(item_id, set()).add(claim_id)
    wanted: dict[int, set[int]] = {}  # claim -> items of its narratives not yet matched
    for items in members.values():
        counted: dict[int, int] = {}
        for item_id in items:
            for claim_id in matched.get(item_id, ()):
                counted[claim_id] = counted.get(claim_id, 0) + 1
        for claim_id, count in counted.items():
            if count >= NARRATIVE_MIN_MATCHES and count >= NARRATIVE_MIN_SHARE * len(items):
                wanted.setdefault(claim_id, set()).update(
                    pk for pk in items if claim_id not in matched.get(pk, ())
                )
    answers = _answering(organization)
    made: list[ClaimMatch] = []
    for claim_id, pks in wanted.items():
        missing = [
            item
            for item in Item.objects.filter(pk__in=pks).select_related("author").order_by("pk")
            if not answers(item)
        ]
        if not missing:  # the organization's own posts: never, and without loading the encoder
            continue
        claim = CheckedClaim.objects.get(pk=claim_id)
        made.extend(
            ClaimMatch(
                organization=organization,
                item=item,
                claim=claim,
                similarity=round(v, 4),
                evidence=ClaimMatch.Evidence.NARRATIVE,
            )
            for item, v in zip(missing, _claim_similarity(claim, missing), strict=True)
        )
    ClaimMatch.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def _claim_similarity(claim: CheckedClaim, items: list[Item]) -> list[float]:
    """The sentence-encoder cosine of each item with one claim (shown beside the match)."""
    built = _index(claim.organization)
    if built is None:
        return [0.0] * len(items)
    index, ids, _calibration = built
    column = ids.index(claim.pk)
    values = index.similarity([item.text_as_read for item in items])
    return [float(values[row, column]) for row in range(len(items))]


def rebuttal_draft(item: Item, user: Any = None) -> CheckedClaim:
    """An unsaved library entry for the organization's own post ``item``: the organization
    the checker, the post the fact-check; the claim it denies is for a person to write (and
    what to answer to it, in the counter-speech library)."""
    return CheckedClaim(
        organization=item.organization,
        url=item.url,
        source=item.organization.name[:200],
        reviewed_on=item.created_at.date(),
        language=item.language,
        origin=CheckedClaim.Origin.REBUTTAL,
        item=item,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def add_rebuttal(item: Item, statement: str, verdict: str, user: Any) -> CheckedClaim:
    """The organization's own post denying a false claim joins its library (the post's text,
    as a reply, is the counter-speech library's to keep)."""
    claim = rebuttal_draft(item, user)
    claim.statement, claim.verdict = statement, verdict
    claim.key = claim_key(statement, item.url or f"item:{item.pk}")
    claim.save()
    library_changed(item.organization)
    return claim
