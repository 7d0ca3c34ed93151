"""The partner's pages: a brief in the organization's desk (what to answer, where: the
organization's own item when its inbox holds the post, else the platform's page; the
suggested entries; the answers counted), and its actions: acknowledge, decline, declare an
answer made outside Beffroi, export the signed report of the answers for a partner of another
Beffroi; and the import of a brief file such a partner signed.

A brief is found through the organization's deliveries only: a brief delivered to another
organization is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.briefs import services
from beffroi.briefs.forms import DeclareForm, DeclineForm, FileForm
from beffroi.briefs.models import BriefDelivery
from beffroi.briefs.views.briefs import delivery_of, file_name, list_page, signed_file
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _back(request: OrgRequest, delivery: BriefDelivery) -> HttpResponse:
    return redirect("briefs:received", org_slug=request.org.organization.slug, pk=delivery.pk)


def _received_page(request: OrgRequest, delivery: BriefDelivery, **extra: Any) -> HttpResponse:
    org = request.org
    brief = delivery.brief
    posts = list(brief.posts.all())
    items = services.matching_items(org.organization, posts)
    answered = dict(
        delivery.responses.values("post_id").annotate(n=Count("id")).values_list("post_id", "n")
    )
    can_answer = org.can(Capability.ANSWER)
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "delivery": delivery,
        "brief": brief,
        "posts": [
            {"post": post, "item": items.get(post.pk), "answers": answered.get(post.pk, 0)}
            for post in posts
        ],
        "entries": list(brief.entries.all()),
        "responses": list(delivery.responses.select_related("post").order_by("answered_at", "id")),
        "can_answer": can_answer,
        "may_declare": can_answer and brief.open and bool(posts),
        "may_report": can_answer and brief.imported and brief.external_partner_id is not None,
        "declare_form": DeclareForm(posts=brief.posts.all()),
        "decline_form": DeclineForm(),
        **extra,
    }
    return render(request, "briefs/received.html", context)


@org_view(Capability.VIEW)
def received(request: OrgRequest, pk: int) -> HttpResponse:
    return _received_page(request, delivery_of(request, pk))


def _act(request: OrgRequest, delivery: BriefDelivery, done: str, call: Any) -> HttpResponse:
    try:
        call()
    except services.BriefError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back(request, delivery)


@org_view(Capability.ANSWER)
@require_POST
def acknowledge(request: OrgRequest, pk: int) -> HttpResponse:
    delivery = delivery_of(request, pk)
    return _act(
        request,
        delivery,
        _("The sender sees that the organization takes part."),
        lambda: services.acknowledge(request.org, delivery),
    )


@org_view(Capability.ANSWER)
@require_POST
def decline(request: OrgRequest, pk: int) -> HttpResponse:
    delivery = delivery_of(request, pk)
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        delivery,
        _("The sender sees that the organization does not take part."),
        lambda: services.decline(request.org, delivery, reason),
    )


@org_view(Capability.ANSWER)
@require_POST
def declare(request: OrgRequest, pk: int) -> HttpResponse:
    """ "We answered it (link)": an answer made outside Beffroi."""
    delivery = delivery_of(request, pk)
    form = DeclareForm(request.POST, posts=delivery.brief.posts.all())
    if not form.is_valid():
        return _received_page(request, delivery, declare_form=form)
    try:
        services.declare_response(
            request.org, delivery, form.cleaned_data["post"], form.cleaned_data["url"]
        )
    except services.BriefError as exc:
        form.add_error(None, str(exc))
        return _received_page(request, delivery, declare_form=form)
    messages.success(request, _("Counted: the sender sees the answer."))
    return _back(request, delivery)


@org_view(Capability.ANSWER)
@require_POST
def export_responses(request: OrgRequest, pk: int) -> HttpResponse:
    """The signed report of the organization's answers, for the partner that sent the brief
    from another Beffroi."""
    delivery = delivery_of(request, pk)
    try:
        text = services.export_responses(request.org, delivery)
    except services.BriefError as exc:
        messages.error(request, str(exc))
        return _back(request, delivery)
    return signed_file(text, file_name("brief-answers", delivery.brief))


@org_view(Capability.ANSWER)
@require_POST
def import_brief(request: OrgRequest) -> HttpResponse:
    """A brief a partner of another Beffroi signed for the organization."""
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            delivery = services.import_brief(request.org, form.cleaned_data["file"].read())
        except services.BriefError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("Imported: the brief is in the organization's desk."))
            return _back(request, delivery)
    return list_page(request, "received", form)
