"""Two-factor enforcement for the web interface.

A user with a confirmed TOTP device must enter a code after the password before seeing any
page. Administrators (of any organization) and superusers who have no device yet are sent to
set one up first. The JSON API authenticates with tokens and is not concerned.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import user_has_device
from django_otp.middleware import is_verified

from beffroi.organizations.models import Membership
from beffroi.organizations.roles import Role

# "/p/": the publishing desk's signed public addresses (external approval, media, calendar
# feed), reached by a token, never by a session.
EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/healthz",
    "/metrics",
    "/api/",
    "/i18n/",
    "/charter/",
    "/p/",
)


def requires_two_factor(user: User) -> bool:
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role=Role.ADMIN).exists()


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not is_verified(user)
        ):
            if user_has_device(user, confirmed=True):
                return redirect(f"/accounts/verify/?next={request.get_full_path()}")
            if requires_two_factor(user):
                return redirect("/accounts/two-factor/setup/")
        return self.get_response(request)
