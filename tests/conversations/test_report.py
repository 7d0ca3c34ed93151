"""The response-time report, on a small set of conversations whose business times were counted
by hand: office hours Monday to Friday 09:00–17:00 in Paris, targets of 8 hours for the first
response and 40 hours for the resolution (the defaults), March 2026 (no public holiday, winter
time), read on Monday 16 March at noon."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from beffroi.conversations import services
from beffroi.conversations.models import Conversation, Team
from beffroi.conversations.report import Row, percentile, response_time_report
from beffroi.sources.models import Source
from tests.conversations.conftest import Thread

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=PARIS)


def at(day: int, hour: float, month: int = 3) -> datetime:
    return datetime(2026, month, day, tzinfo=PARIS) + timedelta(hours=hour)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def open_conversation(
    thread: Thread,
    handle: str,
    opened: datetime,
    answered: datetime | None = None,
    resolved: datetime | None = None,
    team: Team | None = None,
) -> Conversation:
    """A citizen's comment under a post of the town, the town's answer, and when a person
    resolved it (set directly: the service stamps the present moment)."""
    post = thread.post()
    comment = thread.item(thread._author(handle), f"Question de {handle}", "comment", post, opened)
    if answered is not None:
        thread.item(thread.town, f"Réponse à {handle}", "reply", comment, answered)
    services.attach_new_items(thread.org)
    conversation = Conversation.objects.get(organization=thread.org, root=comment)
    changes: dict[str, Any] = {"team": team}
    if resolved is not None:
        changes |= {"state": Conversation.State.RESOLVED, "resolved_at": resolved}
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    return conversation


@pytest.fixture
def voirie(org: Any) -> Team:
    return Team.objects.create(organization=org, slug="voirie", name="Voirie")


@pytest.fixture
def hand_built(org: Any, thread: Thread, voirie: Team) -> None:
    """Six conversations opened from Monday 2 to Monday 16 March, and one before."""
    # Answered after 2 h; resolved Tuesday 10:00, after 7 h + 1 h = 8 h.
    open_conversation(thread, "alice", at(2, 10), at(2, 12), at(3, 10), team=voirie)
    # Monday 16:00, answered Tuesday 16:00: 1 h + 7 h = 8 h, the target itself (met).
    open_conversation(thread, "bruno", at(2, 16), at(3, 16))
    # Tuesday 09:00, answered Thursday 09:00: 16 h (late); resolved Friday 17:00 (32 h).
    open_conversation(thread, "chloe", at(3, 9), at(5, 9), at(6, 17), team=voirie)
    # Saturday 11:00, never answered: 40 h + 3 h = 43 h by now, both targets passed.
    open_conversation(thread, "denis", at(7, 11))
    # On Mastodon, Monday 9 March 09:30, answered in 30 minutes; not resolved after 42.5 h.
    mastodon = Source.objects.create(
        organization=org, name="Mastodon", platform="mastodon", settings={"account_id": "town"}
    )
    open_conversation(Thread(org, mastodon), "emma", at(9, 9.5), at(9, 10))
    # Opened two hours ago, not answered yet: within both targets, left out of the shares.
    open_conversation(thread, "fanny", at(16, 10))
    # Before the period.
    open_conversation(thread, "gaston", at(27, 10, month=2), at(27, 11, month=2))


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([hours(3)], 0.9) == hours(3)
    assert percentile([hours(4), hours(1), hours(3), hours(2)], 0.5) == hours(2.5)
    assert percentile([hours(n) for n in range(1, 11)], 0.9) == hours(9.1)


def test_the_report_counts_business_hours_against_the_targets(org: Any, hand_built: None) -> None:
    report = response_time_report(org, date(2026, 3, 2), date(2026, 3, 16), now=NOW)
    assert (report.since, report.until, report.timezone) == (
        date(2026, 3, 2),
        date(2026, 3, 16),
        "Europe/Paris",
    )
    assert report.first_response_target == hours(8) and report.resolution_target == hours(40)
    overall = report.overall
    assert overall.count == 6  # gaston opened before the period
    first = overall.first_response
    # Answered after 0.5, 2, 8 and 16 hours.
    assert (overall.answered, first.median, first.p90) == (4, hours(5), hours(13.6))
    # Within 8 h: emma, alice, bruno; late: chloe; overdue: denis; fanny still has time.
    assert (first.within_target, first.overdue) == (3, 1)
    assert first.share_within_target == pytest.approx(3 / 5)
    resolution = overall.resolution
    # Resolved after 8 and 32 hours; bruno (76 h), denis (43 h) and emma (42.5 h) overdue.
    assert (overall.resolved, resolution.median, resolution.p90) == (2, hours(20), hours(29.6))
    assert (resolution.within_target, resolution.overdue) == (2, 3)
    assert resolution.share_within_target == pytest.approx(2 / 5)


def _by_key(rows: list[Row]) -> dict[str | None, Row]:
    return {row.key: row for row in rows}


def test_the_report_is_broken_down_by_team_platform_and_week(org: Any, hand_built: None) -> None:
    report = response_time_report(org, date(2026, 3, 2), date(2026, 3, 16), now=NOW)
    assert [row.key for row in report.by_team] == ["voirie", None]  # no team last
    teams = _by_key(report.by_team)
    voirie = teams["voirie"].figures
    assert teams["voirie"].label == "Voirie" and voirie.count == 2
    assert (voirie.first_response.median, voirie.first_response.p90) == (hours(9), hours(14.6))
    assert voirie.first_response.share_within_target == pytest.approx(1 / 2)
    assert voirie.resolution.share_within_target == 1
    no_team = teams[None].figures
    assert no_team.count == 4 and no_team.first_response.median == hours(4.25)
    assert no_team.first_response.share_within_target == pytest.approx(2 / 3)
    assert no_team.resolved == 0 and no_team.resolution.share_within_target == 0

    platforms = _by_key(report.by_platform)
    assert set(platforms) == {"facebook", "mastodon"}
    assert platforms["facebook"].figures.count == 5
    assert platforms["mastodon"].figures.first_response.median == hours(0.5)

    weeks = _by_key(report.by_week)
    assert [row.key for row in report.by_week] == ["2026-W10", "2026-W11", "2026-W12"]
    # Saturday 7 March belongs to the week of Monday 2 March.
    assert weeks["2026-W10"].figures.count == 4
    assert weeks["2026-W11"].figures.answered == 1
    assert weeks["2026-W12"].figures.first_response.share_within_target is None


def test_a_team_open_day_and_night_counts_every_hour(org: Any, thread: Thread) -> None:
    police = Team.objects.create(
        organization=org, slug="police", name="Police municipale", always_open=True
    )
    # Saturday 11:00, answered at 13:00: two hours for the police, none in office hours.
    open_conversation(thread, "alice", at(7, 11), at(7, 13), team=police)
    open_conversation(thread, "bruno", at(7, 11), at(7, 13))
    report = response_time_report(org, date(2026, 3, 7), date(2026, 3, 7), now=NOW)
    teams = _by_key(report.by_team)
    assert teams["police"].figures.first_response.median == hours(2)
    assert teams[None].figures.first_response.median == timedelta(0)


def test_a_conversation_closed_unanswered_before_its_target_is_no_failure(
    org: Any, thread: Thread
) -> None:
    # Closed after 1 h without an answer (noise): not overdue; after 9 h: overdue.
    open_conversation(thread, "alice", at(10, 9), resolved=at(10, 10))
    open_conversation(thread, "bruno", at(10, 9), resolved=at(11, 10))
    first = response_time_report(org, date(2026, 3, 10), date(2026, 3, 10), now=NOW)
    assert first.overall.first_response.done == 0
    assert first.overall.first_response.overdue == 1
    assert first.overall.first_response.share_within_target == 0
    assert first.overall.resolution.median == hours(5)  # 1 h and 9 h


def test_the_clock_stops_while_waiting_for_the_citizen(org: Any, thread: Thread) -> None:
    conversation = open_conversation(thread, "alice", at(2, 9), at(4, 9))
    # Waiting for the citizen from Monday 12:00 to Tuesday 12:00: 16 h minus 8 h.
    pause = [[at(2, 12).isoformat(), at(3, 12).isoformat()]]
    Conversation.objects.filter(pk=conversation.pk).update(pauses=pause)
    report = response_time_report(org, date(2026, 3, 2), date(2026, 3, 2), now=NOW)
    assert report.overall.first_response.median == hours(8)
    assert report.overall.first_response.within_target == 1


def test_the_default_period_is_the_last_28_days_and_other_organizations_are_left_out(
    org: Any, other_org: Any, thread: Thread
) -> None:
    open_conversation(thread, "alice", at(16, 9), at(16, 10))  # today
    open_conversation(thread, "bruno", at(17, 9, month=2), at(17, 10, month=2))  # 27 days ago
    open_conversation(thread, "chloe", at(16, 9, month=2), at(16, 10, month=2))  # 28 days ago
    theirs = Source.objects.create(organization=other_org, name="Page", platform="facebook")
    open_conversation(Thread(other_org, theirs), "denis", at(16, 9), at(16, 10))
    report = response_time_report(org, now=NOW)
    assert (report.since, report.until) == (date(2026, 2, 17), date(2026, 3, 16))
    assert report.overall.count == 2
    narrowed = response_time_report(
        org,
        now=NOW,
        conversations=Conversation.objects.for_org(org).filter(author__handle="alice"),
    )
    assert narrowed.overall.count == 1
