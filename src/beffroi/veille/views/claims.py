"""The fact-check library: the claims, a claim's form (a rebuttal from the organization's
own post, whose text then goes to the counter-speech library's form), a fact-checker's file
imported, and the items that repeat a claim."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.core.uploads import too_large_response, upload_too_large
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.forms import MAX_UPLOAD_BYTES, LibraryImportForm
from beffroi.veille.models import CheckedClaim, ClaimMatch
from beffroi.veille.views.shared import form_page, page_of, render_page, wants_csv

#: Notes of an import shown in its message; a page of hundreds would bury the rest.
MAX_NOTES_SHOWN = 20


@org_view(Capability.READ_VEILLE)
def claims(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = (
        request.org.scoped(CheckedClaim)
        .annotate(match_count=Count("matches"))
        .order_by("-created_at", "-id")
    )
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(Q(statement__icontains=query) | Q(title__icontains=query))
    if wants_csv(request):
        return stream_csv(
            [
                "claim",
                "verdict",
                "url",
                "source",
                "date",
                "language",
                "title",
                "origin",
                "matches",
            ],
            (
                [
                    c.statement,
                    c.verdict,
                    c.url,
                    c.source,
                    c.reviewed_on,
                    c.language,
                    c.title,
                    c.origin,
                    c.match_count,
                ]
                for c in found
            ),
            "claims",
            request=request,
        )
    return render_page(request, "claims.html", {"page_obj": page_of(request, found), "q": query})


@org_view(Capability.ANALYZE)
def claim_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    """A claim entered by hand; ``?item=<id>`` makes the organization's post a rebuttal."""
    org = request.org
    claim = org.get(CheckedClaim, pk=pk) if pk else None
    rebutting = None
    if claim is None and request.GET.get("item", "").isdigit():
        rebutting = org.get(Item, pk=int(request.GET["item"]))
    form = services.claim_form(
        org.organization, org.actor, request.POST or None, claim, rebutting=rebutting
    )
    # A rebuttal's reply is then written in the counter-speech library, by who may answer.
    to_library = rebutting is not None and org.can(Capability.ANSWER)
    saved = services.save_claim(org.actor, form) if request.method == "POST" else None
    if saved is None:
        page = form_page(request, claim, _("Checked claim"), "veille:claims", "claims")
        return render_page(
            request,
            "claim_form.html",
            {"form": form, "object": form.instance, "to_library": to_library, **page},
        )
    if to_library and rebutting is not None:
        # What to answer lives in the counter-speech library, above the veille: its form is
        # named by its URL (no import), prefilled with the claim and the post's text.
        messages.success(
            request,
            _(
                "The claim is in the library; items are matched against it. Now write the "
                "reply the counter-speech library will suggest against it."
            ),
        )
        form_url = reverse("counterspeech:create", kwargs={"org_slug": org.organization.slug})
        query = urlencode({"claim": saved.pk, "item": rebutting.pk})
        return redirect(f"{form_url}?{query}")
    messages.success(request, _("The claim is in the library; items are matched against it."))
    return redirect("veille:claims", org_slug=org.organization.slug)


@org_view(Capability.ANALYZE)
@require_POST
def claim_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_claim(request.org.actor, request.org.get(CheckedClaim, pk=pk))
    return redirect("veille:claims", org_slug=request.org.organization.slug)


@org_view(Capability.ANALYZE)
def claims_import(request: OrgRequest) -> HttpResponse:
    if request.method == "POST" and upload_too_large(request, MAX_UPLOAD_BYTES):
        return too_large_response(request, MAX_UPLOAD_BYTES)
    org = request.org
    form = LibraryImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        try:
            done = services.import_claims(org.actor, org.organization, content, form.file_format)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(
                request,
                _("%(created)s claims added, %(existing)s already in the library.")
                % {"created": done.created, "existing": done.existing},
            )
            if done.notes:
                shown = done.notes[:MAX_NOTES_SHOWN]
                more = len(done.notes) - len(shown)
                messages.warning(
                    request,
                    _("Not everything in the file was imported as it was: %(notes)s")
                    % {"notes": "; ".join(shown)}
                    + (" " + _("(and %(count)s more)") % {"count": more} if more else ""),
                )
            return redirect("veille:claims", org_slug=org.organization.slug)
    response = render_page(
        request,
        "claims_import.html",
        {
            "form": form,
            **form_page(request, None, _("Import fact-checks"), "veille:claims", "claims"),
        },
    )
    if form.errors:
        response.status_code = 400
    return response


@org_view(Capability.READ_VEILLE)
def claim_matches(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    """The items repeating a claim of the library; ``?claim=<id>``: those of one claim."""
    found = request.org.scoped(ClaimMatch).select_related("item__author", "claim")
    claim = None
    if request.GET.get("claim", "").isdigit():
        claim = request.org.get(CheckedClaim, pk=int(request.GET["claim"]))
        found = found.filter(claim=claim)
    if wants_csv(request):
        return stream_csv(
            [
                "item_created_at",
                "author",
                "text",
                "item_url",
                "claim",
                "verdict",
                "fact_check",
                "similarity",
                "evidence",
            ],
            (
                [
                    m.item.created_at,
                    m.item.author.handle,
                    m.item.text,
                    m.item.url,
                    m.claim.statement,
                    m.claim.verdict,
                    m.claim.url,
                    m.similarity,
                    m.evidence,
                ]
                for m in found.iterator()
            ),
            "claim-matches",
            request=request,
        )
    return render_page(
        request, "claim_matches.html", {"page_obj": page_of(request, found), "claim": claim}
    )
