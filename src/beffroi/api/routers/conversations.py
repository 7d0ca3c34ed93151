"""The answering desk in the JSON API: conversations with their messages and history, the
changes people make to them (assignee, state, team, labels, notes), replies, saved replies and
the response-time report.

Every change goes through the desk's services (``beffroi.conversations.services``), as from
the desk's pages: the same rules, the token's person as the actor, the same history and audit
events. A change a rule refuses answers 400 with the services' sentence. A reply is recorded
as *sending* and posted by a background job: the API never says a reply was sent before the
platform confirmed it (read the conversation again to see its state).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator, model_validator

from beffroi.analysis.business_time import SlaStatus
from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import ERRORS, INVALID, MAX_ID, REFUSED, PageQuery, RequestBody
from beffroi.conversations import report, services, sla
from beffroi.conversations.models import (
    Conversation,
    ConversationEvent,
    Note,
    Reply,
    SavedReply,
    Team,
)
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability

router = Router(tags=["conversations"])


def _enum(name: str, values: list[str]) -> type[enum.StrEnum]:
    """A plain enum of a model's choices, so that the OpenAPI document lists the values."""
    return enum.StrEnum(name, [(value.upper(), value) for value in values])  # type: ignore[return-value]


ConversationState = _enum("ConversationState", Conversation.State.values)
ConversationKind = _enum("ConversationKind", Conversation.Kind.values)
EventKind = _enum("ConversationEventKind", ConversationEvent.Kind.values)
ReplyState = _enum("ReplyState", Reply.State.values)
ClockTarget = _enum("ClockTarget", list(sla.TARGET_LABELS))
View = _enum("ConversationView", list(services.VIEWS))

#: Where a list puts the clock it read for each conversation of its page.
READ_CLOCK = "response_clock"

ConversationId = Annotated[int, Path(ge=1, le=MAX_ID, description="A conversation's id.")]

#: Days the report reads: from the first year of the Unix era to the year before the last a
#: date can hold (the end of the last day must still be a date).
FIRST_REPORT_DAY = date(1970, 1, 1)
LAST_REPORT_DAY = date(9998, 12, 31)


def _hours(duration: timedelta | None) -> float | None:
    return duration / timedelta(hours=1) if duration is not None else None


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- bodies and answers ----------------------------------------------------------------------


class ClockOut(Schema):
    target: ClockTarget = Field(  # type: ignore[valid-type]
        description="What the clock counts against now: the first response, the next one "
        "(the citizen wrote again after an answer) or the resolution."
    )
    status: SlaStatus = Field(
        description="on_time, due_soon, breached, or paused (waiting for the citizen)."
    )
    deadline: datetime | None = Field(description="Null while the clock is paused.")
    elapsed_hours: float = Field(description="Business hours counted so far.")
    target_hours: float

    @staticmethod
    def resolve_elapsed_hours(clock: sla.Clock) -> float:
        return clock.elapsed / timedelta(hours=1)

    @staticmethod
    def resolve_target_hours(clock: sla.Clock) -> float:
        return clock.goal / timedelta(hours=1)


class ConversationOut(Schema):
    id: int
    kind: ConversationKind  # type: ignore[valid-type]
    state: ConversationState  # type: ignore[valid-type]
    platform: str
    author: str = Field(description="The citizen's handle on the platform.")
    subject: str
    assignee: str | None = Field(description="Username of the member handling it, if any.")
    team: str | None = Field(description="Short name (slug) of its team, if any.")
    labels: list[str]
    snoozed_until: datetime | None
    message_count: int
    opened_at: datetime = Field(description="When the citizen wrote first (platform time).")
    last_citizen_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    clock: ClockOut | None = Field(
        description="The response-time clock in business hours; null once resolved or closed."
    )

    @staticmethod
    def resolve_author(conversation: Conversation) -> str:
        return conversation.author.handle

    @staticmethod
    def resolve_assignee(conversation: Conversation) -> str | None:
        return _username(conversation.assignee)

    @staticmethod
    def resolve_team(conversation: Conversation) -> str | None:
        return conversation.team.slug if conversation.team is not None else None

    @staticmethod
    def resolve_clock(conversation: Conversation) -> sla.Clock | None:
        # A list reads the clocks of its page at once (one read of the targets).
        if hasattr(conversation, READ_CLOCK):
            found: sla.Clock | None = getattr(conversation, READ_CLOCK)
            return found
        return sla.clock(conversation)


class ConversationPage(Schema):
    items: list[ConversationOut]
    count: int
    limit: int
    offset: int


class MessageOut(Schema):
    id: int = Field(description="The item's id (see `/items/{item_id}`).")
    kind: str
    author: str = Field(description="Handle of who wrote it.")
    own: bool = Field(description="Written by one of the organization's own accounts.")
    text: str
    url: str
    created_at: datetime


class ReplyOut(Schema):
    id: int
    state: ReplyState = Field(  # type: ignore[valid-type]
        description="sending until the platform answers; then sent (with `platform_id` and "
        "`url`), failed (with `reason`), unknown (the sending was interrupted while the "
        "platform was asked: a person checks) or simulated (a demo source)."
    )
    text: str
    private: bool
    author: str | None = Field(description="Username of the member who wrote it.")
    item_id: int = Field(description="The message it answers.")
    saved_reply_id: int | None
    platform_id: str
    url: str
    reason: str = Field(description="Why it failed or waits (credentials, rate_limited…).")
    created_at: datetime
    sent_at: datetime | None = Field(description="When the platform confirmed it.")

    @staticmethod
    def resolve_author(reply: Reply) -> str | None:
        return _username(reply.author)


class NoteOut(Schema):
    id: int
    author: str | None = Field(description="Username of the member who wrote it.")
    text: str
    mentions: list[str] = Field(description="Usernames of the members it @mentions.")
    created_at: datetime

    @staticmethod
    def resolve_author(note: Note) -> str | None:
        return _username(note.author)

    @staticmethod
    def resolve_mentions(note: Note) -> list[str]:
        return sorted(user.get_username() for user in note.mentions.all())


class EventOut(Schema):
    id: int
    kind: EventKind  # type: ignore[valid-type]
    actor: str | None = Field(description="Username of who made the change; null for intake.")
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime

    @staticmethod
    def resolve_actor(event: ConversationEvent) -> str | None:
        return _username(event.actor)


class ConversationDetailOut(ConversationOut):
    next_states: list[ConversationState] = Field(  # type: ignore[valid-type]
        description="The states it may be moved to from its state."
    )
    messages: list[MessageOut] = Field(description="The citizen's and the organization's.")
    replies: list[ReplyOut] = Field(description="The replies written in Beffroi.")
    notes: list[NoteOut] = Field(description="Internal notes, never shown to the citizen.")
    events: list[EventOut] = Field(description="Its history, oldest first.")

    @staticmethod
    def resolve_next_states(conversation: Conversation) -> list[str]:
        return list(services.TRANSITIONS[conversation.state])

    @staticmethod
    def resolve_messages(conversation: Conversation) -> list[dict[str, Any]]:
        own = services.own_author_ids(conversation.organization)
        return [
            {
                "id": item.pk,
                "kind": item.kind,
                "author": item.author.handle,
                "own": item.author_id in own,
                "text": item.text,
                "url": item.url,
                "created_at": item.created_at,
            }
            for item in conversation.items.select_related("author").order_by("created_at", "pk")
        ]

    @staticmethod
    def resolve_replies(conversation: Conversation) -> list[Reply]:
        return list(conversation.replies.select_related("author"))

    @staticmethod
    def resolve_notes(conversation: Conversation) -> list[Note]:
        return list(conversation.notes.select_related("author").prefetch_related("mentions"))

    @staticmethod
    def resolve_events(conversation: Conversation) -> list[ConversationEvent]:
        return list(conversation.events.select_related("actor"))


class ConversationQuery(PageQuery):
    view: View = Field(  # type: ignore[valid-type]
        "all",
        description="A saved view of the desk: mine (assigned to the token's person), team "
        "(of their teams), unassigned, open (not resolved nor closed, not snoozed), "
        "breaching (open, past its response-time target), snoozed, all (the default).",
    )
    state: ConversationState | None = None  # type: ignore[valid-type]
    team: str | None = Field(None, max_length=50, description="A team's short name (slug).")
    assignee: str | None = Field(None, max_length=150, description="A member's username.")
    platform: str | None = Field(None, max_length=32)


class SavedReplyOut(Schema):
    id: int
    name: str
    language: str
    team: str | None = Field(description="Short name (slug) of its team, if any.")
    text: str = Field(description="With variables such as {prénom}, {service}, {délai}.")
    acknowledgement: bool = Field(description="An acknowledgement of receipt (CRPA L112-3).")

    @staticmethod
    def resolve_team(saved: SavedReply) -> str | None:
        return saved.team.slug if saved.team is not None else None


class AssignIn(RequestBody):
    assignee: str | None = Field(
        max_length=150, description="A member's username; null to unassign."
    )


class StateIn(RequestBody):
    state: ConversationState  # type: ignore[valid-type]


class TeamIn(RequestBody):
    team: str | None = Field(max_length=50, description="A team's short name; null for none.")


Label = Annotated[str, Field(max_length=40)]


class LabelsIn(RequestBody):
    labels: list[Label] = Field(
        max_length=50, description="The labels it has from now on (they replace the others)."
    )


class NoteIn(RequestBody):
    text: str = Field(min_length=1, max_length=10_000, description="@username notifies them.")


class ReplyIn(RequestBody):
    key: str = Field(
        min_length=1,
        max_length=64,
        description="Chosen by the client, one per reply: sending again with the same key "
        "(a retry after a timeout) returns the first reply and sends nothing more.",
    )
    text: str | None = Field(
        None, max_length=10_000, description="The reply; left out, the saved reply's text."
    )
    saved_reply_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A saved reply, filled for this conversation."
    )
    delay: str = Field(
        "", max_length=100, description="What fills the saved reply's {délai} (`sous 5 jours`)."
    )
    private: bool = Field(False, description="Answer a public comment in private messages.")
    resolve: bool = Field(False, description="Resolve the conversation once it is posted.")


class ReportQuery(Schema):
    since: date | None = Field(
        None,
        description="First day (in the organization's time zone); by default 27 days "
        "before `until`.",
    )
    until: date | None = Field(None, description="Last day, included; by default today.")

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_8601(cls, value: Any) -> Any:
        # pydantic would read a bare number as seconds since 1970: the description says ISO.
        if value is not None and not isinstance(value, date):
            try:
                date.fromisoformat(str(value) if isinstance(value, str) else "")
            except ValueError as error:
                raise ValueError("Expected an ISO 8601 date (2026-03-02).") from error
        return value

    @model_validator(mode="after")
    def _in_order(self) -> ReportQuery:
        for day in (self.since, self.until):
            if day is not None and not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
                raise ValueError(f"Days go from {FIRST_REPORT_DAY} to {LAST_REPORT_DAY}.")
        if self.since and self.until and self.since > self.until:
            raise ValueError("`since` comes after `until`.")
        return self


class TimingOut(Schema):
    done: int = Field(description="How many reached it (answered, resolved).")
    median_hours: float | None = Field(description="Business hours; null if none reached it.")
    p90_hours: float | None = Field(description="90th percentile, in business hours.")
    within_target: int
    overdue: int = Field(description="Not reached, and the target has passed.")
    share_within_target: float | None = Field(
        description="`within_target` out of `done` + `overdue` (those whose outcome is "
        "known); null when there are none."
    )

    @staticmethod
    def resolve_median_hours(timing: report.Timing) -> float | None:
        return _hours(timing.median)

    @staticmethod
    def resolve_p90_hours(timing: report.Timing) -> float | None:
        return _hours(timing.p90)


class FiguresOut(Schema):
    count: int = Field(description="Conversations opened in the period.")
    answered: int
    resolved: int
    first_response: TimingOut
    resolution: TimingOut


class RowOut(FiguresOut):
    key: str | None = Field(description="The team's slug (null: no team), platform or week.")
    label: str

    @staticmethod
    def resolve_count(row: report.Row) -> int:
        return row.figures.count

    @staticmethod
    def resolve_answered(row: report.Row) -> int:
        return row.figures.answered

    @staticmethod
    def resolve_resolved(row: report.Row) -> int:
        return row.figures.resolved

    @staticmethod
    def resolve_first_response(row: report.Row) -> report.Timing:
        return row.figures.first_response

    @staticmethod
    def resolve_resolution(row: report.Row) -> report.Timing:
        return row.figures.resolution


class ReportOut(Schema):
    since: date
    until: date
    timezone: str
    first_response_target_hours: float
    resolution_target_hours: float
    overall: FiguresOut
    by_team: list[RowOut]
    by_platform: list[RowOut]
    by_week: list[RowOut] = Field(description="By ISO week of opening (`2026-W09`).")

    @staticmethod
    def resolve_first_response_target_hours(found: report.Report) -> float:
        return found.first_response_target / timedelta(hours=1)

    @staticmethod
    def resolve_resolution_target_hours(found: report.Report) -> float:
        return found.resolution_target / timedelta(hours=1)


# --- reading ---------------------------------------------------------------------------------


def _conversations(ctx: OrgContext) -> models.QuerySet[Conversation]:
    return ctx.scoped(Conversation).select_related("author", "assignee", "team", "organization")


def _conversation(ctx: OrgContext, conversation_id: int) -> Conversation:
    return ctx.get(_conversations(ctx), pk=conversation_id)


@router.get(
    "/orgs/{slug}/conversations",
    response={200: ConversationPage, **ERRORS, **INVALID},
    operation_id="list_conversations",
    summary="Conversations with citizens, latest message first",
)
@requires(Capability.VIEW, "Filters combine; an unknown team or assignee lists nothing.")
def list_conversations(request: HttpRequest, slug: str, filters: Query[ConversationQuery]) -> Any:
    ctx = scope(request, slug)
    found = _conversations(ctx).filter(services.view_filter(filters.view, ctx.actor.user))
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.team is not None:
        found = found.filter(team__slug=filters.team)
    if filters.assignee is not None:
        found = found.filter(assignee__username=filters.assignee)
    if filters.platform is not None:
        found = found.filter(platform=filters.platform)
    found = found.distinct()  # a team's conversations are joined through its members
    page = offset_page(found.order_by("-last_citizen_at", "-id"), filters.limit, filters.offset)
    clocks = sla.clocks(page["items"])
    for conversation in page["items"]:
        setattr(conversation, READ_CLOCK, clocks.get(conversation.pk))
    return page


@router.get(
    "/orgs/{slug}/conversations/response-times",
    response={200: ReportOut, **ERRORS, **INVALID},
    operation_id="conversation_response_times",
    summary="Response times of the conversations opened in a period",
)
@requires(
    Capability.VIEW,
    "For the conversations opened from `since` to `until` (days in the organization's time "
    "zone; by default the last 28 days): how many were answered and resolved, the median "
    "and 90th percentile of the business hours it took (interpolated between ranks), and "
    "the share within the organization's targets, overall and by team, platform and week.",
)
def response_times(request: HttpRequest, slug: str, period: Query[ReportQuery]) -> Any:
    ctx = scope(request, slug)
    return report.response_time_report(ctx.organization, period.since, period.until)


@router.get(
    "/orgs/{slug}/conversations/saved-replies",
    response={200: list[SavedReplyOut], **ERRORS},
    operation_id="list_saved_replies",
    summary="The saved replies (reply templates)",
)
@requires(Capability.VIEW)
def list_saved_replies(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    return list(ctx.scoped(SavedReply).select_related("team").order_by("name", "pk"))


@router.get(
    "/orgs/{slug}/conversations/{conversation_id}",
    response={200: ConversationDetailOut, **ERRORS, **INVALID},
    operation_id="get_conversation",
    summary="One conversation with its messages, replies, notes and history",
)
@requires(Capability.VIEW)
def get_conversation(request: HttpRequest, slug: str, conversation_id: ConversationId) -> Any:
    ctx = scope(request, slug)
    return _conversation(ctx, conversation_id)


# --- changing --------------------------------------------------------------------------------


@contextmanager
def _refused() -> Iterator[None]:
    """A rule of the desk refused the change: 400 with its sentence."""
    try:
        yield
    except services.DeskError as exc:
        raise HttpError(400, str(exc)) from exc


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/assign",
    response={200: ConversationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="assign_conversation",
    summary="Give a conversation to a member, or to nobody",
)
@requires(Capability.ANSWER, "A new conversation becomes open. 400 for anyone not a member.")
def assign(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: AssignIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    user = None
    if payload.assignee is not None:
        user = services.members(ctx.organization).filter(username=payload.assignee).first()
        if user is None:  # the same answer whether or not such an account exists
            raise HttpError(
                400, _("Only a member of the organization can be assigned a conversation.")
            )
    with _refused():
        services.assign(ctx.actor, conversation, user)
    return _conversation(ctx, conversation_id)


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/state",
    response={200: ConversationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="change_conversation_state",
    summary="Move a conversation to another state",
)
@requires(
    Capability.ANSWER,
    "Allowed moves are listed in the conversation's `next_states`; another answers 400. "
    "Waiting for the citizen pauses the response-time clock.",
)
def change_state(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: StateIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    with _refused():
        services.set_state(ctx.actor, conversation, payload.state)
    return _conversation(ctx, conversation_id)


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/team",
    response={200: ConversationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="change_conversation_team",
    summary="Give a conversation to one of the organization's teams, or to none",
)
@requires(Capability.ANSWER, "400 for a short name none of the organization's teams has.")
def change_team(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: TeamIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    team = None
    if payload.team is not None:
        team = ctx.scoped(Team).filter(slug=payload.team).first()
        if team is None:
            raise HttpError(400, _("The organization has no team with this short name."))
    with _refused():
        services.set_team(ctx.actor, conversation, team)
    return _conversation(ctx, conversation_id)


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/labels",
    response={200: ConversationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="set_conversation_labels",
    summary="Replace a conversation's labels",
)
@requires(Capability.ANSWER, "Spaces are tidied, duplicates and empty labels dropped.")
def set_labels(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: LabelsIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    with _refused():
        services.set_labels(ctx.actor, conversation, payload.labels)
    return _conversation(ctx, conversation_id)


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/notes",
    response={201: NoteOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="add_conversation_note",
    summary="Add an internal note",
)
@requires(Capability.ANSWER, "Never sent to the citizen; the members it @mentions are notified.")
def add_note(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: NoteIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    with _refused():
        note = services.add_note(ctx.actor, conversation, payload.text)
    return Status(201, note)


@router.post(
    "/orgs/{slug}/conversations/{conversation_id}/replies",
    response={202: ReplyOut, 200: ReplyOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="send_conversation_reply",
    summary="Reply to the citizen (sent in the background)",
)
@requires(
    Capability.ANSWER,
    "202: the reply is recorded as `sending` and a background job posts it; it is not sent "
    "yet (read the conversation again for its state: sent with its link, or failed with "
    "why). 200: a reply with this `key` exists already in this conversation; it is returned "
    "as it is and nothing more is sent. With `saved_reply_id` and no `text`, the text is the "
    "saved reply filled for this conversation; 400 while some of its variables have nothing "
    "to fill them (then send the `text`). 400 for an empty reply, or a `key` already used in "
    "another conversation.",
)
def send_reply(
    request: HttpRequest, slug: str, conversation_id: ConversationId, payload: ReplyIn
) -> Any:
    ctx = scope(request, slug)
    conversation = _conversation(ctx, conversation_id)
    saved = None
    text = payload.text or ""
    if payload.saved_reply_id is not None:
        saved = ctx.get(SavedReply.objects.select_related("team"), pk=payload.saved_reply_id)
        if payload.text is None:
            text, missing = services.render_saved_reply(saved, conversation, payload.delay)
            if missing:
                raise HttpError(
                    400,
                    _("The saved reply still has variables to fill: %(names)s. Send the text.")
                    % {"names": ", ".join(f"{{{name}}}" for name in missing)},
                )
    existed = ctx.scoped(Reply).filter(key=payload.key).values_list("pk", flat=True).first()
    with _refused():
        reply = services.send_reply(
            ctx.actor,
            conversation,
            text,
            key=payload.key,
            private=payload.private,
            saved_reply=saved,
            resolve=payload.resolve,
        )
    return Status(200 if reply.pk == existed else 202, reply)
