"""Request and response bodies of the JSON API.

Credentials are write-only: they appear in the bodies a client sends (``SourceCreate``,
``SourceUpdate``) and never in a response, which only says ``has_credentials``. Secrets
inside settings (a private feed's key) are shown hidden, and kept when they come back so.
"""

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

from django.db import models
from django.utils import timezone
from ninja import Field, Path, Schema
from pydantic import ConfigDict, field_validator

from beffroi.analysis.watch_query import WatchQueryError, parse
from beffroi.audit.models import AuditEvent
from beffroi.items.models import Item
from beffroi.jobs.models import Job
from beffroi.moderation.models import Case, Decision
from beffroi.organizations.models import Invitation, Organization
from beffroi.organizations.roles import ROLE_CAPABILITIES, Capability, Role
from beffroi.sources.models import MAX_SYNC_INTERVAL_MINUTES, Source
from beffroi.sources.redaction import REDACTED


def _enum(name: str, choices: type[models.TextChoices]) -> type[enum.StrEnum]:
    """A plain enum of a model's choices, so that the OpenAPI document lists the values."""
    return enum.StrEnum(name, [(value.upper(), value) for value in choices.values])  # type: ignore[return-value]


RoleName = _enum("RoleName", Role)
CapabilityName = enum.StrEnum(  # type: ignore[misc]
    "CapabilityName", [(c.name, c.value) for c in Capability]
)
OrganizationKind = _enum("OrganizationKind", Organization.Kind)
InvitationState = _enum("InvitationState", Invitation.State)
ItemKind = _enum("ItemKind", Item.Kind)
ItemState = _enum("ItemState", Item.State)
SourceKind = _enum("SourceKind", Source.Kind)
SourceStatus = _enum("SourceStatus", Source.Status)
JobState = _enum("JobState", Job.State)
DecisionAction = _enum("DecisionAction", Decision.Action)
DecisionStatus = _enum("DecisionStatus", Decision.Status)
PlatformEffect = _enum("PlatformEffect", Decision.PlatformEffect)
CaseState = _enum("CaseState", Case.State)
AuditChannel = _enum("AuditChannel", AuditEvent.Channel)


def capabilities_of(role: str) -> list[str]:
    return sorted(c.value for c in ROLE_CAPABILITIES.get(role, frozenset()))


# --- errors -----------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="A sentence a person can read.")
    errors: dict[str, list[str]] | None = Field(
        None, description="Messages per field, when the error concerns fields."
    )


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]] = Field(description="One entry per invalid value.")


# --- organizations ------------------------------------------------------------------------------


class OrganizationOut(Schema):
    slug: str
    name: str
    kind: OrganizationKind  # type: ignore[valid-type]
    language: str
    created_at: datetime
    role: RoleName = Field(description="The token user's role in this organization.")  # type: ignore[valid-type]
    capabilities: list[CapabilityName] = Field(description="What that role allows.")


class StatsOut(Schema):
    organization: str
    items: int
    sources: int
    authors: int
    decisions: int
    cases: int
    open_cases: int
    items_by_kind: dict[str, int]
    items_by_platform: dict[str, int]
    items_by_language: dict[str, int]
    conversations_by_state: dict[str, int]
    posts_by_state: dict[str, int] = Field(description="Posts by state; every state, 0 when none.")
    counter_speech_entries: dict[str, int] = Field(
        description="Counter-speech entries of the organization's own library, by state; "
        "every state, 0 when none."
    )
    requests: dict[str, Any] = Field(
        description="Conversations judged requests or complaints for the organization: total, "
        "by_service (the service asked) and not_judged (conversations not judged yet)."
    )


# --- items and authors --------------------------------------------------------------------------


class AuthorBrief(Schema):
    id: int
    platform: str
    handle: str
    display_name: str


class AuthorOut(Schema):
    id: int
    platform: str
    platform_id: str
    handle: str
    display_name: str
    url: str
    extra: dict[str, Any]
    first_seen_at: datetime
    item_count: int = Field(description="Items of this author stored for the organization.")


class AnalysedPart(Schema):
    head: int
    tail: int
    length: int


class ItemOut(Schema):
    id: int
    source_id: int
    platform: str
    platform_id: str
    kind: ItemKind  # type: ignore[valid-type]
    state: ItemState  # type: ignore[valid-type]
    thread_id: str = Field(description="Platform id of the conversation's root post.")
    parent_id: int | None = Field(description="Id of the stored item this one answers.")
    parent_platform_id: str
    author: AuthorBrief
    text: str
    language: str
    created_at: datetime = Field(description="When the platform says it was published.")
    ingested_at: datetime
    url: str
    analysed_part: AnalysedPart | None = Field(
        description="For a text too long to analyse whole: the parts the detectors read "
        "(its first `head` and last `tail` characters of `length`); null when they read it all."
    )


class QuotedOut(Schema):
    relation: str = Field(description="`quote` (the author comments on it) or `repost`.")
    platform_id: str | None
    text: str = Field(description="Empty where the platform sent only a reference to it.")
    author: str
    url: str


class ItemDetailOut(ItemOut):
    urls: list[Any]
    media: list[Any]
    metrics: dict[str, Any]
    quoted: QuotedOut | None = Field(
        description="The post this one quotes or reposts, as its reader sees it; null if none."
    )
    labels: list[str] = Field(
        description="The platform's own moderation labels on the post (Bluesky: `spam`, `porn`…)."
    )

    @staticmethod
    def resolve_quoted(item: Any) -> dict[str, Any] | None:
        return item.quoted or None

    raw: dict[str, Any] = Field(description="The platform's payload, kept verbatim as evidence.")


class ItemPage(Schema):
    items: list[ItemOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        description="Offset of the next page with the same filters; null on the last page."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (stable while items arrive); "
        "null on the last page."
    )


# --- sources and jobs ---------------------------------------------------------------------------


class RequestBody(Schema):
    """A body a client sends: a JSON object with only the fields described (ninja's Schema
    would read the attributes of any value, so that ``[]`` made an empty change)."""

    model_config = ConfigDict(extra="forbid")


class SourceOut(Schema):
    id: int
    name: str
    platform: str
    kind: SourceKind  # type: ignore[valid-type]
    enabled: bool
    settings: dict[str, Any] = Field(
        description=f"Secrets inside them (keys in an address, secret options) read "
        f"`{REDACTED}`; sent back unchanged, they keep the stored value."
    )
    has_credentials: bool = Field(description="Credentials are stored (they are never returned).")
    status: SourceStatus  # type: ignore[valid-type]
    last_error: str
    last_synced_at: datetime | None
    retry_after: datetime | None
    sync_interval_minutes: int
    created_at: datetime

    @staticmethod
    def resolve_settings(obj: Source) -> dict[str, Any]:
        return obj.shown_settings


class SourceCreate(RequestBody):
    name: str = Field(min_length=1, max_length=120)
    platform: str = Field(min_length=1, max_length=32, description="A connector's platform name.")
    kind: SourceKind = Source.Kind.ACCOUNT.value  # type: ignore[valid-type]
    enabled: bool = True
    sync_interval_minutes: int = Field(
        Source._meta.get_field("sync_interval_minutes").default,
        ge=1,
        le=MAX_SYNC_INTERVAL_MINUTES,
    )
    settings: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(
        default_factory=dict,
        description="Write-only: encrypted at rest and never returned.",
        json_schema_extra={"writeOnly": True},
    )


class SourceUpdate(RequestBody):
    name: str | None = Field(None, min_length=1, max_length=120)
    kind: SourceKind | None = None  # type: ignore[valid-type]
    enabled: bool | None = None
    settings: dict[str, Any] | None = None
    sync_interval_minutes: int | None = Field(None, ge=1, le=MAX_SYNC_INTERVAL_MINUTES)
    credentials: dict[str, Any] | None = Field(
        None,
        description="Write-only. Absent or null keeps the stored credentials; {} clears them.",
        json_schema_extra={"writeOnly": True},
    )

    @field_validator("name", "kind", "enabled", "settings", "sync_interval_minutes", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class JobOut(Schema):
    id: int
    name: str
    state: JobState  # type: ignore[valid-type]
    attempts: int
    max_attempts: int
    run_after: datetime | None
    last_error: str
    result: Any = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


# --- moderation ---------------------------------------------------------------------------------


class DecisionOut(Schema):
    id: int
    item_id: int
    action: DecisionAction  # type: ignore[valid-type]
    category: str
    clause: str
    automated: bool
    actor: str | None = Field(description="Username of the person who decided, if any.")
    rule: str
    scores: dict[str, Any]
    status: DecisionStatus = Field(  # type: ignore[valid-type]
        description="What the organization decided: in force (applied), proposed, undone…"
    )
    platform_effect: PlatformEffect = Field(  # type: ignore[valid-type]
        description="What it did on the platform, apart from the decision: pending, done, "
        "refused (the platform's words in platform_result.detail), unsupported, not_needed, "
        "simulated (a demo source), cancelled (undone before the platform was asked)."
    )
    platform_result: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_actor(obj: Decision) -> str | None:
        return obj.actor.get_username() if obj.actor is not None else None

    @staticmethod
    def resolve_platform_effect(obj: Decision) -> str:
        return obj.platform_effect


class DecisionPage(Schema):
    items: list[DecisionOut]
    count: int
    limit: int
    offset: int


class CaseOut(Schema):
    id: int
    item_id: int
    state: CaseState  # type: ignore[valid-type]
    reason: str
    priority: int
    assignee: str | None = Field(description="Username of the assignee, if any.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_assignee(obj: Case) -> str | None:
        return obj.assignee.get_username() if obj.assignee is not None else None


class CasePage(Schema):
    items: list[CaseOut]
    count: int
    limit: int
    offset: int


# --- members ------------------------------------------------------------------------------------


class MemberOut(Schema):
    id: int = Field(description="The membership id (used in member paths).")
    user_id: int
    username: str
    email: str = Field(
        description="Empty unless it is the caller's own, or the address the organization "
        "invited this member at or created their account with (and the account still uses)."
    )
    role: RoleName  # type: ignore[valid-type]
    created_at: datetime

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return str(obj.user.get_username())

    @staticmethod
    def resolve_email(obj: Any, context: Any) -> str:
        return str(obj.email_shown_to(context["request"].auth.user))


class MemberUpdate(Schema):
    role: RoleName  # type: ignore[valid-type]


class InvitationCreate(Schema):
    identifier: str = Field(
        min_length=1, max_length=254, description="The username or e-mail of an existing account."
    )
    role: RoleName  # type: ignore[valid-type]


class InvitationOut(Schema):
    id: int
    identifier: str = Field(description="What the administrator typed; nothing else is shown.")
    role: RoleName  # type: ignore[valid-type]
    state: InvitationState = Field(  # type: ignore[valid-type]
        description="A pending invitation past its expiry reads `expired`."
    )
    invited_by: str | None = Field(description="Username of the administrator who invited.")
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = Field(
        description="When it was accepted, declined, revoked or recorded as expired."
    )

    @staticmethod
    def resolve_state(obj: Invitation) -> str:
        return obj.current_state

    @staticmethod
    def resolve_invited_by(obj: Invitation) -> str | None:
        return obj.invited_by.get_username() if obj.invited_by is not None else None


# --- audit --------------------------------------------------------------------------------------


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str | None = Field(description="Username of the acting user, if any.")
    actor_label: str
    channel: AuditChannel  # type: ignore[valid-type]
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor.get_username() if obj.actor is not None else None


class AuditPage(Schema):
    items: list[AuditEventOut]
    count: int
    limit: int
    offset: int


# --- path and query parameters -------------------------------------------------------------------

#: The largest id a row can have (64-bit, what every table's key holds): a larger number is
#: refused with 422 before it reaches the database, whose driver would overflow.
MAX_ID = 2**63 - 1
#: Charter version numbers are counted per organization in a 32-bit column.
MAX_VERSION_NUMBER = 2**31 - 1
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
#: Far past any organization's rows, and far below what the databases' OFFSET holds.
MAX_OFFSET = 10**9

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="An item's id.")]
AuthorId = Annotated[int, Path(ge=1, le=MAX_ID, description="An author's id.")]
SourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="A source's id.")]
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="A job's id.")]
MemberId = Annotated[int, Path(ge=1, le=MAX_ID, description="A membership's id.")]
InvitationId = Annotated[int, Path(ge=1, le=MAX_ID, description="An invitation's id.")]
VersionNumber = Annotated[
    int, Path(ge=1, le=MAX_VERSION_NUMBER, description="A version's number (1, 2, …).")
]


def _id_filter(description: str) -> Any:
    return Field(None, ge=1, le=MAX_ID, description=description)


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most 500.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="At most 1,000,000,000.")


class ItemQuery(PageQuery):
    source: int | None = _id_filter("Only items of this source id.")
    kind: ItemKind | None = None  # type: ignore[valid-type]
    language: str | None = Field(None, description="ISO 639-1 code, as detected.")
    state: ItemState | None = None  # type: ignore[valid-type]
    q: str | None = Field(
        None,
        description="The inbox's search, in the watches' query language: words in any "
        'order (accents and case ignored, also looked for in the author\'s name), "phrases", '
        "OR, -word, #hashtag, from:, lang:, platform:, domain:, word*.",
    )
    since: datetime | None = Field(
        None, description="Published at or after (ISO 8601; without a zone, the server's)."
    )
    until: datetime | None = Field(
        None, description="Published before (ISO 8601; without a zone, the server's)."
    )
    cursor: str | None = Field(
        None, description="A `next_cursor` from a previous page (then leave `offset` out)."
    )

    @field_validator("q")
    @classmethod
    def _readable_search(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            try:
                parse(value)
            except WatchQueryError as error:
                raise ValueError(str(error)) from error
        return value

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_8601(cls, value: Any) -> Any:
        # pydantic would read a bare number as seconds since 1970: the description says ISO.
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError as error:
                raise ValueError("Expected an ISO 8601 date and time.") from error
        return value

    @field_validator("since", "until")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Stored times are UTC, and PostgreSQL refuses offsets past ±15:59: convert here,
        # refusing a moment with no UTC counterpart (the first hours of year 1…).
        if value is None:
            return None
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        try:
            return aware.astimezone(UTC)
        except OverflowError as error:
            raise ValueError("Out of range once converted to UTC (years 1 to 9999).") from error


class DecisionQuery(PageQuery):
    item: int | None = _id_filter("Only decisions on this item id.")
    action: DecisionAction | None = None  # type: ignore[valid-type]
    automated: bool | None = None


class CaseQuery(PageQuery):
    state: CaseState | None = None  # type: ignore[valid-type]
    item: int | None = _id_filter("Only cases about this item id.")


class AuditQuery(PageQuery):
    action: str | None = Field(None, description="e.g. `source.update`.")
    channel: AuditChannel | None = None  # type: ignore[valid-type]


# --- responses shared by the operations -----------------------------------------------------------

#: Token missing or refused; role lacks the capability; not a member or no such object.
ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
#: A parameter or body that does not validate.
INVALID: dict[int, type[Schema]] = {422: ValidationErrorOut}
#: A change refused by the services' rules (the message says why).
REFUSED: dict[int, type[Schema]] = {400: ErrorOut}
