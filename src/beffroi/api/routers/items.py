"""Items (newest first, filtered, paginated) and their authors."""

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import keyset_page
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    AuthorId,
    AuthorOut,
    ItemDetailOut,
    ItemId,
    ItemPage,
    ItemQuery,
)
from beffroi.items.filtersets import search_items
from beffroi.items.models import Author, Item
from beffroi.organizations.roles import Capability

router = Router(tags=["items"])


@router.get(
    "/orgs/{slug}/items",
    response={200: ItemPage, **ERRORS, **INVALID},
    operation_id="list_items",
    summary="Items, newest first",
)
@requires(
    Capability.VIEW,
    "Filters combine. Page with `limit`/`offset`, or follow `next_cursor`, which stays "
    "stable while new items arrive. Dates without a time zone are in the server's.",
)
def list_items(request: HttpRequest, slug: str, filters: Query[ItemQuery]) -> dict[str, object]:
    ctx = scope(request, slug)
    items: QuerySet[Item] = ctx.scoped(Item).select_related("author")
    if filters.source is not None:
        items = items.filter(source_id=filters.source)
    if filters.kind is not None:
        items = items.filter(kind=filters.kind)
    if filters.language:
        items = items.filter(language=filters.language)
    if filters.state is not None:
        items = items.filter(state=filters.state)
    if filters.q:
        items = search_items(items, filters.q)
    if filters.since is not None:
        items = items.filter(created_at__gte=filters.since)
    if filters.until is not None:
        items = items.filter(created_at__lt=filters.until)
    return keyset_page(items, filters.limit, filters.offset, filters.cursor)


@router.get(
    "/orgs/{slug}/items/{item_id}",
    response={200: ItemDetailOut, **ERRORS, **INVALID},
    operation_id="get_item",
    summary="One item with its raw platform payload",
)
@requires(Capability.VIEW)
def get_item(request: HttpRequest, slug: str, item_id: ItemId) -> Item:
    ctx = scope(request, slug)
    return ctx.get(Item.objects.select_related("author"), pk=item_id)


@router.get(
    "/orgs/{slug}/authors/{author_id}",
    response={200: AuthorOut, **ERRORS, **INVALID},
    operation_id="get_author",
    summary="One author (a platform account)",
)
@requires(Capability.VIEW)
def get_author(request: HttpRequest, slug: str, author_id: AuthorId) -> Author:
    ctx = scope(request, slug)
    return ctx.get(Author.objects.annotate(item_count=Count("items")), pk=author_id)
