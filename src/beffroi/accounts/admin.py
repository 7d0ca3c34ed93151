"""Admin for API tokens, and the rules of the admin site itself.

The Django admin is for superusers only (members of organizations use the application) and
logs in through the application's login (throttled, two-factor), never its own form.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from beffroi.accounts.models import ApiToken
from beffroi.audit.admin import AuditedAdmin


def _superuser_only(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def _login_through_application(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    target = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


admin.site.has_permission = _superuser_only  # type: ignore[method-assign]
admin.site.login = _login_through_application  # type: ignore[method-assign]
admin.site.site_header = "Beffroi"
admin.site.site_title = "Beffroi"


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin[ApiToken]):
    """Only the prefix is ever known; a token can be revoked, not read."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued from "My account" or the command line
