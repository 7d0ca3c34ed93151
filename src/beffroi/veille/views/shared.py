"""What the veille pages share: their tabs and rights, pages of a list, CSV of items, the
title and way back of a form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50
CHART_DAYS = 30


def page_of(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def render_page(request: OrgRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A veille page, under its menu, knowing whether the reader may read the findings and
    whether they may work on them (analyze)."""
    org = request.org
    return render(
        request,
        f"veille/{template}",
        {
            "nav": "veille",
            "can_read_veille": org.can(Capability.READ_VEILLE),
            "can_analyze": org.can(Capability.ANALYZE),
            **context,
        },
    )


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def items_csv(request: HttpRequest, items: Iterable[Item], filename: str) -> StreamingHttpResponse:
    return stream_csv(
        ["created_at", "platform", "author", "language", "text", "url", "item_id"],
        (
            [i.created_at, i.platform, i.author.handle, i.language, i.text, i.url, i.pk]
            for i in items
        ),
        filename,
        request=request,
    )


def form_page(request: OrgRequest, obj: Any, noun: str, back: str, tab: str) -> dict[str, Any]:
    """The title of a form (new or edit), the list it goes back to and its tab."""
    title = (
        _("Edit: %(name)s") % {"name": obj}
        if obj is not None and obj.pk
        else _("New: %(what)s") % {"what": noun}
    )
    return {
        "form_title": title,
        "cancel_url": reverse(back, kwargs={"org_slug": request.org.organization.slug}),
        "tab": tab,
    }
