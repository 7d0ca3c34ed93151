"""The sender's pages: the list of briefs (sent and received), the form that prepares one,
a brief's page (its posts, suggested entries and partners; who answered what, when, with
which link, as a table and a CSV file) and its actions: send, close, export signed for a
partner of another Beffroi, import that partner's report.

Each view parses, calls one service and renders: the rules live in ``briefs.services``. A
brief is found among the organization's own (another organization's is 404): a partner
reads one through its delivery (``views/received.py``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.briefs import services
from beffroi.briefs.forms import FileForm, LinkChoiceForm, SendForm, brief_initial, scoped_form
from beffroi.briefs.models import Brief, BriefDelivery, ExternalPartner
from beffroi.briefs.outcomes import brief_outcomes, caveat
from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50


def _detail(request: OrgRequest, brief: Brief) -> HttpResponse:
    return redirect("briefs:detail", org_slug=request.org.organization.slug, pk=brief.pk)


def _own_brief(request: OrgRequest, pk: int) -> Brief:
    """One of the briefs the organization wrote: another's (or an imported one) is 404."""
    return request.org.get(services.sent_briefs(request.org.organization), pk=pk)


def signed_file(text: str, name: str) -> HttpResponse:
    """A signed JSON file to download."""
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def file_name(kind: str, brief: Brief) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{kind}-{brief.key[:12]}-{stamp}.json"


# --- the list ----------------------------------------------------------------------------------


def list_page(request: OrgRequest, box: str, import_form: FileForm | None = None) -> HttpResponse:
    """The briefs the organization sent, or those in its desk (``box``: ``received``), with
    the form that imports a signed brief file."""
    org = request.org
    if box == "received":
        found: Any = (
            services.received(org.organization)
            .annotate(answers=Count("responses"))
            .order_by("-delivered_at", "-id")
        )
    else:
        found = (
            services.sent_briefs(org.organization)
            .annotate(partners=Count("deliveries", distinct=True))
            .annotate(answers=Count("deliveries__responses", distinct=True))
            .order_by("-created_at", "-id")
        )
    page: Any = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "briefs/list.html",
        {
            "nav": "counterspeech",
            "box": box,
            "page_obj": page,
            "rows": list(page.object_list),
            "can_prepare": org.can(Capability.APPROVE),
            "can_answer": org.can(Capability.ANSWER),
            "import_form": import_form or FileForm(),
        },
    )


@org_view(Capability.VIEW)
def brief_list(request: OrgRequest) -> HttpResponse:
    return list_page(request, "received" if request.GET.get("box") == "received" else "sent")


# --- preparing ---------------------------------------------------------------------------------


@org_view(Capability.APPROVE)
def brief_form(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    """Prepare a brief, or change one that is not closed."""
    org = request.org
    brief = _own_brief(request, pk) if pk is not None else None
    if brief is not None and brief.state == Brief.State.CLOSED:
        messages.error(request, _("A closed brief does not change."))
        return _detail(request, brief)
    data = request.POST if request.method == "POST" else None
    form = scoped_form(org, data, initial=brief_initial(brief) if brief is not None else None)
    if data is not None and form.is_valid():
        items = org.scoped(Item).select_related("author").in_bulk(form.item_numbers())
        written = form.data_with(items)
        if written is not None:
            try:
                if brief is None:
                    saved = services.create_brief(org, written)
                else:
                    saved = services.update_brief(org, brief, written)
            except services.BriefError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Draft saved: send it to partners from its page.")
                    if saved.state == Brief.State.DRAFT
                    else _("Saved: its partners read the change."),
                )
                return _detail(request, saved)
    return render(
        request, "briefs/form.html", {"nav": "counterspeech", "brief": brief, "form": form}
    )


# --- a brief -----------------------------------------------------------------------------------


def _response_rows(brief: Brief) -> list[dict[str, Any]]:
    return [
        {
            "response": response,
            "partner": response.delivery.partner_name,
        }
        for response in services.responses_of(brief)
    ]


def _csv(request: OrgRequest, brief: Brief) -> StreamingHttpResponse:
    header = [
        "post",
        "platform",
        "post_url",
        "post_author",
        "partner",
        "how",
        "answered_by",
        "answered_at",
        "answer_url",
    ]
    rows = (
        [
            row["response"].post.position + 1,
            row["response"].post.platform,
            row["response"].post.url,
            row["response"].post.author_handle,
            row["partner"],
            row["response"].how,
            row["response"].answered_by,
            row["response"].answered_at,
            row["response"].url,
        ]
        for row in _response_rows(brief)
    )
    return stream_csv(header, rows, f"brief-{brief.pk}-answers", request=request)


def _brief_page(request: OrgRequest, brief: Brief, **extra: Any) -> HttpResponse:
    org = request.org
    posts = list(brief.posts.all())
    deliveries = list(
        brief.deliveries.select_related("organization", "external_partner").order_by(
            "delivered_at", "id"
        )
    )
    counts = services.response_counts(brief)
    own_items = services.matching_items(org.organization, posts)
    delivered = {d.organization_id for d in deliveries if d.organization_id is not None}
    partners = services.accepted_partners(org.organization).exclude(pk__in=delivered)
    links = org.scoped(ExternalPartner).order_by("name", "id")
    can_prepare = org.can(Capability.APPROVE)
    open_ = brief.state != Brief.State.CLOSED
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "brief": brief,
        "posts": [
            {
                "post": post,
                "item": own_items.get(post.pk),
                "cells": [counts.get((post.pk, d.pk), 0) for d in deliveries],
                "total": sum(counts.get((post.pk, d.pk), 0) for d in deliveries),
            }
            for post in posts
        ],
        "entries": list(brief.entries.all()),
        "deliveries": deliveries,
        "responses": _response_rows(brief),
        "may_edit": can_prepare and open_,
        "may_send": can_prepare and open_ and partners.exists(),
        "no_partner": not services.accepted_partners(org.organization).exists(),
        "may_export": can_prepare and open_ and links.exists(),
        "may_close": can_prepare and open_,
        "may_import": can_prepare and any(d.external_partner_id for d in deliveries),
        "send_form": SendForm(partners=partners),
        "export_form": LinkChoiceForm(links=links),
        "import_form": FileForm(),
        **extra,
    }
    context["outcome_rows"], context["outcome_overall"] = brief_outcomes(brief)
    context["outcome_caveat"] = caveat()
    return render(request, "briefs/detail.html", context)


@org_view(Capability.VIEW)
def brief_detail(request: OrgRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    brief = _own_brief(request, pk)
    if request.GET.get("format") == "csv":
        return _csv(request, brief)
    return _brief_page(request, brief)


def _act(request: OrgRequest, brief: Brief, done: str, call: Any) -> HttpResponse:
    """Call the service; say what it did or why it refused."""
    try:
        call()
    except services.BriefError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _detail(request, brief)


@org_view(Capability.APPROVE)
@require_POST
def brief_send(request: OrgRequest, pk: int) -> HttpResponse:
    brief = _own_brief(request, pk)
    form = SendForm(request.POST, partners=services.accepted_partners(request.org.organization))
    if not form.is_valid():
        messages.error(request, _("Choose at least one partner."))
        return _detail(request, brief)
    partners = list(form.cleaned_data["partners"])
    return _act(
        request,
        brief,
        _("Sent: the brief is in its partners' desks."),
        lambda: services.send_brief(request.org, brief, partners),
    )


@org_view(Capability.APPROVE)
@require_POST
def brief_close(request: OrgRequest, pk: int) -> HttpResponse:
    brief = _own_brief(request, pk)
    return _act(
        request,
        brief,
        _("Closed: the partners are no longer asked to answer."),
        lambda: services.close_brief(request.org, brief),
    )


@org_view(Capability.APPROVE)
@require_POST
def brief_export(request: OrgRequest, pk: int) -> HttpResponse:
    """The brief as a file signed for a partner of another Beffroi, to download."""
    brief = _own_brief(request, pk)
    form = LinkChoiceForm(request.POST, links=request.org.scoped(ExternalPartner))
    if not form.is_valid():
        messages.error(request, _("Choose the partner the file is for."))
        return _detail(request, brief)
    try:
        text = services.export_brief(request.org, brief, form.cleaned_data["link"])
    except services.BriefError as exc:
        messages.error(request, str(exc))
        return _detail(request, brief)
    return signed_file(text, file_name("brief", brief))


@org_view(Capability.APPROVE)
@require_POST
def brief_import_responses(request: OrgRequest, pk: int) -> HttpResponse:
    """A partner of another Beffroi's signed report of its answers."""
    brief = _own_brief(request, pk)
    form = FileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _brief_page(request, brief, import_form=form)
    try:
        done = services.import_responses(request.org, form.cleaned_data["file"].read())
    except services.BriefError as exc:
        form.add_error("file", str(exc))
        return _brief_page(request, brief, import_form=form)
    if done.delivery.brief_id != brief.pk:
        messages.warning(request, _("The report was for another brief: it was imported there."))
        return _detail(request, done.delivery.brief)
    message = _("Report imported: %(added)d answers added, %(updated)d already known.") % {
        "added": done.added,
        "updated": done.updated,
    }
    if done.left_out:
        message += " " + _("%(count)d answers to posts no longer in the brief were left out.") % {
            "count": done.left_out
        }
    messages.success(request, message)
    return _detail(request, brief)


def delivery_of(request: OrgRequest, pk: int) -> BriefDelivery:
    """A brief in the organization's desk (its delivery): another's is 404."""
    return request.org.get(
        BriefDelivery.objects.select_related("brief", "brief__organization"), pk=pk
    )
