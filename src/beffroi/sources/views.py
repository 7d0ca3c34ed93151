"""Sources: list, create and edit (through the services), sync on demand, file import."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from beffroi.connectors.base import ConfigurationError, Option
from beffroi.connectors.registry import available, connector_class
from beffroi.core.uploads import too_large_response, upload_copy, upload_too_large
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.sources import services
from beffroi.sources.connect import allow_sign_in_redirects, oauth_platforms
from beffroi.sources.forms import MAX_UPLOAD_BYTES, ImportForm, PlatformForm, SourceForm
from beffroi.sources.imports import import_file
from beffroi.sources.models import UPLOAD_PLATFORMS, ConnectionAlert, Source

log = logging.getLogger(__name__)

#: Import errors listed on the result page.
MAX_ERRORS_SHOWN = 200


def platform_choices() -> list[tuple[str, str]]:
    choices = []
    for platform in available():
        try:
            label = _(connector_class(platform).label)
        except Exception:  # a broken third-party connector must not break the page
            log.exception("connector %s cannot be loaded", platform)
            continue
        choices.append((platform, label))
    return choices


def connector_options(platform: str) -> dict[str, Option]:
    try:
        return dict(connector_class(platform).options)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(str(exc)) from exc


@org_view(Capability.VIEW)
def source_list(request: OrgRequest) -> HttpResponse:
    oauth_entries = oauth_platforms() if request.org.can(Capability.MANAGE) else []
    sources = (
        request.org.scoped(Source)
        .annotate(
            item_count=Count("items"),
            new_count=Count("items", filter=Q(items__state="new")),
        )
        .order_by("name")
    )
    response = render(
        request,
        "sources/list.html",
        {
            "nav": "sources",
            "sources": sources,
            "can_manage": request.org.can(Capability.MANAGE),
            "can_ingest": request.org.can(Capability.INGEST),
            "upload_platforms": UPLOAD_PLATFORMS,
            "connection_alerts": request.org.scoped(ConnectionAlert)
            .filter(resolved_at__isnull=True)
            .select_related("source"),
            "oauth_platforms": oauth_entries,
            "oauth_ready": {e["platform"] for e in oauth_entries if e["configured"]},
        },
    )
    allow_sign_in_redirects(response, oauth_entries)
    return response


def _save_errors(form: SourceForm, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


@org_view(Capability.MANAGE)
def source_create(request: OrgRequest) -> HttpResponse:
    organization = request.org.organization
    platforms = platform_choices()
    platform = request.POST.get("platform") or request.GET.get("platform")
    if platform not in dict(platforms):
        chooser = PlatformForm(
            request.GET if "platform" in request.GET else None, platforms=platforms
        )
        return render(request, "sources/choose_platform.html", {"nav": "sources", "form": chooser})
    options = connector_options(platform)
    initial = {"kind": Source.Kind.IMPORT if platform in UPLOAD_PLATFORMS else Source.Kind.ACCOUNT}
    form = SourceForm(
        request.POST if request.method == "POST" else None,
        platform=platform,
        options=options,
        initial={**initial, "enabled": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            source = services.create_source(
                request.org.actor,
                organization,
                name=form.cleaned_data["name"],
                platform=platform,
                kind=form.cleaned_data["kind"],
                settings=form.settings_values(),
                credentials=form.credentials_values() or {},
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationError as exc:
            _save_errors(form, exc)
        else:
            messages.success(
                request, _("The source “%(name)s” is created.") % {"name": source.name}
            )
            return redirect("sources:list", org_slug=organization.slug)
    return render(
        request,
        "sources/form.html",
        {
            "nav": "sources",
            "form": form,
            "platform": platform,
            "platform_label": dict(platforms)[platform],
            "source": None,
        },
    )


@org_view(Capability.MANAGE)
def source_edit(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    source = request.org.get(Source, pk=pk)
    try:
        options = connector_options(source.platform)
    except ConfigurationError as exc:
        messages.error(request, str(exc))
        return redirect("sources:list", org_slug=organization.slug)
    form = SourceForm(
        request.POST if request.method == "POST" else None,
        platform=source.platform,
        options=options,
        source=source,
    )
    if request.method == "POST" and form.is_valid():
        changes = {
            "name": form.cleaned_data["name"],
            "kind": form.cleaned_data["kind"],
            "enabled": form.cleaned_data["enabled"],
            "sync_interval_minutes": form.cleaned_data["sync_interval_minutes"],
            "settings": form.settings_values(),
        }
        try:
            services.update_source(
                request.org.actor, source, credentials=form.credentials_values(), **changes
            )
        except ValidationError as exc:
            source.refresh_from_db()
            _save_errors(form, exc)
        else:
            messages.success(request, _("The source “%(name)s” is saved.") % {"name": source.name})
            return redirect("sources:list", org_slug=organization.slug)
    return render(
        request,
        "sources/form.html",
        {
            "nav": "sources",
            "form": form,
            "platform": source.platform,
            "platform_label": dict(platform_choices()).get(source.platform, source.platform),
            "source": source,
        },
    )


@org_view(Capability.INGEST)
@require_POST
def source_sync(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    source = request.org.get(Source, pk=pk)
    try:
        services.request_sync(request.org.actor, source)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("A sync of “%(name)s” is queued; new items will appear in the inbox.")
            % {"name": source.name},
        )
    return redirect("sources:list", org_slug=organization.slug)


@org_view(Capability.INGEST)
def source_import(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    source = request.org.get(Source, pk=pk)
    context: dict[str, Any] = {"nav": "sources", "source": source}
    if not source.is_upload:
        messages.error(request, _("Files can only be imported into a file source."))
        return redirect("sources:list", org_slug=organization.slug)
    if request.method != "POST":
        context["form"] = ImportForm(platform=source.platform)
        return render(request, "sources/import.html", context)
    if upload_too_large(request, MAX_UPLOAD_BYTES):
        return too_large_response(request, MAX_UPLOAD_BYTES)
    form = ImportForm(request.POST, request.FILES, platform=source.platform)
    context["form"] = form
    if not form.is_valid():
        return render(request, "sources/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    filename = get_valid_filename(PurePath(upload.name).name) or "upload.csv"
    with upload_copy(upload, filename) as path:
        try:
            report = import_file(
                request.org.actor,
                source,
                path,
                fmt=form.cleaned_data.get("format") or None,
                platform=form.cleaned_data.get("platform") or None,
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
        except ConfigurationError as exc:
            form.add_error("file", str(exc).replace(str(path), filename))
            return render(request, "sources/import.html", context, status=400)
    if report.imported and report.in_other_sources:
        messages.warning(
            request,
            ngettext(
                "%(count)d item of this file is also in another source (%(sources)s): each "
                "source keeps its own copy. An item is identified by its source and its "
                "platform id.",
                "%(count)d items of this file are also in another source (%(sources)s): each "
                "source keeps its own copy. An item is identified by its source and its "
                "platform id.",
                report.in_other_sources,
            )
            % {"count": report.in_other_sources, "sources": ", ".join(report.other_sources)},
        )
    context.update(
        {
            "report": report,
            "filename": filename,
            "errors": report.errors[:MAX_ERRORS_SHOWN],
            "more_errors": max(0, len(report.errors) - MAX_ERRORS_SHOWN),
        }
    )
    return render(request, "sources/import_result.html", context)
