"""The veille in the JSON API: alerts, watches, narratives, claims, campaigns, impersonators.

A watch created here goes through the same service as the watch form
(``beffroi.veille.services``): the same checks, the token's person as its creator, the same
audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import ERRORS, INVALID, REFUSED, PageQuery
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.models import (
    Alert,
    Campaign,
    CheckedClaim,
    ClaimMatch,
    ImpersonationFlag,
    Narrative,
    Watch,
)

router = Router(tags=["veille"])


class AlertTriggerOut(Schema):
    id: int
    kind: str
    series: str
    title: str
    started_at: datetime
    ended_at: datetime | None
    observed: int
    expected: float


class AlertOut(Schema):
    id: int
    kind: str = Field(description="spike, campaign, impersonation, claim or resurgence.")
    series: str
    title: str
    started_at: datetime
    peak_at: datetime | None
    ended_at: datetime | None
    observed: int
    expected: float
    score: float = Field(description="-log10 of the spike's p-value; 0 for other kinds.")
    context: dict[str, Any] = Field(description="Item ids, accounts, narratives and claims.")
    acknowledged_at: datetime | None
    triggers: list[AlertTriggerOut] = Field(
        description="What raised the alert: itself and the findings about the same items, "
        "at the same time, that joined it (one alert per event)."
    )

    @staticmethod
    def resolve_triggers(alert: Alert) -> list[Alert]:
        return alert.triggers()


class AlertPage(Schema):
    items: list[AlertOut]
    count: int
    limit: int
    offset: int


class AlertQuery(PageQuery):
    kind: str | None = None
    open: bool | None = Field(None, description="Only alerts nobody acknowledged.")


class WatchIn(Schema):
    name: str = Field(max_length=120)
    query: str = Field(description="The watch's query (see docs/veille.md).")
    languages: list[str] = []
    accounts: list[str] = []
    platforms: list[str] = []
    sensitivity: float = Field(0.5, ge=0, le=1)
    alerts_enabled: bool = True
    listen: bool = Field(False, description="Follow the query's #hashtags on Mastodon.")


class WatchOut(WatchIn):
    id: int
    enabled: bool
    hits: int

    @staticmethod
    def resolve_hits(watch: Watch) -> int:
        return watch.hits.count()


class NarrativeOut(Schema):
    id: int
    name: str
    keywords: list[str]
    item_count: int
    first_seen: datetime | None
    last_seen: datetime | None
    representative_ids: list[int]


class NarrativePage(Schema):
    items: list[NarrativeOut]
    count: int
    limit: int
    offset: int


class ClaimOut(Schema):
    id: int
    statement: str
    verdict: str
    url: str
    source: str
    language: str
    title: str
    origin: str


class ClaimPage(Schema):
    items: list[ClaimOut]
    count: int
    limit: int
    offset: int


class ClaimMatchOut(Schema):
    id: int
    item_id: int
    claim_id: int
    similarity: float
    evidence: str = Field(
        description="Why the item was matched: text (its words and meaning), watch (a hit "
        "of a watch that follows the claim), narrative (its narrative repeats the claim), "
        "thread (it answers or quotes an item that repeats it)."
    )
    created_at: datetime


class ClaimMatchPage(Schema):
    items: list[ClaimMatchOut]
    count: int
    limit: int
    offset: int


class CampaignOut(Schema):
    id: int
    kind: str
    name: str
    status: str
    shared: str
    first_at: datetime
    last_at: datetime
    account_count: int
    item_count: int
    item_ids: list[int]
    accounts: list[str]

    @staticmethod
    def resolve_item_ids(campaign: Campaign) -> list[int]:
        return list(campaign.items.values_list("pk", flat=True))

    @staticmethod
    def resolve_accounts(campaign: Campaign) -> list[str]:
        return list(campaign.authors.values_list("handle", flat=True))


class CampaignPage(Schema):
    items: list[CampaignOut]
    count: int
    limit: int
    offset: int


class ImpersonatorOut(Schema):
    id: int
    identity: str
    platform: str
    handle: str
    display_name: str
    score: float
    evidence: list[str]
    status: str

    @staticmethod
    def resolve_identity(flag: ImpersonationFlag) -> str:
        return flag.identity.name

    @staticmethod
    def resolve_platform(flag: ImpersonationFlag) -> str:
        return flag.author.platform

    @staticmethod
    def resolve_handle(flag: ImpersonationFlag) -> str:
        return flag.author.handle

    @staticmethod
    def resolve_display_name(flag: ImpersonationFlag) -> str:
        return flag.author.display_name


class ImpersonatorPage(Schema):
    items: list[ImpersonatorOut]
    count: int
    limit: int
    offset: int


@router.get(
    "/orgs/{slug}/alerts",
    response={200: AlertPage, **ERRORS, **INVALID},
    operation_id="list_alerts",
    summary="Veille alerts, newest first",
)
@requires(Capability.VIEW)
def list_alerts(request: HttpRequest, slug: str, filters: Query[AlertQuery]) -> Any:
    # A finding grouped into another alert is listed among that alert's triggers.
    alerts = scope(request, slug).scoped(Alert).filter(grouped_into=None)
    alerts = alerts.prefetch_related("joined")
    if filters.kind:
        alerts = alerts.filter(Q(kind=filters.kind) | Q(joined__kind=filters.kind)).distinct()
    if filters.open:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return offset_page(alerts.order_by("-started_at", "-id"), filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/watches",
    response={200: list[WatchOut], **ERRORS},
    operation_id="list_watches",
    summary="The organization's watches",
)
@requires(Capability.ANALYZE)
def list_watches(request: HttpRequest, slug: str) -> Any:
    return list(scope(request, slug).scoped(Watch))


@router.post(
    "/orgs/{slug}/watches",
    response={201: WatchOut, **ERRORS, **INVALID, **REFUSED},
    operation_id="create_watch",
    summary="Create a watch; it looks at every item at once",
)
@requires(Capability.ANALYZE)
def create_watch(request: HttpRequest, slug: str, payload: WatchIn) -> Any:
    ctx = scope(request, slug)
    data = payload.dict()
    for field in ("languages", "accounts", "platforms"):
        data[f"{field}_text"] = " ".join(data.pop(field))
    form = services.watch_form(ctx.organization, ctx.actor, {**data, "enabled": True})
    watch = services.save_watch(ctx.actor, form)
    if watch is None:
        raise ValidationError(
            {name: [str(message) for message in errors] for name, errors in form.errors.items()}
        )
    return Status(201, watch)


@router.get(
    "/orgs/{slug}/narratives",
    response={200: NarrativePage, **ERRORS, **INVALID},
    operation_id="list_narratives",
    summary="Active narratives, most recently seen first",
)
@requires(Capability.READ_VEILLE)
def list_narratives(request: HttpRequest, slug: str, filters: Query[PageQuery]) -> Any:
    found = scope(request, slug).scoped(Narrative).filter(status=Narrative.Status.ACTIVE)
    return offset_page(found.order_by("-last_seen", "-id"), filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/claims",
    response={200: ClaimPage, **ERRORS, **INVALID},
    operation_id="list_claims",
    summary="The fact-check library",
)
@requires(Capability.READ_VEILLE)
def list_claims(request: HttpRequest, slug: str, filters: Query[PageQuery]) -> Any:
    found = scope(request, slug).scoped(CheckedClaim).order_by("-created_at", "-id")
    return offset_page(found, filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/claim-matches",
    response={200: ClaimMatchPage, **ERRORS, **INVALID},
    operation_id="list_claim_matches",
    summary="Items that repeat a checked claim",
)
@requires(Capability.READ_VEILLE)
def list_claim_matches(request: HttpRequest, slug: str, filters: Query[PageQuery]) -> Any:
    found = scope(request, slug).scoped(ClaimMatch).order_by("-created_at", "-id")
    return offset_page(found, filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/campaigns",
    response={200: CampaignPage, **ERRORS, **INVALID},
    operation_id="list_campaigns",
    summary="Coordinated campaigns, latest first",
)
@requires(Capability.READ_VEILLE)
def list_campaigns(request: HttpRequest, slug: str, filters: Query[PageQuery]) -> Any:
    found = scope(request, slug).scoped(Campaign).order_by("-last_at", "-id")
    return offset_page(found, filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/impersonators",
    response={200: ImpersonatorPage, **ERRORS, **INVALID},
    operation_id="list_impersonators",
    summary="Accounts imitating a protected identity",
)
@requires(Capability.READ_VEILLE)
def list_impersonators(request: HttpRequest, slug: str, filters: Query[PageQuery]) -> Any:
    found = scope(request, slug).scoped(ImpersonationFlag).select_related("identity", "author")
    return offset_page(found.order_by("-score", "-id"), filters.limit, filters.offset)
