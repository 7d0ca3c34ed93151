"""Did it work? What followed the answers (removal, hateful replies, spread), summed up per
strategy, and the library's gaps; the two pages, their roles, languages and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.counterspeech.conftest import Desk, entry_data

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
_numbers = count(1)

HATEFUL = {"verdict": "review", "category": "hate"}
KEPT = {"verdict": "keep", "category": "hate"}


@dataclass
class Town:
    desk: Desk
    source: Any
    author: Any
    now: datetime

    def item(
        self,
        *,
        at: datetime,
        thread: str = "",
        analysis: dict[str, Any] | None = None,
        visibility: str = "visible",
        kind: str = "comment",
        platform: str = "file",
    ) -> Any:
        from beffroi.items.models import Item

        number = next(_numbers)
        return Item.objects.create(
            organization=self.desk.org,
            source=self.source,
            platform=platform,
            platform_id=f"p{number}",
            kind=kind,
            thread_id=thread,
            author=self.author,
            text=f"Message {number}",
            created_at=at,
            visibility=visibility,
            analysis=analysis or {},
        )

    def decide(self, item: Any, action: str, status: str = "applied", category: str = "") -> Any:
        from beffroi.moderation.models import Decision

        return Decision.objects.create(
            organization=self.desk.org, item=item, action=action, status=status, category=category
        )


@pytest.fixture
def town(desk: Desk, source: Any) -> Town:
    from beffroi.items.models import Author

    author = Author.objects.create(
        organization=desk.org, platform="file", platform_id="a1", handle="a1"
    )
    return Town(desk, source, author, timezone.now().replace(microsecond=0))


def _approved(desk: Desk, **overrides: Any) -> Any:
    from beffroi.counterspeech import services

    entry = services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=True)
    return services.approve(desk.ctx(desk.approver), entry)


def _use(desk: Desk, entry: Any, item: Any, at: datetime) -> Any:
    from beffroi.counterspeech import services
    from beffroi.counterspeech.models import EntryUse

    use = services.record_use(entry, desk.org, item=item, user=desk.writer)
    EntryUse.objects.filter(pk=use.pk).update(used_at=at)
    return use


def _one(town: Town, item: Any, at: datetime) -> Any:
    from beffroi.counterspeech.outcomes import outcomes_for_items

    [outcome] = outcomes_for_items(town.desk.org, [(item, at)], now=town.now)
    return outcome


# --- what followed one answer -----------------------------------------------------------------


def test_removed_by_its_author_is_told_apart_from_removed_by_the_organization(town: Town) -> None:
    from beffroi.counterspeech.outcomes import Removal, outcomes_for_items

    at = town.now - 48 * HOUR
    by_author = town.item(at=at - HOUR, visibility="deleted")
    deleted_by_us = town.item(at=at - HOUR, visibility="deleted")
    town.decide(deleted_by_us, "delete")
    hidden_by_us = town.item(at=at - HOUR, visibility="hidden")
    town.decide(hidden_by_us, "hide", status="undone")  # decided, then undone: still ours
    # Only proposed or in shadow: the organization never acted, so someone else removed it.
    proposed = town.item(at=at - HOUR, visibility="deleted")
    town.decide(proposed, "delete", status="proposed")
    town.decide(proposed, "delete", status="shadow")
    # Hidden by us, then deleted: the deletion is not explained by the hide.
    hidden_then_deleted = town.item(at=at - HOUR, visibility="deleted")
    town.decide(hidden_then_deleted, "hide")
    visible = town.item(at=at - HOUR)
    town.decide(visible, "delete", status="applied")  # refused by the platform: still there
    items = [by_author, deleted_by_us, hidden_by_us, proposed, hidden_then_deleted, visible]
    found = outcomes_for_items(town.desk.org, [(item, at) for item in items], now=town.now)
    assert [outcome.removal for outcome in found] == [
        Removal.NOT_BY_ORGANIZATION,
        Removal.BY_ORGANIZATION,
        Removal.BY_ORGANIZATION,
        Removal.NOT_BY_ORGANIZATION,
        Removal.NOT_BY_ORGANIZATION,
        Removal.VISIBLE,
    ]
    assert [outcome.author_removed for outcome in found] == [True, False, False, True, True, False]


def test_hateful_replies_per_hour_before_and_after_in_the_same_thread(town: Town) -> None:
    from beffroi.counterspeech.outcomes import Status

    at = town.now - 48 * HOUR
    answered = town.item(at=at - 30 * HOUR, thread="t1", analysis=HATEFUL)
    for hours in (1, 5, 20):
        town.item(at=at - hours * HOUR, thread="t1", analysis=HATEFUL)
    town.item(at=at - 2 * HOUR, thread="t1", analysis=KEPT)
    town.item(at=at - 25 * HOUR, thread="t1", analysis=HATEFUL)  # before the window
    town.item(at=at + 3 * HOUR, thread="t1", analysis=HATEFUL)
    hidden = town.item(at=at + 4 * HOUR, thread="t1", analysis=KEPT)
    town.decide(hidden, "hide", category="insult")  # a person judged it hateful
    town.item(at=at + 6 * HOUR, thread="t1", analysis={"verdict": "review", "category": "spam"})
    town.item(at=at + 30 * HOUR, thread="t1", analysis=HATEFUL)  # after the window
    town.item(at=at + HOUR, thread="t2", analysis=HATEFUL)  # another thread
    town.item(at=at + HOUR, thread="t1", platform="x", analysis=HATEFUL)  # another platform

    trend = _one(town, answered, at).hateful_replies
    assert trend.status == Status.MEASURED
    assert trend.before is not None and trend.after is not None
    assert (trend.before.count, trend.before.of, trend.before.hours) == (3, 4, 24)
    assert (trend.after.count, trend.after.of, trend.after.hours) == (2, 3, 24)
    assert trend.before.per_hour == pytest.approx(3 / 24)
    assert trend.change == pytest.approx((2 - 3) / 24)


def test_hateful_replies_too_early_and_unknown_are_not_zeros(town: Town) -> None:
    from beffroi.counterspeech.outcomes import Status, by_strategy

    recent = town.now - 2 * HOUR
    answered = town.item(at=recent - 3 * HOUR, thread="t3")
    town.item(at=recent - HOUR, thread="t3", analysis=HATEFUL)
    town.item(at=recent + HOUR, thread="t3", analysis=HATEFUL)
    early = _one(town, answered, recent)
    trend = early.hateful_replies
    assert trend.status == Status.TOO_EARLY and trend.change is None
    assert trend.after is not None and trend.after.count == 1
    assert trend.after.hours == pytest.approx(2)
    assert early.spread.status == Status.UNKNOWN  # repeats no claim, in no narrative

    # Answered long ago, and nobody replied: nothing observed, not a zero.
    alone = town.item(at=town.now - 50 * HOUR, thread="t4")
    quiet = _one(town, alone, town.now - 49 * HOUR)
    assert quiet.hateful_replies.status == Status.UNKNOWN and quiet.hateful_replies.change is None
    [summary] = by_strategy([early, quiet])
    assert summary.hateful_replies.median_change is None
    assert summary.hateful_replies.measured == 0
    assert (summary.hateful_replies.too_early, summary.hateful_replies.unknown) == (1, 1)


def test_spread_before_and_after_from_claim_matches_and_the_narrative(town: Town) -> None:
    from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative, NarrativeItem

    org = town.desk.org
    claim = CheckedClaim.objects.create(organization=org, key="k1", statement="L'eau est polluée")
    narrative = Narrative.objects.create(organization=org, key="n1", name="Eau polluée")
    at = town.now - 48 * HOUR
    answered = town.item(at=at - HOUR)
    ClaimMatch.objects.create(organization=org, item=answered, claim=claim, similarity=0.9)
    NarrativeItem.objects.create(narrative=narrative, item=answered)

    def repeat(hours: float, *, matches: bool = True, member: bool = False) -> None:
        item = town.item(at=at + hours * HOUR)
        if matches:
            ClaimMatch.objects.create(organization=org, item=item, claim=claim, similarity=0.8)
        if member:
            NarrativeItem.objects.create(narrative=narrative, item=item)

    for hours in (-2, -3, -10, -23):
        repeat(hours)
    repeat(-40)  # before the window
    repeat(2)
    repeat(5, member=True)  # repeats the claim and is in the narrative: counted once
    repeat(7, matches=False, member=True)
    repeat(30)  # after the window

    outcome = _one(town, answered, at)
    trend = outcome.spread
    assert trend.before is not None and trend.after is not None
    assert (trend.before.count, trend.after.count) == (4, 3)
    assert trend.change == pytest.approx((3 - 4) / 24)
    assert [c.pk for c in outcome.claims] == [claim.pk] and outcome.narrative == narrative


def test_another_organizations_item_is_refused(town: Town, other_org: Any) -> None:
    from beffroi.counterspeech.outcomes import outcomes_for_items

    item = town.item(at=town.now)
    with pytest.raises(ValueError, match="not the organization's"):
        outcomes_for_items(other_org, [(item, town.now)])


# --- summed up --------------------------------------------------------------------------------


def test_the_answers_are_the_first_use_of_each_item_in_the_period(
    town: Town, other_org: Any
) -> None:
    from beffroi.counterspeech.outcomes import answers_of

    facts = _approved(town.desk, title="Faits")
    empathy = _approved(town.desk, title="Empathie", strategy="empathy")
    first = town.item(at=town.now - 10 * HOUR)
    second = town.item(at=town.now - 10 * HOUR)
    old = town.item(at=town.now - 50 * 24 * HOUR)
    _use(town.desk, empathy, first, town.now - 5 * HOUR)
    _use(town.desk, facts, first, town.now - 4 * HOUR)  # answered again: the first one counts
    _use(town.desk, facts, second, town.now - 3 * HOUR)
    _use(town.desk, facts, old, town.now - 40 * 24 * HOUR)
    _use(town.desk, facts, None, town.now - HOUR)  # a use with no item is not an answer
    found = answers_of(town.desk.org, town.now - 30 * 24 * HOUR)
    assert [(a.item, a.entry, a.answered_at) for a in found] == [
        (second, facts, town.now - 3 * HOUR),
        (first, empathy, town.now - 5 * HOUR),
    ]
    assert answers_of(other_org, town.now - 30 * 24 * HOUR) == []
    assert [a.item for a in answers_of(town.desk.org, town.now - 90 * 24 * HOUR)][-1] == old


def test_aggregation_per_strategy_and_per_any_group(town: Town) -> None:
    from beffroi.counterspeech.models import Entry
    from beffroi.counterspeech.outcomes import (
        Outcome,
        Removal,
        Status,
        Trend,
        Window,
        by_strategy,
        overall,
        summarize,
    )

    def trend(before: int, after: int) -> Trend:
        return Trend(Status.MEASURED, Window(before, 24), Window(after, 24))

    def outcome(strategy: str, removal: Removal, hateful: Trend, spread: Trend) -> Outcome:
        entry = Entry(title=strategy, strategy=strategy) if strategy else None
        return Outcome(town.item(at=town.now), town.now, entry, removal, hateful, spread, (), None)

    early, unknown = Trend(Status.TOO_EARLY, Window(1, 24), Window(0, 2)), Trend(Status.UNKNOWN)
    found = [
        outcome("facts", Removal.NOT_BY_ORGANIZATION, trend(24, 0), trend(48, 24)),
        outcome("facts", Removal.VISIBLE, trend(0, 24), unknown),
        outcome("facts", Removal.BY_ORGANIZATION, trend(48, 0), early),
        outcome("empathy", Removal.NOT_BY_ORGANIZATION, early, trend(0, 0)),
        outcome("", Removal.VISIBLE, unknown, unknown),
    ]
    facts, empathy, unknown_strategy = by_strategy(found)
    assert (facts.key, facts.label, facts.answered, facts.removed_by_author) == (
        "facts",
        "Facts",
        3,
        1,
    )
    assert facts.share_removed == pytest.approx(1 / 3)
    # Changes per hour: -1, +1, -2 → median -1; two of three slowed down.
    assert facts.hateful_replies.median_change == pytest.approx(-1)
    assert (facts.hateful_replies.measured, facts.hateful_replies.slowed) == (3, 2)
    assert facts.spread.median_change == pytest.approx(-1)
    assert (facts.spread.measured, facts.spread.too_early, facts.spread.unknown) == (1, 1, 1)
    assert (empathy.answered, empathy.share_removed) == (1, 1.0)
    assert empathy.hateful_replies.median_change is None
    assert empathy.hateful_replies.too_early == 1
    assert empathy.spread.median_change == 0 and empathy.spread.slowed == 0
    assert unknown_strategy.label == "Strategy not known" and unknown_strategy.answered == 1

    everything = overall(found)
    assert (everything.answered, everything.removed_by_author) == (5, 2)
    assert everything.hateful_replies.median_change == pytest.approx(-1)  # -1, +1, -2
    # Any grouping a caller passes (the briefs group per brief).
    groups = summarize(found, lambda o: "a" if o.removal == Removal.VISIBLE else "b")
    assert [(g.key, g.answered) for g in groups] == [("b", 3), ("a", 2)]


# --- the gaps ---------------------------------------------------------------------------------


def test_gaps_are_the_narratives_and_claims_no_suggested_entry_answers(
    town: Town, cell: Desk
) -> None:
    from beffroi.counterspeech import services
    from beffroi.counterspeech.outcomes import claim_gaps, narrative_gaps
    from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative, NarrativeItem

    org, now = town.desk.org, town.now
    since = now - 30 * 24 * HOUR

    def narrative(key: str, *, seen: datetime = now, size: int = 0, **extra: Any) -> Any:
        found = Narrative.objects.create(
            organization=extra.pop("organization", org),
            key=key,
            name=key,
            last_seen=seen,
            item_count=size,
            **extra,
        )
        for _ in range(size):
            NarrativeItem.objects.create(narrative=found, item=town.item(at=seen))
        return found

    answered = narrative("answered", size=1)
    retired = narrative("retired", size=1)
    bare = narrative("bare", size=3)
    out_of_date = narrative("out-of-date", size=2)
    narrative("merged", status=Narrative.Status.MERGED)
    narrative("quiet", seen=now - 60 * 24 * HOUR)
    narrative("theirs", organization=cell.org)
    _approved(town.desk, title="Répond", narratives=[answered])
    services.retire(
        town.desk.ctx(town.desk.approver), _approved(town.desk, title="R", narratives=[retired])
    )
    _approved(
        town.desk,
        title="Datée",
        narratives=[out_of_date],
        valid_from=(now - 90 * 24 * HOUR).date(),
        valid_until=(now - 40 * 24 * HOUR).date(),
    )
    gaps = narrative_gaps(org, since)
    assert [(g.narrative, g.recent) for g in gaps] == [(bare, 3), (out_of_date, 2), (retired, 1)]

    def claim(key: str, repeats: list[timedelta], organization: Any = org) -> Any:
        found = CheckedClaim.objects.create(organization=organization, key=key, statement=key)
        for ago in repeats:
            ClaimMatch.objects.create(
                organization=organization, item=town.item(at=now - ago), claim=found, similarity=1
            )
        return found

    covered = claim("covered", [HOUR])
    repeated = claim("repeated", [HOUR, 2 * HOUR, 40 * 24 * HOUR])
    once = claim("once", [5 * HOUR])
    claim("long ago", [40 * 24 * HOUR])
    claim("theirs", [HOUR], organization=cell.org)
    _approved(town.desk, title="Réfute", claims=[covered])
    assert [(g.claim, g.recent, g.last_seen) for g in claim_gaps(org, since)] == [
        (repeated, 2, now - HOUR),
        (once, 1, now - 5 * HOUR),
    ]


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def verified_client(verified_client: Any) -> Any:
    def login(user: Any, language: str = "en") -> Any:
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return login


def _url(desk: Desk, name: str) -> str:
    return reverse(f"counterspeech:{name}", args=[desk.org.slug])


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


@pytest.fixture
def answered(town: Town) -> Any:
    """A hateful comment answered two days ago with an approved entry, since deleted by its
    author, in a thread whose hateful replies slowed down after the answer."""
    entry = _approved(town.desk, title="Eau du robinet")
    at = town.now - 48 * HOUR
    item = town.item(at=at - HOUR, thread="t9", visibility="deleted", analysis=HATEFUL)
    town.item(at=at - 2 * HOUR, thread="t9", analysis=HATEFUL)
    town.item(at=at - 3 * HOUR, thread="t9", analysis=HATEFUL)
    town.item(at=at + 2 * HOUR, thread="t9", analysis=KEPT)
    _use(town.desk, entry, item, at)
    return item


def test_outcomes_page_shows_the_caveat_the_strategy_table_and_the_items(
    town: Town, answered: Any, verified_client: Any
) -> None:
    page = _html(verified_client(town.desk.viewer).get(_url(town.desk, "outcomes")))
    caveat = page.index("Observations, not experiments.")
    assert caveat < page.index("<table")
    assert "no comparable post was left unanswered" in page
    assert "What followed the answers, per strategy, last 30 days</caption>" in page
    assert '<th scope="row">Facts</th>' in page
    assert "1 of 1" in page and "100 %" in page
    assert reverse("items:item", args=[town.desk.org.slug, answered.pk]) in page
    assert "Eau du robinet" in page and "Removed, not by the organization" in page
    assert "2 → 0" in page and "0.08 → 0.00 per hour" in page
    assert 'aria-current="page">Did it work?' in page


def test_outcomes_csv_writes_every_answer_with_its_counts(
    town: Town, answered: Any, verified_client: Any
) -> None:
    client = verified_client(town.desk.viewer)
    response = client.get(_url(town.desk, "outcomes"), {"format": "csv", "days": "90"})
    assert response["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["item_id"] == str(answered.pk) and row["entry"] == "Eau du robinet"
    assert (row["strategy"], row["removed"]) == ("facts", "not_by_organization")
    assert (row["hateful_status"], row["hateful_before"], row["hateful_after"]) == (
        "measured",
        "2",
        "0",
    )
    assert (row["replies_before"], row["replies_after"]) == ("2", "1")
    assert (row["hateful_before_per_hour"], row["hateful_after_per_hour"]) == ("0.0833", "0.0000")
    assert (row["spread_status"], row["spread_before"], row["window_hours"]) == (
        "unknown",
        "",
        "24",
    )


def test_the_period_bounds_the_answers(town: Town, verified_client: Any) -> None:
    entry = _approved(town.desk, title="Ancienne réponse")
    _use(town.desk, entry, town.item(at=town.now - 60 * 24 * HOUR), town.now - 50 * 24 * HOUR)
    client = verified_client(town.desk.viewer)
    assert "Ancienne réponse" not in _html(client.get(_url(town.desk, "outcomes")))
    assert "Ancienne réponse" in _html(client.get(_url(town.desk, "outcomes"), {"days": "90"}))
    # A period not offered falls back to the default.
    assert "Ancienne réponse" not in _html(client.get(_url(town.desk, "outcomes"), {"days": "9"}))


def test_gaps_page_links_to_write_an_entry_for_those_who_write(
    town: Town, cell: Desk, verified_client: Any
) -> None:
    from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative

    org = town.desk.org
    story = Narrative.objects.create(organization=org, key="n", name="Eau", last_seen=town.now)
    Narrative.objects.create(organization=cell.org, key="n", name="Secret", last_seen=town.now)
    claim = CheckedClaim.objects.create(organization=org, key="c", statement="Le maire ment")
    ClaimMatch.objects.create(
        organization=org, item=town.item(at=town.now), claim=claim, similarity=1
    )
    create = _url(town.desk, "create")
    writer = _html(verified_client(town.desk.writer).get(_url(town.desk, "gaps")))
    assert f"{create}?narrative={story.pk}" in writer and f"{create}?claim={claim.pk}" in writer
    assert "Secret" not in writer
    viewer = _html(verified_client(town.desk.viewer).get(_url(town.desk, "gaps")))
    assert "Eau" in viewer and "Le maire ment" in viewer
    assert create not in viewer  # a viewer writes nothing
    # The veille's pages are linked for those who read the veille only.
    assert reverse("veille:narrative", args=[org.slug, story.pk]) not in viewer
    moderator = _html(verified_client(town.desk.moderator).get(_url(town.desk, "gaps")))
    assert reverse("veille:narrative", args=[org.slug, story.pk]) in moderator


@pytest.mark.parametrize("name", ["outcomes", "gaps"])
def test_every_member_reads_the_pages_and_nobody_else(
    town: Town, cell: Desk, verified_client: Any, client: Any, name: str
) -> None:
    url = _url(town.desk, name)
    for role in ("writer", "moderator", "approver", "admin", "viewer"):
        assert verified_client(getattr(town.desk, role)).get(url).status_code == 200, role
    assert verified_client(cell.admin).get(url).status_code == 404  # not a member
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_another_organizations_answers_are_absent(
    town: Town, answered: Any, cell: Desk, verified_client: Any
) -> None:
    page = _html(verified_client(cell.admin).get(_url(cell, "outcomes")))
    assert "Eau du robinet" not in page
    assert reverse("items:item", args=[town.desk.org.slug, answered.pk]) not in page
    assert "No item was answered with an entry of the library in this period." in page


@pytest.mark.parametrize(
    ("language", "strategy", "tabs"),
    [("en", "Strategy", "Counter-speech"), ("fr", "Stratégie", "Contre-discours")],
)
@pytest.mark.parametrize("name", ["outcomes", "gaps"])
def test_pages_in_both_languages(
    town: Town,
    answered: Any,
    verified_client: Any,
    name: str,
    language: str,
    strategy: str,
    tabs: str,
) -> None:
    page = _html(verified_client(town.desk.admin, language).get(_url(town.desk, name)))
    assert f'<html lang="{language}">' in page and f'aria-label="{tabs}"' in page
    if name == "outcomes":
        assert f'<th scope="col">{strategy}</th>' in page
