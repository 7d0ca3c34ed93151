"""The deadline columns (``Conversation.due_at``, ``due_soon_at``) say what the response-time
clock says, after every kind of change, and the breaching view is a filter on them that lists
exactly the conversations whose clock is breached."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.analysis.business_time import SlaStatus
from beffroi.audit.services import Actor
from beffroi.connectors.base import ActionResult
from beffroi.conversations import sending, services, sla, tasks
from beffroi.conversations.models import Conversation, ResponseTargets, Team
from beffroi.jobs.models import Job

PARIS = ZoneInfo("Europe/Paris")
#: A Friday afternoon: business hours run out over the weekend, an always-open team's do not.
FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=PARIS)
HOUR = timedelta(hours=1)


class Frozen:
    """``timezone.now()`` for the services, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.at = at
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.at)


def kept(conversation: Conversation) -> Conversation:
    """The conversation as stored, checked: its columns are its clock's deadline and the
    instant the clock turns due soon."""
    stored = Conversation.objects.select_related("team").get(pk=conversation.pk)
    running = sla.clock(stored, now=FRIDAY)
    assert stored.due_at == (running.deadline if running else None)
    if stored.due_at is None:
        assert stored.due_soon_at is None
    else:
        assert stored.due_soon_at is not None and stored.due_soon_at <= stored.due_at
    if stored.due_at is not None and not (stored.pauses and stored.pauses[-1][1] is None):
        assert stored.due_soon_at is not None
        turns = sla.clock(stored, now=stored.due_soon_at)
        assert turns is not None and turns.status == SlaStatus.DUE_SOON
        just_before = sla.clock(stored, now=stored.due_soon_at - timedelta(microseconds=1))
        assert just_before is not None and just_before.status == SlaStatus.ON_TIME
        at_deadline = sla.clock(stored, now=stored.due_at)
        assert at_deadline is not None and at_deadline.status == SlaStatus.BREACHED
    return stored


def _ask(org: Any, thread: Any, handle: str, at: datetime, parent: Any = None) -> Conversation:
    thread.item(thread._author(handle), "Le lampadaire est éteint", "comment", parent, at=at)
    services.attach_new_items(org)
    return Conversation.objects.get(organization=org, author__handle=handle)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Frozen:
    return Frozen(monkeypatch, FRIDAY)


@pytest.fixture
def police(org: Any) -> Team:
    return Team.objects.create(
        organization=org, slug="police", name="Police municipale", always_open=True
    )


@pytest.mark.django_db
def test_the_columns_follow_every_change_a_conversation_goes_through(
    org: Any,
    thread: Any,
    member: Callable[..., Any],
    police: Team,
    frozen: Frozen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claire = member("claire")
    actor = Actor(claire, "ui")
    post = thread.post()
    # Friday 16:00, 8 business hours for the first response: 1 h on Friday, 7 on Monday.
    conversation = kept(_ask(org, thread, "alice", FRIDAY, post))
    assert conversation.due_at == datetime(2026, 12, 7, 16, 0, tzinfo=PARIS)
    assert conversation.due_soon_at == datetime(2026, 12, 7, 14, 24, tzinfo=PARIS)  # 80 %
    kept(services.assign(actor, conversation, claire))
    # To a team open day and night: every hour counts.
    conversation = kept(services.set_team(actor, conversation, police))
    assert conversation.due_at == FRIDAY + 8 * HOUR
    # Waiting for the citizen from 16:30: the clock stops, no deadline is known.
    frozen.at = FRIDAY + HOUR / 2
    conversation = kept(services.set_state(actor, conversation, Conversation.State.WAITING))
    assert conversation.due_at is None and conversation.due_soon_at is None
    # Answered on Saturday 10:00: the 17 h 30 of the pause push the deadline back.
    frozen.at = FRIDAY + 18 * HOUR
    conversation = kept(services.set_state(actor, conversation, Conversation.State.ANSWERED))
    assert conversation.due_at == FRIDAY + (8 + 17.5) * HOUR
    # A reply sent from the desk: the clock now counts the resolution (40 h, the pause out).
    monkeypatch.setattr(
        sending, "_call", lambda reply: ActionResult(ok=True, platform_id="fb-1", detail="")
    )
    frozen.at = FRIDAY + 20 * HOUR
    reply = services.send_reply(actor, conversation, "C'est signalé.", key="k1")
    assert sending.send(reply.pk) == "sent"
    conversation = kept(conversation)
    assert conversation.first_response_at == frozen.at
    assert conversation.due_at == FRIDAY + (40 + 17.5) * HOUR
    # The citizen writes again: the next response is due 8 hours after.
    again = FRIDAY + 21 * HOUR
    thread.item(thread._author("alice"), "Merci, et quand ?", "reply", conversation.root, at=again)
    services.attach_new_items(org)
    conversation = kept(conversation)
    assert conversation.state == Conversation.State.OPEN and conversation.due_at == again + 8 * HOUR
    # The town answers on its own page: the resolution again.
    thread.item(thread.town, "Lundi.", "reply", conversation.root, at=again + HOUR)
    services.attach_new_items(org)
    conversation = kept(conversation)
    assert conversation.due_at == FRIDAY + (40 + 17.5) * HOUR
    # Resolved: no clock; reopened by a new message from the citizen: the next response.
    conversation = kept(services.set_state(actor, conversation, Conversation.State.RESOLVED))
    assert conversation.due_at is None and conversation.due_soon_at is None
    reopened_at = again + 3 * HOUR
    thread.item(
        thread._author("alice"), "Toujours éteint", "reply", conversation.root, at=reopened_at
    )
    services.attach_new_items(org)
    conversation = kept(conversation)
    assert conversation.state == Conversation.State.OPEN
    assert conversation.due_at == reopened_at + 8 * HOUR


@pytest.mark.django_db
def test_a_save_of_some_fields_writes_the_columns_when_the_clock_changes(
    org: Any, thread: Any, police: Team
) -> None:
    conversation = _ask(org, thread, "alice", FRIDAY, thread.post())
    before = conversation.due_at
    # As the request router gives a team: update_fields without the deadline columns.
    conversation.team = police
    conversation.save(update_fields=["team"])
    assert kept(conversation).due_at == FRIDAY + 8 * HOUR != before
    conversation.labels = ["voirie"]
    conversation.save(update_fields=["labels"])
    assert kept(conversation).due_at == FRIDAY + 8 * HOUR


@pytest.mark.django_db
def test_new_targets_move_the_deadlines_at_once_or_by_a_job(
    org: Any, thread: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = thread.post()
    alice = _ask(org, thread, "alice", FRIDAY, post)
    bruno = _ask(org, thread, "bruno", FRIDAY + HOUR / 2, post)
    resolved = _ask(org, thread, "chloe", FRIDAY, post)
    resolved.state = Conversation.State.RESOLVED
    resolved.save()
    targets = ResponseTargets.objects.create(organization=org, first_response_hours=2)
    # 1 h on Friday, 1 h on Monday morning.
    assert kept(alice).due_at == datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    assert kept(bruno).due_at == datetime(2026, 12, 7, 10, 30, tzinfo=PARIS)
    # Many live conversations: a job does it, the form does not wait.
    monkeypatch.setattr(sla, "REFRESH_INLINE_LIMIT", 1)
    targets.first_response_hours = 4
    targets.due_soon_share = 0.5
    targets.save()
    stale = Conversation.objects.get(pk=alice.pk)
    assert stale.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    job = Job.objects.get(name="conversations.refresh_due")
    assert job.payload == {"organization_id": org.pk}
    assert tasks.refresh_due_task(**job.payload) == {"changed": 2}
    assert kept(alice).due_at == datetime(2026, 12, 7, 12, 0, tzinfo=PARIS)
    assert kept(alice).due_soon_at == datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    assert kept(bruno).due_at == datetime(2026, 12, 7, 12, 30, tzinfo=PARIS)
    assert Conversation.objects.get(pk=resolved.pk).due_at is None
    # The targets removed: the defaults (8 business hours) again.
    monkeypatch.setattr(sla, "REFRESH_INLINE_LIMIT", 2000)
    targets.delete()
    assert kept(alice).due_at == datetime(2026, 12, 7, 16, 0, tzinfo=PARIS)


@pytest.mark.django_db
def test_a_team_opened_day_and_night_or_deleted_moves_its_deadlines(org: Any, thread: Any) -> None:
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    conversation = _ask(org, thread, "alice", FRIDAY, thread.post())
    Conversation.objects.filter(pk=conversation.pk).update(team=voirie)  # as the router would
    assert kept(conversation).due_at == datetime(2026, 12, 7, 16, 0, tzinfo=PARIS)
    voirie.always_open = True
    voirie.save()
    assert kept(conversation).due_at == FRIDAY + 8 * HOUR
    voirie.name = "Voirie (astreinte)"
    voirie.save()  # nothing the clock reads
    assert kept(conversation).due_at == FRIDAY + 8 * HOUR
    voirie.delete()  # its conversations lose their team in SQL, without being saved
    stored = kept(conversation)
    assert stored.team is None and stored.due_at == datetime(2026, 12, 7, 16, 0, tzinfo=PARIS)


# --- the columns and the clock agree, whatever the conversation -------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(PARIS)
)
SPANS = st.integers(0, 30 * 24 * 3600).map(lambda seconds: timedelta(seconds=seconds))


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Conversation, ResponseTargets, datetime]:
    """A conversation in any state, answered or not, paused or not, in an always-open team or
    not, with any targets; and a moment after its last pause began."""
    opened = draw(MOMENTS)
    last_citizen = opened + draw(SPANS)
    answered = draw(st.booleans())
    first_response = opened + draw(SPANS) if answered else None
    last_response = (
        first_response + draw(SPANS) if first_response and draw(st.booleans()) else first_response
    )
    pauses: list[list[str | None]] = []
    moment = opened
    for _ in range(draw(st.integers(0, 3))):
        begins = moment + draw(SPANS)
        ends = begins + draw(SPANS)
        pauses.append([begins.isoformat(), ends.isoformat()])
        moment = ends
    if pauses and draw(st.booleans()):
        pauses[-1][1] = None  # waiting for the citizen still
    team = Team(always_open=True) if draw(st.booleans()) else None
    conversation = Conversation(
        organization_id=-1,
        state=draw(st.sampled_from(Conversation.State.values)),
        team=team,
        opened_at=opened,
        last_citizen_at=last_citizen,
        first_response_at=first_response,
        last_response_at=last_response,
        pauses=pauses,
    )
    targets = ResponseTargets(
        organization_id=-1,
        first_response_hours=draw(st.floats(0.25, 80)),
        next_response_hours=draw(st.floats(0.25, 80)),
        resolution_hours=draw(st.floats(0.25, 400)),
        due_soon_share=draw(st.floats(0.05, 1)),
    )
    now = opened + draw(SPANS) * 2
    if pauses:
        now = max(now, datetime.fromisoformat(str(pauses[-1][0])))
    return conversation, targets, now


@settings(max_examples=300, deadline=None)
@given(conversations())
def test_the_columns_say_what_the_clock_says_at_any_moment(
    drawn: tuple[Conversation, ResponseTargets, datetime],
) -> None:
    _columns_match_the_clock(*drawn)


def test_the_columns_agree_with_the_clock_across_the_october_change() -> None:
    """Found by the test above: opened at 02:00 summer time on the night the clocks go back,
    one hour to answer: due at 02:00 winter time, an hour later, not yet breached."""
    opened = datetime(2026, 10, 25, 2, 0, tzinfo=PARIS)
    conversation = Conversation(
        organization_id=-1,
        state=Conversation.State.NEW,
        team=Team(always_open=True),
        opened_at=opened,
        last_citizen_at=opened,
        pauses=[],
    )
    targets = ResponseTargets(organization_id=-1, first_response_hours=1.0)
    _columns_match_the_clock(conversation, targets, opened)
    assert conversation.due_at is not None
    assert conversation.due_at.astimezone(UTC) == opened.astimezone(UTC) + timedelta(hours=1)


def _columns_match_the_clock(
    conversation: Conversation, targets: ResponseTargets, now: datetime
) -> None:
    sla.refresh_due(conversation, targets)
    clock = sla.clock(conversation, now, targets)
    assert conversation.due_at == (clock.deadline if clock else None)
    # Compared as instants, as the database compares the columns: Python compares two times
    # of the same zone by their wall clock, fold ignored (02:00 before and after the October
    # change would be equal).
    due_at, due_soon_at, now = (
        None if moment is None else moment.astimezone(UTC)
        for moment in (conversation.due_at, conversation.due_soon_at, now)
    )
    breached = due_at is not None and due_soon_at is not None and due_at <= now
    assert breached == (clock is not None and clock.status == SlaStatus.BREACHED)
    due_soon = due_soon_at is not None and due_at is not None and due_soon_at <= now < due_at
    assert due_soon == (clock is not None and clock.status == SlaStatus.DUE_SOON)


# --- the breaching view -----------------------------------------------------------------------


def _login(user: Any) -> Any:
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def desk(org: Any, thread: Any, police: Team, frozen: Frozen) -> Iterator[list[Conversation]]:
    """Conversations of every age and state, some snoozed, one hidden by moderation."""
    from beffroi.items.models import Item

    def pause_from(at: datetime) -> datetime:
        return at + 72 * HOUR if at + 72 * HOUR < FRIDAY else at + HOUR / 2

    post = thread.post()
    made = []
    states = Conversation.State.values
    for number, hours in enumerate((0.5, 2, 6.5, 7, 9, 20, 30, 50, 120, 400, 0.1, 45, 60, 15)):
        at = FRIDAY - hours * HOUR
        root = thread.item(thread._author(f"c{number}"), "Bonjour ?", "comment", post, at=at)
        state = states[number % len(states)]
        answered = number % 3 == 0
        made.append(
            Conversation.objects.create(
                organization=org,
                key=f"public:{thread.source.pk}:{root.platform_id}",
                kind="public",
                source=thread.source,
                platform=thread.source.platform,
                author=root.author,
                root=root,
                state=state,
                team=police if number % 4 == 0 else None,
                opened_at=at,
                last_citizen_at=at + HOUR / 4 if number % 5 == 0 else at,
                first_response_at=at + HOUR / 8 if answered else None,
                last_response_at=at + HOUR / 8 if answered else None,
                # Waiting since before the deadline (paused), or since after it (breached).
                pauses=[[pause_from(at).isoformat(), None]] if state == "waiting" else [],
                snoozed_until=FRIDAY + HOUR if number == 9 else None,
            )
        )
    hidden = made[5].root
    Item.objects.filter(pk=hidden.pk).update(visibility="hidden")
    yield made


@pytest.mark.django_db
def test_the_breaching_view_lists_exactly_the_breached_clocks(
    org: Any, member: Callable[..., Any], desk: list[Conversation]
) -> None:
    claire = member("claire")
    client = _login(claire)
    now = FRIDAY
    clocks = sla.clocks(Conversation.objects.filter(organization=org), now)
    breached = {
        pk
        for pk, clock in clocks.items()
        if clock.status == SlaStatus.BREACHED
        and pk not in {desk[9].pk, desk[5].pk}  # snoozed, hidden: out of the lists to handle
    }
    assert 3 <= len(breached) < len(clocks)  # the set is not trivial
    page = client.get(f"/o/{org.slug}/conversations/?view=breaching")
    shown = page.context["page_obj"].object_list
    assert {c.pk for c in shown} == breached
    assert all(c.clock.status == SlaStatus.BREACHED for c in shown)  # badges from the clock
    assert [c.pk for c in shown] == sorted(
        breached, key=lambda pk: (-Conversation.objects.get(pk=pk).last_citizen_at.timestamp(), -pk)
    )
    # The same filter in the API and in the counts' vocabulary.
    found = Conversation.objects.filter(organization=org).filter(
        services.view_filter("breaching", claire, now)
    )
    assert set(found.values_list("pk", flat=True)) == breached
    # The dashboard's "past their response time" counts what its link shows.
    from beffroi.organizations.context import OrgContext
    from beffroi.organizations.models import Membership
    from beffroi.overview.attention import waiting_requests

    membership = Membership.objects.get(organization=org, user=claire)
    need = waiting_requests(OrgContext.for_member(membership, "ui"), now)
    assert need.note == f"{len(breached)} past their response time"


@pytest.mark.django_db
def test_the_watch_fills_missing_columns_and_warns_by_them(
    org: Any,
    thread: Any,
    member: Callable[..., Any],
    frozen: Frozen,
    django_capture_on_commit_callbacks: Any,
) -> None:
    claire = member("claire")
    post = thread.post()
    conversation = _ask(org, thread, "alice", FRIDAY - HOUR, post)
    waiting = _ask(org, thread, "bruno", FRIDAY - HOUR, post)
    services.set_state(Actor(claire, "ui"), waiting, Conversation.State.WAITING)
    services.assign(Actor(claire, "ui"), conversation, claire)
    Conversation.objects.update(due_at=None, due_soon_at=None)  # as before the backfill
    # Monday 14:30: 6.5 of the 8 business hours spent, due soon.
    frozen.at = datetime(2026, 12, 7, 14, 30, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sla_watch() == 1
    assert kept(conversation).due_at == datetime(2026, 12, 7, 15, 0, tzinfo=PARIS)
    assert Job.objects.get(name="conversations.sla_warning").payload == {
        "conversation_id": conversation.pk
    }
    assert Conversation.objects.get(pk=waiting.pk).due_at is None  # paused: none to fill
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sla_watch() == 0  # once per deadline


@pytest.mark.django_db
def test_the_backfill_migration_fills_live_conversations_and_survives_a_failure(
    org: Any, thread: Any, police: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    backfill = importlib.import_module(
        "beffroi.conversations.migrations.0008_backfill_due"
    ).backfill
    ResponseTargets.objects.create(organization=org, first_response_hours=2)
    post = thread.post()
    alice = _ask(org, thread, "alice", FRIDAY, post)
    bruno = _ask(org, thread, "bruno", FRIDAY, post)
    Conversation.objects.filter(pk=bruno.pk).update(team=police)
    Conversation.objects.update(due_at=None, due_soon_at=None)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    monkeypatch.setattr(sla, "due_times", lambda *args: 1 / 0)
    backfill(apps, editor)  # logged, not raised: the watch fills them later
    assert Conversation.objects.get(pk=alice.pk).due_at is None
    monkeypatch.undo()
    backfill(apps, editor)
    assert kept(alice).due_at == datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    assert kept(bruno).due_at == FRIDAY + 2 * HOUR
