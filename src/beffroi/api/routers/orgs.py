"""The caller's organizations and their statistics."""

from django.http import HttpRequest
from ninja import Router

from beffroi.api.auth import requires, scope, user_of
from beffroi.api.schemas import ERRORS, ErrorOut, OrganizationOut, StatsOut, capabilities_of
from beffroi.organizations.models import Membership
from beffroi.organizations.roles import Capability
from beffroi.overview.stats import organization_stats

router = Router(tags=["organizations"])


def _organization_out(membership: Membership) -> dict[str, object]:
    org = membership.organization
    return {
        "slug": org.slug,
        "name": org.name,
        "kind": org.kind,
        "language": org.language,
        "created_at": org.created_at,
        "role": membership.role,
        "capabilities": capabilities_of(membership.role),
    }


@router.get(
    "/orgs",
    response={200: list[OrganizationOut], 401: ErrorOut},
    operation_id="list_organizations",
    summary="The organizations the token's user belongs to",
)
@requires(None)
def list_organizations(request: HttpRequest) -> list[dict[str, object]]:
    memberships = Membership.objects.filter(user=user_of(request)).select_related("organization")
    return [_organization_out(m) for m in memberships.order_by("organization__name")]


@router.get(
    "/orgs/{slug}",
    response={200: OrganizationOut, **ERRORS},
    operation_id="get_organization",
    summary="One organization, with the caller's role",
)
@requires(Capability.VIEW)
def get_organization(request: HttpRequest, slug: str) -> dict[str, object]:
    ctx = scope(request, slug)
    assert ctx.membership is not None  # the API's callers are always members
    return _organization_out(ctx.membership)


@router.get(
    "/orgs/{slug}/stats",
    response={200: StatsOut, **ERRORS},
    operation_id="get_organization_stats",
    summary="Counts of items, sources, authors, decisions and cases",
)
@requires(Capability.VIEW)
def get_stats(request: HttpRequest, slug: str) -> dict[str, object]:
    ctx = scope(request, slug)
    return organization_stats(ctx.organization)
