"""Narratives: the list, a narrative's items and timeline, and the analysts' rename, merge
and split."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.core.forms import set_choices
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.charts import daily_chart, days_back
from beffroi.veille.forms import NarrativeMergeForm, NarrativeNameForm, NarrativeSplitForm
from beffroi.veille.models import Narrative
from beffroi.veille.narratives import growth_of
from beffroi.veille.views.shared import (
    CHART_DAYS,
    items_csv,
    page_of,
    render_page,
    wants_csv,
)

ACTIVE = Narrative.Status.ACTIVE


@org_view(Capability.READ_VEILLE)
def narratives(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = request.org.scoped(Narrative).filter(status=ACTIVE)
    if wants_csv(request):
        return stream_csv(
            ["id", "name", "keywords", "items", "first_seen", "last_seen"],
            ([n.pk, n.name, n.keywords, n.item_count, n.first_seen, n.last_seen] for n in found),
            "narratives",
            request=request,
        )
    return render_page(
        request,
        "narratives.html",
        {"page_obj": page_of(request, found), "growth": growth_of(found)},
    )


@org_view(Capability.READ_VEILLE)
def narrative_detail(request: OrgRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    org = request.org
    narrative = org.get(Narrative, pk=pk)
    if narrative.status == Narrative.Status.MERGED and narrative.merged_into_id:
        return redirect(
            "veille:narrative", org_slug=org.organization.slug, pk=narrative.merged_into_id
        )
    items = (
        Item.objects.filter(narrative_link__narrative=narrative)
        .select_related("author")
        .order_by("created_at")
    )
    if wants_csv(request):
        return items_csv(request, items.iterator(chunk_size=1000), f"narrative-{narrative.pk}")
    representative = (
        org.scoped(Item).filter(pk__in=narrative.representative_ids).select_related("author")
    )
    chart = daily_chart(
        {narrative.label: list(items.values_list("created_at", flat=True))},
        days_back(CHART_DAYS),
        title=_("Items per day of this narrative"),
        description=_("How the narrative rose and fell over the last %(days)s days.")
        % {"days": CHART_DAYS},
        id_prefix="narrative-timeline",
        others_label="",
        value_label=_("items"),
    )
    others = org.scoped(Narrative).filter(status=ACTIVE).exclude(pk=narrative.pk)
    merge_form = NarrativeMergeForm()
    merge_form.fields["into"].widget.choices = [(n.pk, n.label) for n in others[:200]]
    split_form = NarrativeSplitForm()
    set_choices(split_form, "items", [(i.pk, i.text[:120]) for i in items[:200]])
    return render_page(
        request,
        "narrative.html",
        {
            "narrative": narrative,
            "representative": representative,
            "chart": chart,
            "items": items[:200],
            "name_form": NarrativeNameForm(initial={"name": narrative.name}),
            "merge_form": merge_form,
            "split_form": split_form,
            "languages": Counter(items.values_list("language", flat=True)).most_common(),
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def narrative_rename(request: OrgRequest, pk: int) -> HttpResponse:
    narrative = request.org.get(Narrative, pk=pk)
    form = NarrativeNameForm(request.POST)
    if form.is_valid():
        services.rename_narrative(request.org.actor, narrative, form.cleaned_data["name"])
        messages.success(request, _("The narrative is renamed."))
    return redirect("veille:narrative", org_slug=request.org.organization.slug, pk=pk)


@org_view(Capability.ANALYZE)
@require_POST
def narrative_merge(request: OrgRequest, pk: int) -> HttpResponse:
    org = request.org
    narrative = org.get(Narrative, pk=pk, status=ACTIVE)
    form = NarrativeMergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the narrative to merge into."))
        return redirect("veille:narrative", org_slug=org.organization.slug, pk=pk)
    # One of the narratives the page offers: another active one of the organization.
    offered = Narrative.objects.filter(status=ACTIVE).exclude(pk=narrative.pk)
    target = org.get(offered, pk=form.cleaned_data["into"])
    services.merge_narratives(org.actor, narrative, target)
    messages.success(request, _("The narratives are merged."))
    return redirect("veille:narrative", org_slug=org.organization.slug, pk=target.pk)


@org_view(Capability.ANALYZE)
@require_POST
def narrative_split(request: OrgRequest, pk: int) -> HttpResponse:
    org = request.org
    narrative = org.get(Narrative, pk=pk, status=ACTIVE)
    form = NarrativeSplitForm(request.POST)
    set_choices(
        form, "items", [(i, i) for i in narrative.members.values_list("item_id", flat=True)]
    )
    if not form.is_valid():
        messages.error(request, _("Tick the items that make the new narrative."))
        return redirect("veille:narrative", org_slug=org.organization.slug, pk=pk)
    try:
        created = services.split_narrative(
            org.actor, narrative, form.cleaned_data["items"], form.cleaned_data["name"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("veille:narrative", org_slug=org.organization.slug, pk=pk)
    messages.success(request, _("A new narrative is made of the ticked items."))
    return redirect("veille:narrative", org_slug=org.organization.slug, pk=created.pk)
