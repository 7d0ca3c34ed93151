"""Drafting by a language model: its settings (administrators), testing the endpoint, and a
draft asked for an item from the chosen entries (those who answer), answered as an HTML
fragment (``counterspeech/_draft.html``) for the panel that asked."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.counterspeech import drafting
from beffroi.counterspeech.forms import DraftForm, DraftingSettingsForm
from beffroi.counterspeech.services import LibraryError
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _settings_page(request: OrgRequest, form: DraftingSettingsForm | None = None) -> HttpResponse:
    settings = drafting.settings_of(request.org)
    if form is None:
        form = DraftingSettingsForm(
            initial={
                "enabled": settings.drafting_enabled if settings else False,
                "endpoint": settings.drafting_endpoint if settings else "",
                "model": settings.drafting_model if settings else "",
                "max_characters": settings.drafting_max_characters if settings else 500,
            }
        )
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "form": form,
        "settings": settings,
        "enabled": bool(settings and settings.drafting_enabled),
        "key_stored": bool(settings and settings.drafting_api_key_encrypted),
    }
    return render(request, "counterspeech/drafting.html", context)


@org_view(Capability.MANAGE)
def drafting_settings(request: OrgRequest) -> HttpResponse:
    if request.method != "POST":
        return _settings_page(request)
    form = DraftingSettingsForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, form)
    data = form.cleaned_data
    try:
        drafting.save_settings(
            request.org,
            enabled=data["enabled"],
            endpoint=data["endpoint"],
            model=data["model"],
            max_characters=data["max_characters"],
            api_key=data["api_key"],
            clear_api_key=data["clear_api_key"],
        )
    except LibraryError as exc:
        form.add_error(None, str(exc))
        return _settings_page(request, form)
    messages.success(request, _("The drafting settings are saved."))
    return redirect("counterspeech:drafting", org_slug=request.org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def drafting_test(request: OrgRequest) -> HttpResponse:
    """Ask the saved endpoint for a word: whether it answers, with this model and key."""
    try:
        model = drafting.try_endpoint(request.org)
    except LibraryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The endpoint answered, with the model %(model)s.") % {"model": model}
        )
    return redirect("counterspeech:drafting", org_slug=request.org.organization.slug)


@org_view(Capability.ANSWER)
@require_POST
def draft(request: OrgRequest, pk: int) -> HttpResponse:
    """A draft for the item from the chosen entries, as a fragment: the draft and its
    citations, or why it cannot be used as is, or why there is none."""
    item = request.org.get(Item, pk=pk)
    form = DraftForm(request.POST)
    context: dict[str, Any] = {"item": item}
    if not form.is_valid():
        context["error"] = _("Choose at least one library entry to draft from.")
        return render(request, "counterspeech/_draft.html", context, status=400)
    language = form.cleaned_data["language"] or item.language or (get_language() or "fr")[:2]
    try:
        entries = drafting.chosen_entries(request.org, form.cleaned_data["entries"])
        context["outcome"] = drafting.draft_for(request.org, item, entries, language)
    except LibraryError as exc:
        context["error"] = str(exc)
        context["error_code"] = exc.code
    return render(request, "counterspeech/_draft.html", context)
