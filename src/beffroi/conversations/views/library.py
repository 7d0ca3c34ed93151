"""The desk's settings pages: saved replies (written by those who answer) and the teams
(the services of the organization, set by its administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.conversations import services
from beffroi.conversations.forms import (
    RequestSystemForm,
    RoutingRuleForm,
    SavedReplyForm,
    TeamEditForm,
    rule_initial,
)
from beffroi.conversations.handoff import status_url
from beffroi.conversations.models import (
    RequestModel,
    RequestSystem,
    RoutingRule,
    SavedReply,
    Team,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


@org_view(Capability.VIEW)
def saved_replies(request: OrgRequest) -> HttpResponse:
    return render(
        request,
        "conversations/saved_replies.html",
        {
            "nav": "conversations",
            "saved_replies": request.org.scoped(SavedReply).select_related("team"),
            "can_answer": request.org.can(Capability.ANSWER),
        },
    )


@org_view(Capability.ANSWER)
def saved_reply_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    organization = request.org.organization
    saved = request.org.get(SavedReply, pk=pk) if pk is not None else SavedReply()
    form = SavedReplyForm(
        request.POST or None, instance=saved if pk is not None else None, organization=organization
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.save_saved_reply(request.org.actor, organization, saved, values)
        except services.DeskError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, _("Saved reply saved."))
            return redirect("conversations:saved_replies", org_slug=organization.slug)
    return _form_page(
        request,
        form,
        _("Edit the saved reply") if pk is not None else _("Write a saved reply"),
        "conversations:saved_replies",
        "saved",
    )


@org_view(Capability.ANSWER)
@require_POST
def saved_reply_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_saved_reply(request.org.actor, request.org.get(SavedReply, pk=pk))
    messages.success(request, _("Saved reply deleted."))
    return redirect("conversations:saved_replies", org_slug=request.org.organization.slug)


@org_view(Capability.VIEW)
def teams(request: OrgRequest) -> HttpResponse:
    return render(
        request,
        "conversations/teams.html",
        {
            "nav": "conversations",
            "teams": request.org.scoped(Team).prefetch_related("members", "leads"),
            "can_manage": request.org.can(Capability.MANAGE),
        },
    )


@org_view(Capability.MANAGE)
def team_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    organization = request.org.organization
    team = request.org.get(Team, pk=pk) if pk is not None else Team(organization=organization)
    form = TeamEditForm(request.POST or None, instance=team, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_team(request.org.actor, organization, form)
        except services.DeskError as exc:
            form.add_error("slug", str(exc))
        else:
            messages.success(request, _("Team saved."))
            return redirect("conversations:teams", org_slug=organization.slug)
    return _form_page(
        request,
        form,
        _("Edit the team") if pk is not None else _("Add a team"),
        "conversations:teams",
        "teams",
    )


@org_view(Capability.MANAGE)
def request_systems(request: OrgRequest) -> HttpResponse:
    # A webhook system is shown the address where it says a request is done.
    rows = [
        (system, status_url(system) if system.kind == RequestSystem.Kind.WEBHOOK else "")
        for system in request.org.scoped(RequestSystem)
    ]
    return render(
        request, "conversations/request_systems.html", {"nav": "conversations", "rows": rows}
    )


@org_view(Capability.MANAGE)
def request_system_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    organization = request.org.organization
    system = (
        request.org.get(RequestSystem, pk=pk)
        if pk is not None
        else RequestSystem(organization=organization)
    )
    form = RequestSystemForm(request.POST or None, instance=system)
    if request.method == "POST" and form.is_valid():
        saved, made_secret = services.save_request_system(
            request.org.actor,
            organization,
            form,
            form.cleaned_data.get("api_key", ""),
            signing_secret=form.cleaned_data.get("signing_secret", ""),
            new_secret=bool(form.cleaned_data.get("new_secret")),
        )
        if made_secret:
            # Shown on this answer only: never stored in clear, in a message or a cookie.
            shown = render(
                request,
                "conversations/request_system_secret.html",
                {
                    "nav": "conversations",
                    "tab": "systems",
                    "system": saved,
                    "secret": made_secret,
                    "status_url": status_url(saved),
                },
            )
            shown["Cache-Control"] = "no-store"
            return shown
        messages.success(request, _("Request system saved."))
        return redirect("conversations:request_systems", org_slug=organization.slug)
    return _form_page(
        request,
        form,
        _("Edit the request system") if pk is not None else _("Add a request system"),
        "conversations:request_systems",
        "systems",
    )


@org_view(Capability.VIEW)
def routing_rules(request: OrgRequest) -> HttpResponse:
    return render(
        request,
        "conversations/routing_rules.html",
        {
            "nav": "conversations",
            "rules": request.org.scoped(RoutingRule).select_related("team"),
            "can_manage": request.org.can(Capability.MANAGE),
        },
    )


@org_view(Capability.MANAGE)
def routing_rule_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    organization = request.org.organization
    rule = request.org.get(RoutingRule, pk=pk) if pk is not None else RoutingRule()
    form = RoutingRuleForm(
        request.POST or None,
        organization=organization,
        initial=rule_initial(rule) if pk is not None else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_routing_rule(request.org.actor, organization, rule, form.cleaned_data)
        except services.DeskError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Routing rule saved."))
            return redirect("conversations:routing_rules", org_slug=organization.slug)
    return _form_page(
        request,
        form,
        _("Edit the routing rule") if pk is not None else _("Add a routing rule"),
        "conversations:routing_rules",
        "rules",
    )


@org_view(Capability.MANAGE)
@require_POST
def routing_rule_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_routing_rule(request.org.actor, request.org.get(RoutingRule, pk=pk))
    messages.success(request, _("Routing rule deleted."))
    return redirect("conversations:routing_rules", org_slug=request.org.organization.slug)


def _form_page(request: OrgRequest, form: Any, title: str, back: str, tab: str) -> HttpResponse:
    """A settings form of the desk under its tab, with its way back."""
    return render(
        request,
        "conversations/form.html",
        {
            "nav": "conversations",
            "form": form,
            "form_title": title,
            "cancel_url": reverse(back, kwargs={"org_slug": request.org.organization.slug}),
            "tab": tab,
        },
    )


@org_view(Capability.MANAGE)
def request_models(request: OrgRequest) -> HttpResponse:
    from beffroi.conversations.learning import corrections

    detection, routing = corrections(request.org.organization)
    return render(
        request,
        "conversations/request_models.html",
        {
            "nav": "conversations",
            "models": request.org.scoped(RequestModel).exclude(state=RequestModel.State.RETIRED),
            "detection_corrections": len(detection),
            "routing_corrections": len(routing),
        },
    )


@org_view(Capability.MANAGE)
@require_POST
def request_models_learn(request: OrgRequest) -> HttpResponse:
    from beffroi.conversations.learning import LearningError, ask_to_learn

    try:
        ask_to_learn(request.org.actor, request.org.organization)
    except LearningError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The models are learning in the background: the new one will run in shadow.")
        )
    return redirect("conversations:request_models", org_slug=request.org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def request_model_activate(request: OrgRequest, pk: int) -> HttpResponse:
    from beffroi.conversations.learning import LearningError, put_in_force

    try:
        put_in_force(request.org.actor, request.org.get(RequestModel, pk=pk))
    except LearningError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The retrained model now judges the new conversations."))
    return redirect("conversations:request_models", org_slug=request.org.organization.slug)
