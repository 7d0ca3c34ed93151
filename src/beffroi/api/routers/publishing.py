"""The publishing desk in the JSON API: posts with their variant per account, their approval,
their time and their publication; the calendar; the crisis pause; the media library.

Every change goes through the desk's services (``beffroi.publishing.services``), as from the
desk's pages: the same rules, the token's person as the actor, the same audit events. Posts
are published by background jobs, never during a request: read the post again to see what
each platform did with its variant.

Refusals, one rule for every operation:

- 409: the services refused the change because of where the post or the pause stands (a
  post that is not a draft cannot be submitted, no one approves their own post, the post
  changed since the approver read it, a pause already ended…). The sentence says why.
- 400: what was sent cannot be used: an account or a media id that is not the
  organization's, a label it does not have, a repeat rule that cannot be read; and any
  refusal of the two operations that create something (a post, a pause), since nothing
  stood before them.
- 422: a body or a query that does not match its description.

The media library is read only here: files are uploaded (and described) in the web
interface, and a post refers to them by id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db.models import F, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator, BeforeValidator, StrictBool, field_validator, model_validator

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    MAX_ID,
    REFUSED,
    ErrorOut,
    ItemQuery,
    PageQuery,
    RequestBody,
    _enum,
)
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability
from beffroi.publishing import approval, limits, pausing, services
from beffroi.publishing.models import (
    Approval,
    MediaAsset,
    Pause,
    PauseWindow,
    Post,
    PostLabel,
    PostVariant,
)
from beffroi.sources.models import Source

router = Router(tags=["publishing"])

PostState = _enum("PostState", Post.State)
PostKind = _enum("PostKind", Post.Kind)
VariantState = _enum("PostVariantState", PostVariant.State)
PauseScope = _enum("PauseScope", Pause.Scope)
MediaKind = _enum("MediaKind", MediaAsset.Kind)
DecisionName = _enum("ApprovalDecision", Approval.Decision)

#: The service refused because of where the post or the pause stands.
CONFLICT: dict[int, type[Schema]] = {409: ErrorOut}

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="A post's id.")]
PauseId = Annotated[int, Path(ge=1, le=MAX_ID, description="A pause's id.")]

#: The longest span the calendar reads at once.
CALENDAR_MAX_DAYS = 366
CALENDAR_DEFAULT_DAYS = 31


def _iso_8601_text(value: Any) -> Any:
    """A date and time sent as ISO 8601 text only: pydantic would read a bare number as
    seconds since 1970."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("Expected an ISO 8601 date and time.")
    return ItemQuery._iso_8601(value)


#: A moment given by the client: ISO 8601 text (without a zone, the server's), kept in UTC.
Moment = Annotated[datetime, BeforeValidator(_iso_8601_text), AfterValidator(ItemQuery._in_utc)]
Label = Annotated[str, Field(min_length=1, max_length=60)]
#: Numbers and booleans of a body are taken as JSON writes them ("1" or 1.5 is not an id).
MediaId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]

_http_url = URLValidator(schemes=["http", "https"])


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- answers ---------------------------------------------------------------------------------


class AccountBrief(Schema):
    id: int = Field(description="The source's id (see `/sources`).")
    name: str
    platform: str


class VariantOut(Schema):
    id: int
    account: AccountBrief
    text: str
    title: str
    link: str
    first_comment: str
    media: list[int] = Field(description="Ids of the library's media, in their order.")
    state: VariantState = Field(  # type: ignore[valid-type]
        description="What the platform did with it: pending (not sent yet), publishing, "
        "published (with `url`), simulated (a demo account), failed (with `reason`), unknown "
        "(the answer was lost: a person checks the platform) or exported (posted by hand)."
    )
    url: str
    reason: str = Field(description="Why it failed or waits (paused, credentials…).")
    detail: str = Field(description="The platform's own words, when it refused.")
    published_at: datetime | None

    @staticmethod
    def resolve_account(variant: PostVariant) -> Source:
        return variant.source

    @staticmethod
    def resolve_media(variant: PostVariant) -> list[int]:
        return [attached.media_id for attached in variant.variantmedia_set.all()]


class PostOut(Schema):
    id: int
    title: str = Field(description="Internal, for the calendar; never published.")
    kind: PostKind  # type: ignore[valid-type]
    state: PostState = Field(  # type: ignore[valid-type]
        description="Where the post stands: draft, in_review, approved, scheduled, publishing, "
        "published, failed, approval_expired (not approved in time: never published), "
        "suspended, unattempted (its time passed during a pause: waits for a person)."
    )
    state_reason: str = Field(description="Why it is there (recorded in English), if said.")
    author: str | None = Field(description="Username of who wrote it.")
    scheduled_at: datetime | None
    approve_by: datetime | None = Field(description="Not approved by then, it expires.")
    published_at: datetime | None
    labels: list[str]
    campaign: str
    recurrence: str = Field(description="An iCalendar rule; empty when it does not repeat.")
    evergreen: bool
    content_hash: str = Field(
        description="A fingerprint of what would be published: an approval is given to it "
        "(send it back as `seen_hash`)."
    )
    approved: bool = Field(description="Approved for the content it has now.")
    created_at: datetime
    updated_at: datetime
    variants: list[VariantOut]

    @staticmethod
    def resolve_author(post: Post) -> str | None:
        return _username(post.author)

    @staticmethod
    def resolve_labels(post: Post) -> list[str]:
        return sorted(label.name for label in post.labels.all())

    @staticmethod
    def resolve_approved(post: Post) -> bool:
        return post.approval_current

    @staticmethod
    def resolve_variants(post: Post) -> list[PostVariant]:
        return list(post.variants.all())


class ApprovalOut(Schema):
    step_index: int = Field(description="Its step, counted from 0 in the post's steps.")
    step: str | None = Field(description="The step's name (null once the step was removed).")
    who: str = Field(description="The approver's username, or the name on an external link.")
    external: bool = Field(description="Given through an external approval link.")
    decision: DecisionName  # type: ignore[valid-type]
    comment: str
    current: bool = Field(description="Given to the content the post has now.")
    created_at: datetime

    @staticmethod
    def resolve_step(given: Approval) -> str | None:
        return given.step.name if given.step is not None else None

    @staticmethod
    def resolve_external(given: Approval) -> bool:
        return given.user_id is None

    @staticmethod
    def resolve_current(given: Approval) -> bool:
        return given.content_hash == given.post.content_hash


class ProblemOut(Schema):
    variant_id: int
    code: str = Field(description="Stable: too_long, media_required, alt_text_missing…")
    field: str = Field(description="text, title, link, first_comment, media or alt_text.")
    sentence: str = Field(description="The problem in the reader's language.")


class PostDetailOut(PostOut):
    review_step: int = Field(description="The step it waits for, counted from 0.")
    steps: list[str] = Field(description="The approval steps it passes, in order.")
    approvals: list[ApprovalOut] = Field(description="Decisions given, oldest first.")
    problems: list[ProblemOut] = Field(
        description="What stops a variant from going out on its network (length, media, "
        "alt text…): a post with problems cannot be submitted."
    )

    @staticmethod
    def resolve_steps(post: Post) -> list[str]:
        return [step.name for step in approval.steps_for(post)]

    @staticmethod
    def resolve_approvals(post: Post) -> list[Approval]:
        return list(post.approvals.select_related("step", "user", "post"))

    @staticmethod
    def resolve_problems(post: Post) -> list[dict[str, Any]]:
        return [
            {
                "variant_id": variant_id,
                "code": problem.code,
                "field": problem.field,
                "sentence": limits.say(problem),
            }
            for variant_id, found in services.problems(post).items()
            for problem in found
        ]


#: Where an edit puts, on the post it answers with, whether the change sent it back to review.
BACK_TO_REVIEW = "back_to_review"


class PostEditOut(PostDetailOut):
    back_to_review: bool = Field(
        description="The change voided an approval, given or under way: the post waits for "
        "its approvers again from the first step."
    )


class PostPage(Schema):
    items: list[PostOut]
    count: int
    limit: int
    offset: int


class CalendarPostOut(Schema):
    id: int
    title: str
    state: PostState  # type: ignore[valid-type]
    scheduled_at: datetime
    platforms: list[str] = Field(description="The networks of its accounts.")

    @staticmethod
    def resolve_platforms(post: Post) -> list[str]:
        return sorted({variant.source.platform for variant in post.variants.all()})


class PauseWindowOut(Schema):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    reason: str


class CalendarOut(Schema):
    start: datetime = Field(description="The `from` read.")
    end: datetime = Field(description="The `to` read.")
    posts: list[CalendarPostOut] = Field(description="Posts whose time is in the range.")
    windows: list[PauseWindowOut] = Field(
        description="Periods planned without publishing that meet the range."
    )


class PauseOut(Schema):
    id: int
    scope: PauseScope  # type: ignore[valid-type]
    account: AccountBrief | None = Field(description="The account it stops (scope `source`).")
    label: str | None = Field(description="The label whose posts it stops (scope `label`).")
    reason: str
    started_by: str | None = Field(description="Username of who paused (null: command line).")
    started_at: datetime
    confirmed_at: datetime | None = Field(
        description="From then on nothing more reached a platform: the posts already in a "
        "platform call when the pause began had their answer, or `in_flight` says how many "
        "had not."
    )
    in_flight: int = Field(description="Calls still under way when it was confirmed.")
    ended_at: datetime | None
    ended_by: str | None

    @staticmethod
    def resolve_account(pause: Pause) -> Source | None:
        return pause.source

    @staticmethod
    def resolve_label(pause: Pause) -> str | None:
        return pause.label.name if pause.label is not None else None

    @staticmethod
    def resolve_started_by(pause: Pause) -> str | None:
        return _username(pause.started_by)

    @staticmethod
    def resolve_ended_by(pause: Pause) -> str | None:
        return _username(pause.ended_by)


class PausesOut(Schema):
    paused: bool = Field(description="At least one pause is active.")
    pauses: list[PauseOut] = Field(description="The active pauses, latest first.")
    windows: list[PauseWindowOut] = Field(
        description="Periods planned without publishing, under way or to come."
    )


class MediaOut(Schema):
    id: int
    name: str
    kind: MediaKind  # type: ignore[valid-type]
    mime_type: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_seconds: float | None
    alt_text: str = Field(description="What it shows, for people who cannot see it.")
    created_at: datetime


class MediaPage(Schema):
    items: list[MediaOut]
    count: int
    limit: int
    offset: int


# --- queries and bodies ----------------------------------------------------------------------


class PostQuery(PageQuery):
    state: PostState | None = None  # type: ignore[valid-type]
    account: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only posts with a variant for this account id."
    )
    label: str | None = Field(None, max_length=60, description="Only posts with this label.")
    from_: Moment | None = Field(
        None, alias="from", description="Time at or after (ISO 8601; without a zone, the server's)."
    )
    to: Moment | None = Field(
        None, description="Time before (ISO 8601; without a zone, the server's)."
    )


def _shifted(moment: datetime, days: int) -> datetime:
    """``days`` later (or earlier), held at the first or last moment a date can be."""
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return (datetime.max if days > 0 else datetime.min).replace(tzinfo=UTC)


class CalendarQuery(Schema):
    from_: Moment | None = Field(
        None, alias="from", description="Start (ISO 8601; without a zone, the server's)."
    )
    to: Moment | None = Field(
        None,
        description=f"End, excluded (ISO 8601); by default {CALENDAR_DEFAULT_DAYS} days after "
        f"`from`, and `from` by default now, or {CALENDAR_DEFAULT_DAYS} days before `to`. At "
        f"most {CALENDAR_MAX_DAYS} days apart.",
    )

    @model_validator(mode="after")
    def _a_range(self) -> CalendarQuery:
        if self.from_ is not None and self.to is not None:
            if self.to <= self.from_:
                raise ValueError("`to` must come after `from`.")
            if self.to - self.from_ > timedelta(days=CALENDAR_MAX_DAYS):
                raise ValueError(f"At most {CALENDAR_MAX_DAYS} days at once.")
        return self


class VariantIn(RequestBody):
    account_id: int = Field(
        ge=1, le=MAX_ID, strict=True, description="One of the organization's sources."
    )
    text: str = Field("", max_length=100_000)
    title: str = Field("", max_length=200, description="Where the network shows one (YouTube).")
    link: str = Field("", max_length=1000, description="An http(s) address, or empty.")
    first_comment: str = Field("", max_length=100_000)
    media: list[MediaId] = Field(
        default_factory=list, max_length=50, description="Ids of the library's media, in order."
    )

    @field_validator("link")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value:
            try:
                _http_url(value)
            except DjangoValidationError as error:
                raise ValueError("Expected an http(s) address.") from error
        return value


def _one_variant_per_account(variants: Sequence[VariantIn] | None) -> None:
    if variants is not None:
        accounts = [variant.account_id for variant in variants]
        if len(set(accounts)) != len(accounts):
            raise ValueError("One variant per account.")


class PostIn(RequestBody):
    title: str = Field("", max_length=200, description="Empty: the start of the first text.")
    kind: PostKind = Post.Kind.POST.value  # type: ignore[valid-type]
    scheduled_at: Moment | None = Field(None, description="When to publish (ISO 8601).")
    labels: list[Label] = Field(default_factory=list, max_length=50)
    campaign: str = Field("", max_length=100)
    recurrence: str = Field(
        "", max_length=200, description="An iCalendar rule (FREQ=WEEKLY;BYDAY=SA)."
    )
    evergreen: StrictBool = False
    variants: list[VariantIn] = Field(
        min_length=1, max_length=50, description="One per account it is published from."
    )

    @model_validator(mode="after")
    def _distinct_accounts(self) -> PostIn:
        _one_variant_per_account(self.variants)
        return self


class PostUpdate(RequestBody):
    """What changes; what is left out stays as it is. The time changes through `schedule`
    (where an approved post starts or stops waiting for it)."""

    title: str | None = Field(None, max_length=200)
    labels: list[Label] | None = Field(None, max_length=50)
    campaign: str | None = Field(None, max_length=100)
    recurrence: str | None = Field(None, max_length=200)
    evergreen: StrictBool | None = None
    variants: list[VariantIn] | None = Field(
        None, min_length=1, max_length=50, description="Given, they replace all the variants."
    )

    @field_validator("title", "labels", "campaign", "recurrence", "evergreen", "variants")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

    @model_validator(mode="after")
    def _distinct_accounts(self) -> PostUpdate:
        _one_variant_per_account(self.variants)
        return self


class DecideIn(RequestBody):
    seen_hash: str = Field(
        min_length=1,
        max_length=64,
        description="The `content_hash` of the post as the approver read it: if the post "
        "changed since, the decision is refused (409).",
    )
    comment: str = Field("", max_length=5000, description="Shown to the author.")


class ScheduleIn(RequestBody):
    scheduled_at: Moment | None = Field(description="When to publish (ISO 8601); null: no time.")


class SuspendIn(RequestBody):
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Say why.")
        return value


class PauseIn(RequestBody):
    reason: str = Field(
        min_length=1, max_length=2000, description="Everyone who opens the desk reads it."
    )
    account_id: int | None = Field(
        None, ge=1, le=MAX_ID, strict=True, description="Pause only this account (a source's id)."
    )
    label: str | None = Field(
        None, min_length=1, max_length=60, description="Pause only the posts with this label."
    )

    @model_validator(mode="after")
    def _one_scope(self) -> PauseIn:
        if self.account_id is not None and self.label is not None:
            raise ValueError("Give an account, a label or neither (the whole organization).")
        return self


# --- reading ---------------------------------------------------------------------------------


def _posts(ctx: OrgContext) -> QuerySet[Post]:
    variants = PostVariant.objects.select_related("source").prefetch_related("variantmedia_set")
    return (
        ctx.scoped(Post)
        .select_related("author")
        .prefetch_related("labels", Prefetch("variants", queryset=variants))
    )


def _post(ctx: OrgContext, post_id: int) -> Post:
    return ctx.get(_posts(ctx), pk=post_id)


@router.get(
    "/orgs/{slug}/posts",
    response={200: PostPage, **ERRORS, **INVALID},
    operation_id="list_posts",
    summary="Posts, latest time first (posts without a time first)",
)
@requires(
    Capability.VIEW,
    "Filters combine; `from` and `to` read the post's time (posts without one are left out "
    "when either is given).",
)
def list_posts(request: HttpRequest, slug: str, filters: Query[PostQuery]) -> Any:
    ctx = scope(request, slug)
    found = _posts(ctx)
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.account is not None:
        found = found.filter(variants__source_id=filters.account)
    if filters.label is not None:
        found = found.filter(labels__name=filters.label)
    if filters.from_ is not None:
        found = found.filter(scheduled_at__gte=filters.from_)
    if filters.to is not None:
        found = found.filter(scheduled_at__lt=filters.to)
    ordered = found.order_by(F("scheduled_at").desc(nulls_first=True), "-id")
    return offset_page(ordered, filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/posts/{post_id}",
    response={200: PostDetailOut, **ERRORS, **INVALID},
    operation_id="get_post",
    summary="One post with its variants, approvals and problems",
)
@requires(Capability.VIEW)
def get_post(request: HttpRequest, slug: str, post_id: PostId) -> Any:
    ctx = scope(request, slug)
    return _post(ctx, post_id)


@router.get(
    "/orgs/{slug}/calendar",
    response={200: CalendarOut, **ERRORS, **INVALID},
    operation_id="publishing_calendar",
    summary="The posts of a period and the periods without publishing",
)
@requires(Capability.VIEW)
def calendar(request: HttpRequest, slug: str, period: Query[CalendarQuery]) -> Any:
    ctx = scope(request, slug)
    if period.from_ is None and period.to is not None:
        start, end = _shifted(period.to, -CALENDAR_DEFAULT_DAYS), period.to
    else:
        start = period.from_ or timezone.now()
        end = period.to or _shifted(start, CALENDAR_DEFAULT_DAYS)
    posts = (
        ctx.scoped(Post)
        .filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .prefetch_related(
            Prefetch("variants", queryset=PostVariant.objects.select_related("source"))
        )
        .order_by("scheduled_at", "id")
    )
    return {
        "start": start,
        "end": end,
        "posts": list(posts),
        "windows": pausing.windows_overlapping(ctx.organization.pk, start, end),
    }


@router.get(
    "/orgs/{slug}/pause",
    response={200: PausesOut, **ERRORS},
    operation_id="publishing_pauses",
    summary="The active pauses and the periods planned without publishing",
)
@requires(Capability.VIEW)
def list_pauses(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    pauses = pausing.active_pauses(ctx.organization.pk)
    windows = ctx.scoped(PauseWindow).filter(ends_at__gt=timezone.now()).order_by("starts_at")
    return {"paused": bool(pauses), "pauses": pauses, "windows": list(windows)}


@router.get(
    "/orgs/{slug}/media",
    response={200: MediaPage, **ERRORS, **INVALID},
    operation_id="list_media",
    summary="The media library, latest first",
)
@requires(
    Capability.VIEW,
    "Read only: files are uploaded and described in the web interface; posts refer to them by id.",
)
def list_media(request: HttpRequest, slug: str, page: Query[PageQuery]) -> Any:
    ctx = scope(request, slug)
    return offset_page(
        ctx.scoped(MediaAsset).order_by("-created_at", "-id"), page.limit, page.offset
    )


# --- writing ---------------------------------------------------------------------------------


@contextmanager
def _refused(status: int = 409) -> Iterator[None]:
    """The services refused: 409 where the post or pause stands in the way, 400 for a
    creation (see the module's docstring); the sentence says why."""
    try:
        yield
    except services.PublishingError as exc:
        raise HttpError(status, str(exc)) from exc


def _variant_inputs(ctx: OrgContext, variants: Sequence[VariantIn]) -> list[services.VariantInput]:
    """The services' inputs for the variants sent; an id not of the organization is 400."""
    accounts = ctx.scoped(Source).in_bulk([variant.account_id for variant in variants])
    media_ids = {media_id for variant in variants for media_id in variant.media}
    library = ctx.scoped(MediaAsset).in_bulk(list(media_ids))
    if len(accounts) != len(variants):
        raise HttpError(400, _("This account is not one of the organization's."))
    if len(library) != len(media_ids):
        raise HttpError(400, _("This media is not in the organization's library."))
    return [
        services.VariantInput(
            source=accounts[variant.account_id],
            text=variant.text,
            title=variant.title,
            link=variant.link,
            first_comment=variant.first_comment,
            media=[library[media_id] for media_id in variant.media],
        )
        for variant in variants
    ]


def _inputs_of(post: Post) -> list[services.VariantInput]:
    """The post's variants as they are, for a change that leaves them alone."""
    return [
        services.VariantInput(
            source=variant.source,
            text=variant.text,
            title=variant.title,
            link=variant.link,
            first_comment=variant.first_comment,
            media=[
                attached.media
                for attached in variant.variantmedia_set.select_related("media").order_by(
                    "position", "id"
                )
            ],
        )
        for variant in post.variants.select_related("source")
    ]


@router.post(
    "/orgs/{slug}/posts",
    response={201: PostDetailOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="create_post",
    summary="Write a draft",
)
@requires(
    Capability.PUBLISH,
    "A draft with a variant per account (`account_id`: one of the organization's sources) "
    "and the library's media by id. Submit it for approval next. 400 for an account or a "
    "media that is not the organization's, or a repeat rule that cannot be read.",
)
def create_post(request: HttpRequest, slug: str, payload: PostIn) -> Any:
    ctx = scope(request, slug)
    variants = _variant_inputs(ctx, payload.variants)
    with _refused(400):
        post = services.save_post(
            ctx.actor,
            ctx.organization,
            variants,
            title=payload.title,
            kind=payload.kind,
            scheduled_at=payload.scheduled_at,
            labels=payload.labels,
            campaign=payload.campaign,
            recurrence=payload.recurrence,
            evergreen=payload.evergreen,
        )
    return Status(201, _post(ctx, post.pk))


@router.patch(
    "/orgs/{slug}/posts/{post_id}",
    response={200: PostEditOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="update_post",
    summary="Change a post",
)
@requires(
    Capability.PUBLISH,
    "What is left out stays; `variants`, given, replace them all; the time changes through "
    "`schedule`. A change of what would be published after an approval (given or under "
    "way) sends the post back to review: `back_to_review` says so. 409 for a post being "
    "published or published.",
)
def update_post(request: HttpRequest, slug: str, post_id: PostId, payload: PostUpdate) -> Any:
    ctx = scope(request, slug)
    post = _post(ctx, post_id)
    recurrence = payload.recurrence if payload.recurrence is not None else post.recurrence
    with _refused(400):
        services.check_recurrence(recurrence, post.scheduled_at)
    variants = (
        _variant_inputs(ctx, payload.variants) if payload.variants is not None else _inputs_of(post)
    )
    labels = (
        payload.labels
        if payload.labels is not None
        else [label.name for label in post.labels.all()]
    )
    before = post.content_hash
    with _refused():
        saved = services.save_post(
            ctx.actor,
            ctx.organization,
            variants,
            post=post,
            title=payload.title if payload.title is not None else post.title,
            kind=post.kind,
            scheduled_at=post.scheduled_at,
            labels=labels,
            campaign=payload.campaign if payload.campaign is not None else post.campaign,
            recurrence=recurrence,
            evergreen=payload.evergreen if payload.evergreen is not None else post.evergreen,
        )
    answer = _post(ctx, post_id)
    # In review after a change of content: a review under way starts again, and a post that
    # was approved went back (a draft or a suspended post stays where it is).
    setattr(
        answer, BACK_TO_REVIEW, saved.state == Post.State.IN_REVIEW and saved.content_hash != before
    )
    return answer


@router.post(
    "/orgs/{slug}/posts/{post_id}/submit",
    response={200: PostDetailOut, **CONFLICT, **ERRORS, **INVALID},
    operation_id="submit_post",
    summary="Ask for approval",
)
@requires(
    Capability.PUBLISH,
    "The post goes to review (`in_review`), or is approved at once where no approval "
    "workflow covers it. 409 for a post that is not a draft (or expired, or failed), or one "
    "whose variants have problems on their networks (see the post's `problems`).",
)
def submit_post(request: HttpRequest, slug: str, post_id: PostId) -> Any:
    ctx = scope(request, slug)
    with _refused():
        services.submit(ctx.actor, _post(ctx, post_id))
    return _post(ctx, post_id)


def _decide(request: HttpRequest, slug: str, post_id: int, payload: DecideIn, approve: bool) -> Any:
    ctx = scope(request, slug)
    with _refused():
        services.decide(
            ctx.actor, _post(ctx, post_id), approve, payload.comment, seen_hash=payload.seen_hash
        )
    return _post(ctx, post_id)


@router.post(
    "/orgs/{slug}/posts/{post_id}/approve",
    response={200: PostDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="approve_post",
    summary="Approve the post's current step",
)
@requires(
    Capability.APPROVE,
    "Given to the content read (`seen_hash`). 409 when the post is not in review, changed "
    "since it was read, was written by the caller (no one approves their own post), or the "
    "caller is not among the approvers of its current step.",
)
def approve_post(request: HttpRequest, slug: str, post_id: PostId, payload: DecideIn) -> Any:
    return _decide(request, slug, post_id, payload, approve=True)


@router.post(
    "/orgs/{slug}/posts/{post_id}/reject",
    response={200: PostDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="reject_post",
    summary="Send the post back to its author",
)
@requires(
    Capability.APPROVE,
    "The post becomes a draft again, with the comment as the reason. 409 as for approving.",
)
def reject_post(request: HttpRequest, slug: str, post_id: PostId, payload: DecideIn) -> Any:
    return _decide(request, slug, post_id, payload, approve=False)


@router.post(
    "/orgs/{slug}/posts/{post_id}/schedule",
    response={200: PostDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="schedule_post",
    summary="Set or clear the post's time",
)
@requires(
    Capability.PUBLISH,
    "An approved post keeps its approval (the time is not its content) and waits for its "
    "time. 409 for a post already out.",
)
def schedule_post(request: HttpRequest, slug: str, post_id: PostId, payload: ScheduleIn) -> Any:
    ctx = scope(request, slug)
    with _refused():
        services.schedule(ctx.actor, _post(ctx, post_id), payload.scheduled_at)
    return _post(ctx, post_id)


@router.post(
    "/orgs/{slug}/posts/{post_id}/publish-now",
    response={200: PostDetailOut, **CONFLICT, **ERRORS, **INVALID},
    operation_id="publish_post_now",
    summary="Publish an approved post now",
)
@requires(
    Capability.PUBLISH,
    "Its time becomes now and background jobs publish its variants (read the post again "
    "for each platform's answer); under a pause it is left unattempted. 409 for a post "
    "that is not approved.",
)
def publish_post_now(request: HttpRequest, slug: str, post_id: PostId) -> Any:
    ctx = scope(request, slug)
    with _refused():
        services.publish_now(ctx.actor, _post(ctx, post_id))
    return _post(ctx, post_id)


@router.post(
    "/orgs/{slug}/posts/{post_id}/suspend",
    response={200: PostDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="suspend_post",
    summary="Hold a post back",
)
@requires(
    Capability.PUBLISH,
    "It will not be published until a person puts it back. 409 for a post that is not "
    "waiting for approval or for its time.",
)
def suspend_post(request: HttpRequest, slug: str, post_id: PostId, payload: SuspendIn) -> Any:
    ctx = scope(request, slug)
    with _refused():
        services.suspend(ctx.actor, _post(ctx, post_id), payload.reason.strip())
    return _post(ctx, post_id)


@router.post(
    "/orgs/{slug}/pause",
    response={201: PauseOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="pause_publishing",
    summary="Stop publishing (the crisis switch)",
)
@requires(
    Capability.MANAGE,
    "The whole organization, one account (`account_id`) or the posts of a label. Answers "
    "once the pause is confirmed (`confirmed_at`): the posts already in a platform call "
    "had their answer (or `in_flight` says how many had not after a minute); from then on "
    "nothing more reaches a platform. Posts whose time comes meanwhile are left "
    "unattempted. 400 for an account or a label the organization does not have.",
)
def pause_publishing(request: HttpRequest, slug: str, payload: PauseIn) -> Any:
    ctx = scope(request, slug)
    source = label = None
    if payload.account_id is not None:
        source = ctx.scoped(Source).filter(pk=payload.account_id).first()
        if source is None:
            raise HttpError(400, _("This account is not one of the organization's."))
    if payload.label is not None:
        label = ctx.scoped(PostLabel).filter(name=payload.label).first()
        if label is None:
            raise HttpError(400, _("This label is not one of the organization's."))
    with _refused(400):
        paused = services.pause(
            ctx.actor, ctx.organization, payload.reason, source=source, label=label
        )
    return Status(201, paused)


@router.post(
    "/orgs/{slug}/pause/{pause_id}/resume",
    response={200: PauseOut, **CONFLICT, **ERRORS, **INVALID},
    operation_id="resume_publishing",
    summary="End a pause",
)
@requires(
    Capability.MANAGE,
    "Posts whose time passed during the pause stay unattempted until a person publishes or "
    "reschedules each (no burst). 409 for a pause already ended.",
)
def resume_publishing(request: HttpRequest, slug: str, pause_id: PauseId) -> Any:
    ctx = scope(request, slug)
    with _refused():
        return services.resume(ctx.actor, ctx.get(Pause, pk=pause_id))
