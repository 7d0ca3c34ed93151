from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from beffroi.accounts.requests import AuthenticatedRequest
from beffroi.organizations.models import Membership


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Go to the current organization's dashboard, or list the user's organizations."""
    memberships = list(Membership.objects.filter(user=request.user).select_related("organization"))
    slugs = {m.organization.slug for m in memberships}
    current = request.session.get("current_org")
    if current in slugs:
        return redirect("overview:dashboard", org_slug=current)
    if len(memberships) == 1:
        return redirect("overview:dashboard", org_slug=memberships[0].organization.slug)
    return render(request, "core/home.html", {"memberships": memberships})
