"""The publishing desk's library and settings pages: the media library, the approval
workflows, the publishing settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.uploads import upload_too_large
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.publishing import media
from beffroi.publishing import workflows as workflow_services
from beffroi.publishing.library_forms import (
    MediaEditForm,
    MediaUploadForm,
    SettingsForm,
    StepFormSet,
    WorkflowForm,
    step_initial,
)
from beffroi.publishing.models import ApprovalWorkflow, MediaAsset
from beffroi.publishing.services import PublishingError, settings_of

MEDIA_PAGE_SIZE = 48


def file_response(asset: MediaAsset) -> FileResponse:
    """A library file as it was uploaded, with its own type: shown in the page for images,
    downloaded otherwise, never sniffed into something else."""
    try:
        handle = asset.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("No such file") from exc
    inline = asset.kind in (MediaAsset.Kind.IMAGE, MediaAsset.Kind.GIF)
    stored = asset.file.name or ""
    extension = stored.rsplit(".", 1)[-1] if "." in stored else "bin"
    response = FileResponse(
        handle,
        content_type=asset.mime_type,
        as_attachment=not inline,
        filename=f"media-{asset.pk}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the media library ---------------------------------------------------------------------


@org_view(Capability.VIEW)
def media_list(request: OrgRequest) -> HttpResponse:
    """The library (GET), and an upload to it (POST, by those who publish)."""
    form = MediaUploadForm()
    too_large = ""
    status = 200
    if request.method == "POST":
        request.org.require(Capability.PUBLISH)
        # The web server lets a body this large through on this address only
        # (web/request_limits.py); what is larger never reaches the view.
        largest = media.largest_media()
        if upload_too_large(request, largest):
            # Said before the form reads the file: the form stays empty.
            too_large = _("The file is larger than %(limit)s MB, the most the library takes.") % {
                "limit": largest // media.MEGABYTE
            }
            status = 413
        else:
            form = MediaUploadForm(request.POST, request.FILES)
            if form.is_valid():
                known = request.org.scoped(MediaAsset).count()
                try:
                    asset = media.save_upload(
                        request.org.actor,
                        request.org.organization,
                        form.cleaned_data["file"],
                        alt_text=form.cleaned_data["alt_text"],
                        name=form.cleaned_data["name"],
                    )
                except media.MediaError as exc:
                    form.add_error(exc.field, str(exc))
                except PublishingError as exc:
                    form.add_error(None, str(exc))
                else:
                    if request.org.scoped(MediaAsset).count() > known:
                        messages.success(request, _("Saved in the library."))
                    else:
                        messages.success(
                            request,
                            _("This file was already in the library (%(name)s): it is kept once.")
                            % {"name": asset.name},
                        )
                    return redirect("publishing:media", org_slug=request.org.organization.slug)
            status = 400
    assets = (
        request.org.scoped(MediaAsset)
        .select_related("uploaded_by")
        .annotate(uses=Count("variants__post", distinct=True))
        .order_by("-created_at", "-id")
    )
    page = Paginator(assets, MEDIA_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/media.html",
        {
            "nav": "publishing",
            "page_obj": page,
            "form": form,
            "too_large": too_large,
            "can_publish": request.org.can(Capability.PUBLISH),
        },
        status=status,
    )


@org_view(Capability.PUBLISH)
def media_edit(request: OrgRequest, pk: int) -> HttpResponse:
    asset = request.org.get(MediaAsset, pk=pk)
    form = MediaEditForm(request.POST or None, instance=asset)
    if request.method == "POST" and form.is_valid():
        try:
            media.update_media(
                request.org.actor,
                asset,
                form.cleaned_data["name"],
                form.cleaned_data["alt_text"],
            )
        except media.MediaError as exc:
            form.add_error("alt_text" if exc.field == "alt_text" else None, str(exc))
        else:
            messages.success(request, _("Media saved."))
            return redirect("publishing:media", org_slug=request.org.organization.slug)
    return render(
        request,
        "publishing/media_form.html",
        {
            "nav": "publishing",
            "asset": request.org.get(MediaAsset, pk=pk),
            "form": form,
            "used_by": media.used_by(asset),
        },
    )


@org_view(Capability.PUBLISH)
@require_POST
def media_delete(request: OrgRequest, pk: int) -> HttpResponse:
    asset = request.org.get(MediaAsset, pk=pk)
    try:
        media.delete_media(request.org.actor, asset)
    except PublishingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Media deleted."))
    return redirect("publishing:media", org_slug=request.org.organization.slug)


@org_view(Capability.VIEW)
def media_file(request: OrgRequest, pk: int) -> FileResponse:
    response = file_response(request.org.get(MediaAsset, pk=pk))
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the approval workflows ----------------------------------------------------------------


@org_view(Capability.VIEW)
def workflows(request: OrgRequest) -> HttpResponse:
    return render(
        request,
        "publishing/workflows.html",
        {
            "nav": "publishing",
            "workflows": request.org.scoped(ApprovalWorkflow)
            .select_related("source")
            .prefetch_related("steps__approvers"),
            "can_manage": request.org.can(Capability.MANAGE),
        },
    )


@org_view(Capability.MANAGE)
def workflow_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    organization = request.org.organization
    workflow = request.org.get(ApprovalWorkflow, pk=pk) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    form = WorkflowForm(data, instance=workflow, organization=organization)
    steps = StepFormSet(
        data,
        prefix="steps",
        initial=step_initial(workflow) if workflow is not None else None,
        form_kwargs={"organization": organization},
    )
    if data is not None and form.is_valid() and steps.is_valid():
        try:
            workflow_services.save_workflow(
                request.org.actor,
                organization,
                workflow=workflow,
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                for_posts=form.cleaned_data["for_posts"],
                for_replies=form.cleaned_data["for_replies"],
                for_counter_speech=form.cleaned_data["for_counter_speech"],
                steps=[step_form.step() for step_form in steps.ordered_forms],
            )
        except PublishingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Workflow saved."))
            return redirect("publishing:workflows", org_slug=organization.slug)
    return render(
        request,
        "publishing/workflow_form.html",
        {
            "nav": "publishing",
            "form": form,
            "steps": steps,
            "workflow": workflow,
            "form_title": _("Edit the workflow") if workflow is not None else _("Add a workflow"),
        },
        status=400 if data is not None else 200,
    )


@org_view(Capability.MANAGE)
@require_POST
def workflow_delete(request: OrgRequest, pk: int) -> HttpResponse:
    try:
        workflow_services.delete_workflow(
            request.org.actor, request.org.get(ApprovalWorkflow, pk=pk)
        )
    except PublishingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Workflow deleted."))
    return redirect("publishing:workflows", org_slug=request.org.organization.slug)


# --- the publishing settings ---------------------------------------------------------------


@org_view(Capability.VIEW)
def publishing_settings(request: OrgRequest) -> HttpResponse:
    """Read by every member (GET); changed by administrators (POST)."""
    organization = request.org.organization
    can_manage = request.org.can(Capability.MANAGE)
    if request.method == "POST":
        request.org.require(Capability.MANAGE)
    form = SettingsForm(request.POST or None, instance=settings_of(organization))
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            workflow_services.save_settings(request.org.actor, organization, form.cleaned_data)
        except PublishingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Publishing settings saved."))
            return redirect("publishing:settings", org_slug=organization.slug)
    return render(
        request,
        "publishing/settings.html",
        {"nav": "publishing", "form": form, "can_manage": can_manage},
        status=400 if request.method == "POST" else 200,
    )
