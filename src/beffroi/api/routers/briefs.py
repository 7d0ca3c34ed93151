"""Response briefs in the JSON API: the briefs the organization sent (prepared, sent to its
partners, closed, with who answered what, when), those in its desk (and the answers it
declares), and the signed files exchanged with partners of another Beffroi.

Every change goes through the briefs' services (``beffroi.briefs.services``), as from the
pages: the same rules, the token's person as the actor, the same audit events. A brief is
found among the organization's own; another organization's brief is read only through its
delivery to the organization (``/briefs/received/{delivery_id}``), else 404.

Refusals:

- 400: what was sent cannot be used (a title missing, an item or an entry that is not the
  organization's, a partner that did not accept our briefs, a file that is not trusted:
  changed, signed with another secret, by someone else, expired, malformed);
- 409: where the brief stands does not allow the action (a closed brief, an answer already
  counted);
- 422: a body or a query that does not match its description.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictBool

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    MAX_ID,
    REFUSED,
    ErrorOut,
    PageQuery,
    RequestBody,
    _enum,
)
from beffroi.briefs import services
from beffroi.briefs.models import Brief, BriefDelivery, BriefPost, BriefResponse, ExternalPartner
from beffroi.briefs.signing import MAX_BYTES
from beffroi.counterspeech.models import Entry
from beffroi.items.models import Item
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability
from beffroi.veille.models import Campaign, Narrative

router = Router(tags=["briefs"])

BriefState = _enum("BriefState", Brief.State)
DeliveryState = _enum("BriefDeliveryState", BriefDelivery.State)
ResponseHow = _enum("BriefResponseHow", BriefResponse.How)

#: Where the brief stands does not allow the action.
CONFLICT: dict[int, type[Schema]] = {409: ErrorOut}

BriefId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A brief's id (the organization's own).")
]
DeliveryId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A brief in the organization's desk (its delivery).")
]
RelatedId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


# --- answers ---------------------------------------------------------------------------------


class BriefPostOut(Schema):
    id: int
    key: str = Field(description="The post's identity across instances.")
    platform: str
    platform_id: str
    url: str
    author_handle: str
    excerpt: str


class BriefEntryOut(Schema):
    key: str
    title: str
    strategy: str
    texts: dict[str, str] = Field(description="The text in each language (ISO 639-1).")


class BriefResponseOut(Schema):
    id: int
    post: int = Field(description="The id of the brief's post answered.")
    partner: str = Field(description="The partner organization that answered.")
    how: ResponseHow  # type: ignore[valid-type]
    url: str
    platform_id: str
    answered_by: str
    answered_at: datetime

    @staticmethod
    def resolve_post(response: BriefResponse) -> int:
        return response.post_id

    @staticmethod
    def resolve_partner(response: BriefResponse) -> str:
        return response.delivery.partner_name


class BriefDeliveryOut(Schema):
    id: int
    partner: str
    partner_slug: str | None = Field(
        description="The partner organization in this Beffroi; null: in another Beffroi."
    )
    state: DeliveryState  # type: ignore[valid-type]
    delivered_at: datetime
    answers: int

    @staticmethod
    def resolve_partner(delivery: BriefDelivery) -> str:
        return delivery.partner_name

    @staticmethod
    def resolve_partner_slug(delivery: BriefDelivery) -> str | None:
        return delivery.organization.slug if delivery.organization is not None else None

    @staticmethod
    def resolve_answers(delivery: BriefDelivery) -> int:
        return delivery.responses.count()


class BriefOut(Schema):
    id: int
    key: str = Field(description="The brief's identity across instances.")
    title: str
    summary: str
    subject: str = Field(description="What it is about (the narrative, the campaign), in words.")
    narrative: int | None
    campaign: int | None
    dos: list[str]
    donts: list[str]
    valid_until: date | None
    state: BriefState  # type: ignore[valid-type]
    created_at: datetime
    sent_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_narrative(brief: Brief) -> int | None:
        return brief.narrative_id

    @staticmethod
    def resolve_campaign(brief: Brief) -> int | None:
        return brief.campaign_id


class BriefDetailOut(BriefOut):
    posts: list[BriefPostOut]
    entries: list[BriefEntryOut]
    deliveries: list[BriefDeliveryOut]
    responses: list[BriefResponseOut] = Field(description="Every answer counted, oldest first.")

    @staticmethod
    def resolve_posts(brief: Brief) -> list[Any]:
        return list(brief.posts.all())

    @staticmethod
    def resolve_entries(brief: Brief) -> list[Any]:
        return list(brief.entries.all())

    @staticmethod
    def resolve_deliveries(brief: Brief) -> list[Any]:
        return list(brief.deliveries.select_related("organization").order_by("delivered_at", "id"))

    @staticmethod
    def resolve_responses(brief: Brief) -> list[Any]:
        return list(services.responses_of(brief))


class BriefPage(Schema):
    items: list[BriefOut]
    count: int
    limit: int
    offset: int


class ReceivedOut(Schema):
    id: int = Field(description="The delivery's id: the brief in the organization's desk.")
    brief_key: str
    title: str
    sender: str
    subject: str
    brief_state: BriefState  # type: ignore[valid-type]
    state: DeliveryState  # type: ignore[valid-type]
    valid_until: date | None
    delivered_at: datetime

    @staticmethod
    def resolve_brief_key(delivery: BriefDelivery) -> str:
        return delivery.brief.key

    @staticmethod
    def resolve_title(delivery: BriefDelivery) -> str:
        return delivery.brief.title

    @staticmethod
    def resolve_sender(delivery: BriefDelivery) -> str:
        return delivery.brief.sender_label

    @staticmethod
    def resolve_subject(delivery: BriefDelivery) -> str:
        return delivery.brief.subject

    @staticmethod
    def resolve_brief_state(delivery: BriefDelivery) -> str:
        return delivery.brief.state

    @staticmethod
    def resolve_valid_until(delivery: BriefDelivery) -> date | None:
        return delivery.brief.valid_until


class ReceivedPostOut(BriefPostOut):
    item: int | None = Field(
        description="The organization's own item that is this post (where to answer it)."
    )


class ReceivedDetailOut(ReceivedOut):
    summary: str
    dos: list[str]
    donts: list[str]
    posts: list[ReceivedPostOut]
    entries: list[BriefEntryOut]
    responses: list[BriefResponseOut] = Field(description="The organization's answers counted.")

    @staticmethod
    def resolve_summary(delivery: BriefDelivery) -> str:
        return delivery.brief.summary

    @staticmethod
    def resolve_dos(delivery: BriefDelivery) -> list[str]:
        return list(delivery.brief.dos)

    @staticmethod
    def resolve_donts(delivery: BriefDelivery) -> list[str]:
        return list(delivery.brief.donts)

    @staticmethod
    def resolve_posts(delivery: BriefDelivery) -> list[dict[str, Any]]:
        posts = list(delivery.brief.posts.all())
        items = services.matching_items(delivery.organization_id or 0, posts)
        return [
            {
                "id": post.pk,
                "key": post.key,
                "platform": post.platform,
                "platform_id": post.platform_id,
                "url": post.url,
                "author_handle": post.author_handle,
                "excerpt": post.excerpt,
                "item": items[post.pk].pk if post.pk in items else None,
            }
            for post in posts
        ]

    @staticmethod
    def resolve_entries(delivery: BriefDelivery) -> list[Any]:
        return list(delivery.brief.entries.all())

    @staticmethod
    def resolve_responses(delivery: BriefDelivery) -> list[Any]:
        return list(
            delivery.responses.select_related("delivery__organization").order_by(
                "answered_at", "id"
            )
        )


class ReceivedPage(Schema):
    items: list[ReceivedOut]
    count: int
    limit: int
    offset: int


class SignedFileOut(Schema):
    content: str = Field(description="The signed JSON file, as the other Beffroi imports it.")


class ResponsesImportOut(Schema):
    brief: int = Field(description="The id of the brief the report answers.")
    added: int
    updated: int = Field(description="Answers already known (imported before).")
    left_out: int = Field(description="Answers to posts no longer in the brief.")


# --- bodies ----------------------------------------------------------------------------------


class BriefPostIn(RequestBody):
    item: RelatedId | None = Field(None, description="One of the organization's items.")
    url: str = Field("", max_length=1000, description="Else the post's address.")


class BriefIn(RequestBody):
    title: str = Field(max_length=200)
    summary: str = Field("", max_length=10000)
    narrative: RelatedId | None = Field(None, description="One of the organization's narratives.")
    campaign: RelatedId | None = Field(None, description="One of the organization's campaigns.")
    dos: list[Annotated[str, Field(max_length=500)]] = Field([], max_length=30)
    donts: list[Annotated[str, Field(max_length=500)]] = Field([], max_length=30)
    valid_until: date | None = None
    posts: list[BriefPostIn] = Field([], max_length=100)
    subject_posts: StrictBool = Field(
        False, description="Add the latest posts of the narrative or the campaign."
    )
    entries: list[RelatedId] = Field(
        [], max_length=20, description="Ids of approved counter-speech entries it reads."
    )


class BriefSendIn(RequestBody):
    partners: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1,
        max_length=500,
        description="The addresses (slugs) of organizations that accepted our briefs.",
    )


class BriefExportIn(RequestBody):
    link: RelatedId = Field(description="The organization's link with the partner (its id).")


class BriefResponseIn(RequestBody):
    post: RelatedId = Field(description="The id of the brief's post answered.")
    url: str = Field(max_length=1000, description="The address of the answer.")
    answered_at: datetime | None = Field(None, description="When (now by default).")


class SignedFileIn(RequestBody):
    content: str = Field(max_length=MAX_BYTES, description="The signed JSON file.")


# --- reading ---------------------------------------------------------------------------------


def _briefs(ctx: OrgContext) -> QuerySet[Brief]:
    return services.sent_briefs(ctx.organization).order_by("-created_at", "-id")


def _brief(ctx: OrgContext, brief_id: int) -> Brief:
    return ctx.get(services.sent_briefs(ctx.organization), pk=brief_id)


def _delivery(ctx: OrgContext, delivery_id: int) -> BriefDelivery:
    return ctx.get(
        BriefDelivery.objects.select_related("brief", "brief__organization", "organization"),
        pk=delivery_id,
    )


@router.get(
    "/orgs/{slug}/briefs",
    response={200: BriefPage, **ERRORS, **INVALID},
    operation_id="list_briefs",
    summary="The briefs the organization prepared and sent, newest first",
)
@requires(Capability.VIEW)
def list_briefs(request: HttpRequest, slug: str, page: Query[PageQuery]) -> Any:
    ctx = scope(request, slug)
    return offset_page(_briefs(ctx), page.limit, page.offset)


@router.get(
    "/orgs/{slug}/briefs/received",
    response={200: ReceivedPage, **ERRORS, **INVALID},
    operation_id="list_received_briefs",
    summary="The briefs in the organization's desk (from its partners), newest first",
)
@requires(Capability.VIEW)
def list_received(request: HttpRequest, slug: str, page: Query[PageQuery]) -> Any:
    ctx = scope(request, slug)
    found = services.received(ctx.organization).order_by("-delivered_at", "-id")
    return offset_page(found, page.limit, page.offset)


@router.get(
    "/orgs/{slug}/briefs/received/{delivery_id}",
    response={200: ReceivedDetailOut, **ERRORS, **INVALID},
    operation_id="get_received_brief",
    summary="A brief in the organization's desk: what to answer, and its answers counted",
)
@requires(Capability.VIEW)
def get_received(request: HttpRequest, slug: str, delivery_id: DeliveryId) -> Any:
    ctx = scope(request, slug)
    return _delivery(ctx, delivery_id)


# --- writing ---------------------------------------------------------------------------------


@contextmanager
def _refused() -> Iterator[None]:
    """The services refused: 400 for what was sent, 409 for where the brief stands."""
    try:
        yield
    except services.BriefError as exc:
        if exc.code in ("state", "duplicate", "answered"):
            raise HttpError(409, str(exc)) from exc
        raise DjangoValidationError(str(exc)) from exc


def _one(ctx: OrgContext, model: Any, pk: int | None, field: str, message: str) -> Any:
    if pk is None:
        return None
    found = ctx.scoped(model).filter(pk=pk).first()
    if found is None:
        raise DjangoValidationError({field: [message]})
    return found


def _data(ctx: OrgContext, payload: BriefIn) -> services.BriefData:
    numbers = [post.item for post in payload.posts if post.item is not None]
    items = ctx.scoped(Item).select_related("author").in_bulk(numbers)
    if len(items) != len(set(numbers)):
        raise DjangoValidationError({"posts": [_("This item is not one of the organization's.")]})
    entries = Entry.objects.filter(pk__in=payload.entries).in_bulk()
    if len(entries) != len(set(payload.entries)):
        raise DjangoValidationError(
            {"entries": [_("Only approved entries the organization reads are suggested.")]}
        )
    return services.BriefData(
        title=payload.title,
        summary=payload.summary,
        narrative=_one(
            ctx,
            Narrative,
            payload.narrative,
            "narrative",
            _("This narrative is not one of the organization's."),
        ),
        campaign=_one(
            ctx,
            Campaign,
            payload.campaign,
            "campaign",
            _("This campaign is not one of the organization's."),
        ),
        dos=list(payload.dos),
        donts=list(payload.donts),
        valid_until=payload.valid_until,
        posts=[
            services.PostData.of_item(items[post.item])
            if post.item is not None
            else services.PostData(url=post.url.strip())
            for post in payload.posts
        ],
        entries=[entries[pk] for pk in dict.fromkeys(payload.entries)],
        subject_posts=payload.subject_posts,
    )


@router.post(
    "/orgs/{slug}/briefs",
    response={201: BriefDetailOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="create_brief",
    summary="Prepare a brief (a draft, sent to no one yet)",
)
@requires(Capability.APPROVE, "400 for a missing title, or what is not the organization's.")
def create_brief(request: HttpRequest, slug: str, payload: BriefIn) -> Any:
    ctx = scope(request, slug)
    data = _data(ctx, payload)
    with _refused():
        brief = services.create_brief(ctx, data)
    return Status(201, _brief(ctx, brief.pk))


@router.post(
    "/orgs/{slug}/briefs/{brief_id}/send",
    response={200: BriefDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="send_brief",
    summary="Deliver a brief to partner organizations of this Beffroi",
)
@requires(
    Capability.APPROVE,
    "400 for an organization that did not accept our briefs; 409 for a closed brief.",
)
def send_brief(request: HttpRequest, slug: str, brief_id: BriefId, payload: BriefSendIn) -> Any:
    ctx = scope(request, slug)
    brief = _brief(ctx, brief_id)
    wanted = list(dict.fromkeys(partner.strip().lower() for partner in payload.partners))
    partners = list(services.accepted_partners(ctx.organization).filter(slug__in=wanted))
    if len(partners) != len(wanted):
        raise DjangoValidationError(
            {
                "partners": [
                    _("A brief is sent only to organizations that accepted to receive our briefs.")
                ]
            }
        )
    with _refused():
        services.send_brief(ctx, brief, partners)
    return _brief(ctx, brief.pk)


@router.post(
    "/orgs/{slug}/briefs/{brief_id}/close",
    response={200: BriefDetailOut, **CONFLICT, **ERRORS, **INVALID},
    operation_id="close_brief",
    summary="Close a brief: its answers are no longer counted",
)
@requires(Capability.APPROVE, "409 for a brief already closed.")
def close_brief(request: HttpRequest, slug: str, brief_id: BriefId) -> Any:
    ctx = scope(request, slug)
    brief = _brief(ctx, brief_id)
    with _refused():
        services.close_brief(ctx, brief)
    return _brief(ctx, brief.pk)


@router.post(
    "/orgs/{slug}/briefs/{brief_id}/export",
    response={200: SignedFileOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="export_brief",
    summary="The brief as a file signed for a partner of another Beffroi",
)
@requires(Capability.APPROVE, "Sends it: the partner is among the brief's deliveries.")
def export_brief(request: HttpRequest, slug: str, brief_id: BriefId, payload: BriefExportIn) -> Any:
    ctx = scope(request, slug)
    brief = _brief(ctx, brief_id)
    link = _one(
        ctx, ExternalPartner, payload.link, "link", _("This link is not one of the organization's.")
    )
    with _refused():
        content = services.export_brief(ctx, brief, link)
    return {"content": content}


@router.post(
    "/orgs/{slug}/briefs/responses/import",
    response={200: ResponsesImportOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="import_brief_responses",
    summary="Import a partner's signed report of its answers to one of our briefs",
)
@requires(
    Capability.APPROVE,
    "400 for a file that is not trusted, or that answers a brief not sent to that partner. "
    "Imported again, it counts nothing twice.",
)
def import_responses(request: HttpRequest, slug: str, payload: SignedFileIn) -> Any:
    ctx = scope(request, slug)
    with _refused():
        done = services.import_responses(ctx, payload.content.encode("utf-8", "replace"))
    return {
        "brief": done.delivery.brief_id,
        "added": done.added,
        "updated": done.updated,
        "left_out": done.left_out,
    }


@router.post(
    "/orgs/{slug}/briefs/import",
    response={200: ReceivedDetailOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="import_brief",
    summary="Import a brief a partner of another Beffroi signed for the organization",
)
@requires(
    Capability.ANSWER,
    "400 for a file that is not trusted. Imported again, the brief is updated, not copied.",
)
def import_brief(request: HttpRequest, slug: str, payload: SignedFileIn) -> Any:
    ctx = scope(request, slug)
    with _refused():
        delivery = services.import_brief(ctx, payload.content.encode("utf-8", "replace"))
    return _delivery(ctx, delivery.pk)


@router.post(
    "/orgs/{slug}/briefs/received/{delivery_id}/responses",
    response={201: BriefResponseOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="declare_brief_response",
    summary="Declare an answer made outside Beffroi to a post of a brief in the desk",
)
@requires(Capability.ANSWER, "409 for an answer already counted, or a closed brief.")
def declare_response(
    request: HttpRequest, slug: str, delivery_id: DeliveryId, payload: BriefResponseIn
) -> Any:
    ctx = scope(request, slug)
    delivery = _delivery(ctx, delivery_id)
    post = BriefPost.objects.filter(brief_id=delivery.brief_id, pk=payload.post).first()
    if post is None:
        raise DjangoValidationError({"post": [_("This post is not one of the brief's.")]})
    with _refused():
        response = services.declare_response(
            ctx, delivery, post, payload.url, answered_at=payload.answered_at
        )
    return Status(201, response)


@router.post(
    "/orgs/{slug}/briefs/received/{delivery_id}/export",
    response={200: SignedFileOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="export_brief_responses",
    summary="The signed report of the organization's answers, for the brief's sender",
)
@requires(Capability.ANSWER, "400 for a brief of a partner of this Beffroi (it reads our answers).")
def export_responses(request: HttpRequest, slug: str, delivery_id: DeliveryId) -> Any:
    ctx = scope(request, slug)
    delivery = _delivery(ctx, delivery_id)
    with _refused():
        content = services.export_responses(ctx, delivery)
    return {"content": content}


# Last: its address would take the others' words (import, received) for an id.
@router.get(
    "/orgs/{slug}/briefs/{brief_id}",
    response={200: BriefDetailOut, **ERRORS, **INVALID},
    operation_id="get_brief",
    summary="One of the organization's briefs, with who answered what, when",
)
@requires(Capability.VIEW)
def get_brief(request: HttpRequest, slug: str, brief_id: BriefId) -> Any:
    ctx = scope(request, slug)
    return _brief(ctx, brief_id)
