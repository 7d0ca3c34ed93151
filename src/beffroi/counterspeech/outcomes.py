"""Did it work? What followed each answer given with an entry of the library — was the
answered post removed by its author, did the hateful replies in its thread slow down, did the
hoax it repeats spread more slowly in the veille — per answer, and summed up per strategy or
per any grouping a caller passes (the briefs app groups them per brief).

These are observations, not experiments: other things happened at the same time (the
moderation hid replies, the story left the news, the platform ranked the thread down), the
numbers are small, and no comparable post was left unanswered to compare with. The pages say
so above every figure.

Reading only: nothing here writes. Each measure keeps the counts it rests on; a measure that
cannot be read (``unknown``: no reply collected, no claim or narrative) or not yet
(``too early``: its window after the answer is not over) stays apart from a zero, and out of
the medians.

Where the facts come from:

- *removed*: the item is no longer visible and no decision of the organization explains it
  (a hide or deletion it decided, carried out or not): its author or the platform removed it.
  The platforms do not say when, and Beffroi keeps no date for it: only *that* it happened.
- *hateful replies*: the other items of the answered item's thread (as the item page reads a
  thread) that the charter's judgement flagged (review or hide) in a hateful or violent
  category, or that a person of the organization hid or deleted for one; per hour, in equal
  windows before and after the answer.
- *spread*: the items, posted in those windows, that repeat a checked claim the answered item
  repeats (:class:`~beffroi.veille.models.ClaimMatch`) or belong to its narrative.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.counterspeech.models import Entry, EntryQuerySet, EntryUse, Strategy
from beffroi.counterspeech.services import visible_entries
from beffroi.items.models import Item
from beffroi.moderation.display import SENSITIVE_CATEGORIES
from beffroi.moderation.models import Decision
from beffroi.moderation.platform import VISIBILITY_AFTER
from beffroi.organizations.models import Organization
from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative, NarrativeItem

#: The window read on each side of an answer.
WINDOW = timedelta(hours=24)
#: The answers read per call at most (the most recent): each costs two small queries.
MAX_ANSWERS = 500
#: The gaps listed per kind at most (the most active first).
MAX_GAPS = 100
#: The categories counted as hateful replies: those the moderation blurs as hateful or violent,
#: and insults — the hostile replies an answer hopes to slow down.
HATEFUL_CATEGORIES = SENSITIVE_CATEGORIES | {"insult"}
#: The charter's verdicts that flag an item (``keep`` does not).
FLAGGED_VERDICTS = ("review", "hide")
#: Decisions that were never acted on: they explain nothing the item went through.
NOT_ACTED = (Decision.Status.PROPOSED, Decision.Status.SHADOW)


class Status(StrEnum):
    MEASURED = "measured"
    TOO_EARLY = "too_early"
    UNKNOWN = "unknown"


class Removal(StrEnum):
    VISIBLE = "visible"
    #: By its author or the platform: no decision of the organization explains it.
    NOT_BY_ORGANIZATION = "not_by_organization"
    BY_ORGANIZATION = "by_organization"


@dataclass(frozen=True)
class Window:
    """What was counted in one window: ``count`` items in ``hours`` hours (``of``: among how
    many replies, for the hateful replies)."""

    count: int
    hours: float
    of: int | None = None

    @property
    def per_hour(self) -> float:
        return self.count / self.hours if self.hours > 0 else 0.0


@dataclass(frozen=True)
class Trend:
    """One measure before and after an answer. ``after`` holds what was counted so far when
    it is too early."""

    status: Status
    before: Window | None = None
    after: Window | None = None

    @property
    def change(self) -> float | None:
        """After minus before, per hour (negative: it slowed down); None unless measured."""
        if self.status != Status.MEASURED or self.before is None or self.after is None:
            return None
        return self.after.per_hour - self.before.per_hour


@dataclass(frozen=True)
class Answered:
    """An item answered at ``answered_at`` (with ``entry`` when known)."""

    item: Item
    answered_at: datetime
    entry: Entry | None = None


@dataclass(frozen=True)
class Outcome:
    """What followed one answer."""

    item: Item
    answered_at: datetime
    entry: Entry | None
    removal: Removal
    hateful_replies: Trend
    spread: Trend
    #: What the spread is counted on: the claims the item repeats, its narrative.
    claims: tuple[CheckedClaim, ...]
    narrative: Narrative | None

    @property
    def strategy(self) -> str:
        return self.entry.strategy if self.entry is not None else ""

    @property
    def author_removed(self) -> bool:
        return self.removal == Removal.NOT_BY_ORGANIZATION


@dataclass(frozen=True)
class Figures:
    """A measure over a group of answers: its median change per hour over those where it was
    measured (``measured``: the n it rests on), how many slowed down, and the answers left
    out because it was too early or unknown."""

    median_change: float | None
    measured: int
    slowed: int
    too_early: int
    unknown: int


@dataclass(frozen=True)
class Summary:
    """A group of answers (a strategy, a brief…) and what followed them."""

    key: str
    label: str
    answered: int
    removed_by_author: int
    hateful_replies: Figures
    spread: Figures

    @property
    def share_removed(self) -> float | None:
        """The share of the answered items removed by their author (n: ``answered``)."""
        return self.removed_by_author / self.answered if self.answered else None


AnswerLike = Answered | tuple[Item, datetime] | tuple[Item, datetime, Entry | None]


def _answered(given: AnswerLike) -> Answered:
    if isinstance(given, Answered):
        return given
    if len(given) == 3:
        return Answered(given[0], given[1], given[2])
    return Answered(given[0], given[1])


# --- the answers ------------------------------------------------------------------------------


def answers_of(
    organization: Organization | int, since: datetime, until: datetime | None = None
) -> list[Answered]:
    """The items ``organization`` answered with an entry (a use with an item) between
    ``since`` and ``until``, each once with its first answer, most recent first (at most
    :data:`MAX_ANSWERS`)."""
    uses = EntryUse.objects.for_org(organization).filter(
        item__isnull=False, item__organization=organization, used_at__gte=since
    )
    if until is not None:
        uses = uses.filter(used_at__lt=until)
    firsts = {
        row["item_id"]: row["first"]
        for row in uses.values("item_id")
        .annotate(first=Min("used_at"))
        .order_by("-first", "-item_id")[:MAX_ANSWERS]
    }
    found: dict[int, Answered] = {}
    for use in (
        uses.filter(item_id__in=firsts).select_related("entry", "item").order_by("used_at", "id")
    ):
        item = use.item
        if item is not None and item.pk not in found and use.used_at == firsts[item.pk]:
            found[item.pk] = Answered(item, use.used_at, use.entry)
    return sorted(found.values(), key=lambda a: (a.answered_at, a.item.pk), reverse=True)


# --- what followed ----------------------------------------------------------------------------


def _hours(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 3600


def thread_of(item: Item) -> Q:
    """The other items of ``item``'s thread, as the item page reads a thread."""
    return item.thread_members() & ~Q(pk=item.pk)


def hateful(organization: Organization | int) -> Q:
    """The items flagged as hateful by the charter's judgement, or hidden or deleted as such
    by a decision of the organization."""
    decided = (
        Decision.objects.for_org(organization)
        .filter(
            action__in=(Decision.Action.HIDE, Decision.Action.DELETE),
            category__in=HATEFUL_CATEGORIES,
        )
        .exclude(status__in=NOT_ACTED)
        .values("item_id")
    )
    return Q(analysis__verdict__in=FLAGGED_VERDICTS, analysis__category__in=HATEFUL_CATEGORIES) | Q(
        pk__in=decided
    )


def _windows(answered_at: datetime, window: timedelta, now: datetime) -> tuple[float, bool]:
    """The hours of the after-window so far, and whether it is over."""
    over = now >= answered_at + window
    return (_hours(window) if over else _hours(now - answered_at)), over


def _hateful_trend(
    organization: Organization | int,
    answer: Answered,
    window: timedelta,
    now: datetime,
    flagged: Q,
) -> Trend:
    at = answer.answered_at
    counts = (
        Item.objects.for_org(organization)
        .filter(thread_of(answer.item), created_at__gte=at - window, created_at__lt=at + window)
        .aggregate(
            before=Count("pk", filter=flagged & Q(created_at__lt=at)),
            after=Count("pk", filter=flagged & Q(created_at__gte=at)),
            replies_before=Count("pk", filter=Q(created_at__lt=at)),
            replies_after=Count("pk", filter=Q(created_at__gte=at)),
        )
    )
    after_hours, over = _windows(at, window, now)
    before = Window(counts["before"], _hours(window), counts["replies_before"])
    after = Window(counts["after"], after_hours, counts["replies_after"])
    if not over:
        return Trend(Status.TOO_EARLY, before, after)
    if not counts["replies_before"] and not counts["replies_after"]:
        # No reply collected on either side: nothing was observed (not a zero).
        return Trend(Status.UNKNOWN, before, after)
    return Trend(Status.MEASURED, before, after)


def _spread_trend(
    organization: Organization | int,
    answer: Answered,
    claims: Sequence[CheckedClaim],
    narrative: Narrative | None,
    window: timedelta,
    now: datetime,
) -> Trend:
    if not claims and narrative is None:
        return Trend(Status.UNKNOWN)
    at = answer.answered_at
    repeats = Q(claim_matches__claim__in=[claim.pk for claim in claims])
    if narrative is not None:
        repeats |= Q(narrative_link__narrative=narrative.pk)
    counts = (
        Item.objects.for_org(organization)
        .filter(repeats, created_at__gte=at - window, created_at__lt=at + window)
        .exclude(pk=answer.item.pk)
        .aggregate(
            # An item repeating two of the claims counts once.
            before=Count("pk", distinct=True, filter=Q(created_at__lt=at)),
            after=Count("pk", distinct=True, filter=Q(created_at__gte=at)),
        )
    )
    after_hours, over = _windows(at, window, now)
    before = Window(counts["before"], _hours(window))
    after = Window(counts["after"], after_hours)
    return Trend(Status.MEASURED if over else Status.TOO_EARLY, before, after)


def _removal(item: Item, actions: Iterable[str]) -> Removal:
    """Who removed ``item``, from the actions the organization decided on it."""
    if item.visibility == Item.Visibility.VISIBLE:
        return Removal.VISIBLE
    explained = any(VISIBILITY_AFTER.get(action) == item.visibility for action in actions)
    return Removal.BY_ORGANIZATION if explained else Removal.NOT_BY_ORGANIZATION


def outcomes_for_items(
    organization: Organization,
    answers: Iterable[AnswerLike],
    *,
    window: timedelta = WINDOW,
    now: datetime | None = None,
) -> list[Outcome]:
    """What followed each answer: ``answers`` are :class:`Answered` or ``(item,
    answered_at)`` pairs (``(item, answered_at, entry)``), items of ``organization`` only (a
    :class:`ValueError` otherwise: a caller never reads another organization's threads)."""
    given = [_answered(answer) for answer in answers]
    if not given:
        return []
    foreign = [a.item.pk for a in given if a.item.organization_id != organization.pk]
    if foreign:
        raise ValueError(f"Items {foreign} are not the organization's.")
    now = now or timezone.now()
    item_ids = {a.item.pk for a in given}
    decided: dict[int, set[str]] = defaultdict(set)
    for item_id, action in (
        Decision.objects.for_org(organization)
        .filter(item_id__in=item_ids)
        .exclude(status__in=NOT_ACTED)
        .values_list("item_id", "action")
    ):
        decided[item_id].add(action)
    claims_of: dict[int, list[CheckedClaim]] = defaultdict(list)
    for match in (
        ClaimMatch.objects.for_org(organization)
        .filter(item_id__in=item_ids)
        .select_related("claim")
        .order_by("claim_id")
    ):
        claims_of[match.item_id].append(match.claim)
    narrative_of = {
        link.item_id: link.narrative
        for link in NarrativeItem.objects.for_org(organization)
        .filter(item_id__in=item_ids)
        .select_related("narrative")
    }
    flagged = hateful(organization)
    outcomes = []
    for answer in given:
        item = answer.item
        claims = claims_of.get(item.pk, [])
        narrative = narrative_of.get(item.pk)
        outcomes.append(
            Outcome(
                item=item,
                answered_at=answer.answered_at,
                entry=answer.entry,
                removal=_removal(item, decided.get(item.pk, ())),
                hateful_replies=_hateful_trend(organization, answer, window, now, flagged),
                spread=_spread_trend(organization, answer, claims, narrative, window, now),
                claims=tuple(claims),
                narrative=narrative,
            )
        )
    return outcomes


# --- summed up --------------------------------------------------------------------------------


def figures(trends: Sequence[Trend]) -> Figures:
    changes = [change for trend in trends if (change := trend.change) is not None]
    return Figures(
        median_change=median(changes) if changes else None,
        measured=len(changes),
        slowed=sum(1 for change in changes if change < 0),
        too_early=sum(1 for trend in trends if trend.status == Status.TOO_EARLY),
        unknown=sum(1 for trend in trends if trend.status == Status.UNKNOWN),
    )


def summary(key: str, label: str, outcomes: Sequence[Outcome]) -> Summary:
    return Summary(
        key=key,
        label=label,
        answered=len(outcomes),
        removed_by_author=sum(1 for outcome in outcomes if outcome.author_removed),
        hateful_replies=figures([outcome.hateful_replies for outcome in outcomes]),
        spread=figures([outcome.spread for outcome in outcomes]),
    )


def summarize(
    outcomes: Iterable[Outcome],
    key: Callable[[Outcome], str],
    label: Callable[[str], str] = str,
) -> list[Summary]:
    """One :class:`Summary` per value of ``key`` (a strategy, a brief…), the most answered
    first."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[key(outcome)].append(outcome)
    found = [summary(value, label(value), members) for value, members in groups.items()]
    return sorted(found, key=lambda s: (-s.answered, s.label))


def strategy_label(value: str) -> str:
    if value in Strategy.values:
        return str(Strategy(value).label)
    return _("Strategy not known")


def by_strategy(outcomes: Iterable[Outcome]) -> list[Summary]:
    return summarize(outcomes, lambda outcome: outcome.strategy, strategy_label)


def overall(outcomes: Sequence[Outcome]) -> Summary:
    return summary("", _("All answers"), outcomes)


# --- where the library has gaps ---------------------------------------------------------------


@dataclass(frozen=True)
class NarrativeGap:
    narrative: Narrative
    #: Its items posted since the period began.
    recent: int


@dataclass(frozen=True)
class ClaimGap:
    claim: CheckedClaim
    #: The items posted since the period began that repeat it, and the last one's time.
    recent: int
    last_seen: datetime | None


def _covering(organization: Organization) -> EntryQuerySet:
    """The entries that answer a story: approved and within their dates, the organization's
    own or a subscribed library's (what is suggested)."""
    return visible_entries(organization).suggestible()


def narrative_gaps(organization: Organization, since: datetime) -> list[NarrativeGap]:
    """The organization's active narratives seen since ``since`` that no suggested entry is
    filed under, the most active first (at most :data:`MAX_GAPS`)."""
    covered = Entry.narratives.through.objects.filter(
        entry__in=_covering(organization).values("pk")
    ).values("narrative_id")
    found = (
        Narrative.objects.for_org(organization)
        .filter(status=Narrative.Status.ACTIVE, last_seen__gte=since)
        .exclude(pk__in=covered)
        .annotate(recent=Count("members", filter=Q(members__item__created_at__gte=since)))
        .order_by("-recent", "-item_count", "-last_seen", "-id")[:MAX_GAPS]
    )
    return [NarrativeGap(narrative, narrative.recent) for narrative in found]


def claim_gaps(organization: Organization, since: datetime) -> list[ClaimGap]:
    """The organization's checked claims repeated since ``since`` that no suggested entry
    answers, the most repeated first (at most :data:`MAX_GAPS`)."""
    covered = Entry.claims.through.objects.filter(
        entry__in=_covering(organization).values("pk")
    ).values("checkedclaim_id")
    recently = Q(matches__item__created_at__gte=since)
    found = (
        CheckedClaim.objects.for_org(organization)
        .exclude(pk__in=covered)
        .annotate(
            recent=Count("matches__item", distinct=True, filter=recently),
            last_match=Max("matches__item__created_at", filter=recently),
        )
        .filter(recent__gt=0)
        .order_by("-recent", "-last_match", "-id")[:MAX_GAPS]
    )
    return [ClaimGap(claim, claim.recent, claim.last_match) for claim in found]
