"""Sharing the library (administrators): publish it under a public name or stop, subscribe
to another organization's published library or stop, and see who subscribes to ours."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.counterspeech import services
from beffroi.counterspeech.forms import PublishForm, SubscribeForm
from beffroi.counterspeech.models import LibrarySubscription
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _back(request: OrgRequest) -> HttpResponse:
    return redirect("counterspeech:sharing", org_slug=request.org.organization.slug)


def _sharing_page(request: OrgRequest, publish_form: PublishForm | None = None) -> HttpResponse:
    organization = request.org.organization
    library = services.library_of(organization)
    subscriptions = list(
        LibrarySubscription.objects.for_org(organization)
        .select_related("publisher", "publisher__counter_speech_library")
        .order_by("created_at", "id")
    )
    subscribed = {subscription.publisher_id for subscription in subscriptions}
    offered = [
        published
        for published in services.published_libraries().order_by("public_name", "id")
        if published.organization_id != organization.pk
    ]
    if publish_form is None:
        publish_form = PublishForm(
            initial={
                "public_name": (library.public_name if library else "") or organization.name,
                "description": library.description if library else "",
            }
        )
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "library": library,
        "publish_form": publish_form,
        "subscriptions": [
            {
                "subscription": subscription,
                "name": _publisher_name(subscription),
                "shared": _still_shared(subscription),
            }
            for subscription in subscriptions
        ],
        "offered": [
            {"library": published, "subscribed": published.organization_id in subscribed}
            for published in offered
        ],
        "subscribers": list(services.subscribers_of(organization)),
    }
    return render(request, "counterspeech/sharing.html", context)


def _publisher_name(subscription: LibrarySubscription) -> str:
    library = getattr(subscription.publisher, "counter_speech_library", None)
    return (library.public_name if library else "") or subscription.publisher.name


def _still_shared(subscription: LibrarySubscription) -> bool:
    library = getattr(subscription.publisher, "counter_speech_library", None)
    return bool(library and library.published)


@org_view(Capability.MANAGE)
def sharing(request: OrgRequest) -> HttpResponse:
    return _sharing_page(request)


@org_view(Capability.MANAGE)
@require_POST
def publish(request: OrgRequest) -> HttpResponse:
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _sharing_page(request, form)
    services.publish_library(
        request.org, form.cleaned_data["public_name"], form.cleaned_data["description"]
    )
    messages.success(request, _("The library is shared: other organizations may subscribe."))
    return _back(request)


@org_view(Capability.MANAGE)
@require_POST
def unpublish(request: OrgRequest) -> HttpResponse:
    services.unpublish_library(request.org)
    messages.success(request, _("The library is no longer shared."))
    return _back(request)


@org_view(Capability.MANAGE)
@require_POST
def subscribe(request: OrgRequest) -> HttpResponse:
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        raise Http404("No such library")
    published = (
        services.published_libraries()
        .filter(organization_id=form.cleaned_data["publisher"])
        .first()
    )
    if published is None:
        raise Http404("No such library")
    try:
        services.subscribe(request.org, published.organization)
    except services.LibraryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The organization now reads %(name)s.")
            % {"name": published.public_name or published.organization.name},
        )
    return _back(request)


@org_view(Capability.MANAGE)
@require_POST
def unsubscribe(request: OrgRequest, pk: int) -> HttpResponse:
    subscription = request.org.get(LibrarySubscription.objects.select_related("publisher"), pk=pk)
    try:
        services.unsubscribe(request.org, subscription.publisher)
    except services.LibraryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The organization no longer reads this library."))
    return _back(request)
