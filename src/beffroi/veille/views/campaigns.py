"""Campaigns: the list, a campaign's accounts, network, timeline and posts (CSV, GraphML),
and its review."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.charts import daily_chart, days_back, network_chart, network_edges
from beffroi.veille.models import Campaign
from beffroi.veille.views.shared import CHART_DAYS, items_csv, page_of, render_page, wants_csv


@org_view(Capability.READ_VEILLE)
def campaigns(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = request.org.scoped(Campaign)
    status = request.GET.get("status", "")
    if status in Campaign.Status.values:
        found = found.filter(status=status)
    if wants_csv(request):
        return stream_csv(
            ["id", "kind", "status", "accounts", "items", "first_at", "last_at", "shared"],
            (
                [
                    c.pk,
                    c.kind,
                    c.status,
                    c.account_count,
                    c.item_count,
                    c.first_at,
                    c.last_at,
                    c.shared,
                ]
                for c in found
            ),
            "campaigns",
            request=request,
        )
    return render_page(
        request,
        "campaigns.html",
        {
            "page_obj": page_of(request, found),
            "statuses": Campaign.Status.choices,
            "status": status,
        },
    )


@org_view(Capability.READ_VEILLE)
def campaign_detail(request: OrgRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    campaign = request.org.get(Campaign, pk=pk)
    items = campaign.items.select_related("author").order_by("created_at")
    fmt = request.GET.get("format")
    if fmt == "csv":
        return items_csv(request, items, f"campaign-{campaign.pk}")
    authors = list(campaign.authors.all())
    handles = {str(a.pk): a.handle for a in authors}
    edges = [
        [handles.get(str(e[0]), str(e[0])), handles.get(str(e[1]), str(e[1])), e[2]]
        for e in campaign.edges
        if len(e) >= 3
    ]
    if fmt == "graphml":
        return _graphml(campaign, [a.handle for a in authors], edges)
    per_account = Counter(items.values_list("author__handle", flat=True))
    return render_page(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "items": items,
            "accounts": per_account.most_common(),
            "network": network_chart(
                [a.handle for a in authors],
                edges,
                title=_("Accounts of the campaign"),
                description=_(
                    "%(count)s accounts; a line joins two accounts that acted together, "
                    "thicker when they did so more often."
                )
                % {"count": len(authors)},
            ),
            "chart": daily_chart(
                {
                    str(campaign.get_kind_display()): list(
                        items.values_list("created_at", flat=True)
                    )
                },
                days_back(CHART_DAYS),
                title=_("Posts of the campaign per day"),
                description=_("When the campaign's posts were published."),
                id_prefix="campaign-timeline",
                others_label="",
                value_label=_("items"),
            ),
            "statuses": Campaign.Status.choices,
        },
    )


def _graphml(campaign: Campaign, accounts: list[str], edges: list[list[Any]]) -> HttpResponse:
    """The campaign's accounts for Gephi: an edge per pair that acted together (weight = how
    often), or, for copies, per pair that posted the same text."""
    import networkx as nx

    graph = nx.Graph(name=f"campaign-{campaign.pk}")
    graph.add_nodes_from(accounts)
    # The same pairs as the picture on the page (network_edges), so both show one network.
    for a, b, weight in network_edges(accounts, edges):
        graph.add_edge(a, b, weight=weight, kind=campaign.kind)
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    response = HttpResponse(buffer.getvalue(), content_type="application/graphml+xml")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.graphml"'
    return response


@org_view(Capability.ANALYZE)
@require_POST
def campaign_status(request: OrgRequest, pk: int) -> HttpResponse:
    services.review_campaign(
        request.org.actor,
        request.org.get(Campaign, pk=pk),
        status=request.POST.get("status", ""),
        name=request.POST.get("name"),
    )
    return redirect("veille:campaign", org_slug=request.org.organization.slug, pk=pk)
