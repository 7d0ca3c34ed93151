"""The publishing desk's pages reached without an account, each by a signed token: the
external approval page (an elected official approves a step from a link) and the library
files platforms fetch by address.

The token is in the address: these pages are never cached and never send it on as a
referrer. A refusal says why (expired, used, changed, not valid) in the reader's language
and shows nothing of the post.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from beffroi.accounts import throttle
from beffroi.publishing import approval, sending, services
from beffroi.publishing.library_forms import ExternalDecisionForm
from beffroi.publishing.models import ExternalApprovalLink
from beffroi.publishing.views.library import file_response


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _refused(request: HttpRequest, error: services.PublishingError) -> HttpResponse:
    """The refusal's sentence alone: 404 for a link that does not exist, 410 for one that
    did (expired, used, or made for content that changed since)."""
    return render(
        request,
        "publishing/external_approval.html",
        {"refusal": str(error)},
        status=404 if error.code == "invalid" else 410,
    )


def _previews(link: ExternalApprovalLink) -> list[dict[str, object]]:
    """Each account's variant as it would be published, with its media's signed addresses."""
    variants = link.post.variants.select_related("source").order_by("source__name", "id")
    return [
        {
            "variant": variant,
            "media": [
                {"asset": attached.media, "url": sending.media_url(attached.media)}
                for attached in variant.variantmedia_set.select_related("media").order_by(
                    "position", "id"
                )
            ],
        }
        for variant in variants
    ]


def _slowed_down(request: HttpRequest, seconds: int) -> HttpResponse:
    response = render(
        request,
        "publishing/external_approval.html",
        {
            "refusal": _(
                "Too many links that do not exist were tried from your connection: try again "
                "in %(seconds)s seconds."
            )
            % {"seconds": seconds}
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


@require_http_methods(["GET", "POST"])
def external_approval(request: HttpRequest, token: str) -> HttpResponse:
    address = throttle.client_address(request)
    wait = throttle.guess_wait(address)
    if wait:
        return _private(_slowed_down(request, wait))
    try:
        link = services.external_link(token)
    except services.PublishingError as exc:
        if exc.code == "invalid":
            throttle.wrong_guess(address)
        return _private(_refused(request, exc))
    form = ExternalDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.external_decide(token, approve, form.cleaned_data["comment"].strip())
        except services.PublishingError as exc:
            return _private(_refused(request, exc))
        return _private(
            render(
                request,
                "publishing/external_approval.html",
                {"done": True, "approved": approve, "link": link},
            )
        )
    steps = approval.steps_for(link.post)
    step = steps[link.step_index] if link.step_index < len(steps) else None
    return _private(
        render(
            request,
            "publishing/external_approval.html",
            {
                "link": link,
                "post": link.post,
                "step": step,
                "previews": _previews(link),
                "form": form,
            },
            status=400 if request.method == "POST" else 200,
        )
    )


@require_http_methods(["GET", "HEAD"])
def public_media(request: HttpRequest, token: str) -> FileResponse:
    asset = sending.media_of_token(token)
    if asset is None:
        raise Http404("No such media")
    response = file_response(asset)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response
