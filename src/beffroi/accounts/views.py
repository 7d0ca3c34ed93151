"""Account pages: log in (password, then a TOTP code), set up two-factor, log out, API tokens.

``/accounts/`` is exempt from :class:`~beffroi.accounts.middleware.TwoFactorMiddleware` so
that the login steps can be reached; the pages here that are not login steps check the
second factor themselves (:func:`fully_authenticated`).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.middleware import is_verified

from beffroi.accounts import services, throttle
from beffroi.accounts.forms import ApiTokenForm, LoginForm, TokenCodeForm
from beffroi.accounts.middleware import requires_two_factor
from beffroi.accounts.models import ApiToken
from beffroi.accounts.requests import AuthenticatedRequest, signed_in
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor

# --- helpers ----------------------------------------------------------------------------------


def safe_next(request: HttpRequest, default: str | None = None) -> str:
    """The ``next`` parameter if it points to this site, else ``default`` (the home page)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or reverse("core:home")


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def second_factor_redirect(request: AuthenticatedRequest) -> HttpResponse | None:
    """Where a logged-in user must go before anything else, or ``None``."""
    user = request.user
    if is_verified(user):
        return None
    if user_has_device(user, confirmed=True):
        return redirect(_with_next("accounts:verify", request.get_full_path()))
    if requires_two_factor(user):
        return redirect("accounts:two_factor_setup")
    return None


def fully_authenticated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, and the second factor passed when the user has (or needs) one."""

    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = second_factor_redirect(request)
        if response is not None:
            return response
        return view(request, *args, **kwargs)

    return wrapped


def _retry_message(seconds: int) -> str:
    if seconds < 60:
        return ngettext(
            "Too many failed attempts. Try again in %(count)d second.",
            "Too many failed attempts. Try again in %(count)d seconds.",
            seconds,
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many failed attempts. Try again in %(count)d minute.",
        "Too many failed attempts. Try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


def _account_owner(request: AuthenticatedRequest) -> Actor:
    """The person changing their own account, through the web interface."""
    return Actor(request.user, AuditEvent.Channel.UI)


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


# --- login, second factor, logout -----------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, default="")
    if signed_in(request) and request.method == "GET":
        pending = second_factor_redirect(request)
        return pending or redirect(next_url or "core:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = throttle.authenticate(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
        if isinstance(user, throttle.Refused):
            form.add_error(None, _retry_message(user.retry_after))
            response = render(
                request, "accounts/login.html", {"form": form, "next": next_url}, status=429
            )
            response["Retry-After"] = str(user.retry_after)
            return response
        if user is None:
            form.add_error(None, _("Incorrect username or password."))
        else:
            auth_login(request, user)
            if user_has_device(user, confirmed=True):
                return redirect(_with_next("accounts:verify", next_url))
            if requires_two_factor(user):
                return redirect("accounts:two_factor_setup")
            return HttpResponseRedirect(next_url or reverse("core:home"))
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@never_cache
@login_required
def verify_view(request: AuthenticatedRequest) -> HttpResponse:
    """The second step of the login: a code from the user's authenticator application."""
    next_url = safe_next(request)
    if is_verified(request.user):
        return HttpResponseRedirect(next_url)
    if not user_has_device(request.user, confirmed=True):
        return redirect("accounts:two_factor_setup")
    form = TokenCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        devices = list(devices_for_user(request.user, confirmed=True))
        if devices and not any(device.verify_is_allowed()[0] for device in devices):
            form.add_error("code", _("Too many wrong codes. Wait a little, then retry."))
        else:
            device = match_token(request.user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return HttpResponseRedirect(next_url)
            form.add_error(
                "code", _("This code is not valid. Check the time on your phone and retry.")
            )
    return render(request, "accounts/verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def two_factor_setup(request: AuthenticatedRequest) -> HttpResponse:
    """Pair an authenticator application: QR code (and the secret), then confirm with a code."""
    user = request.user
    has_confirmed = user_has_device(user, confirmed=True)
    if has_confirmed and not is_verified(user):
        # A password alone must never be enough to pair a new device.
        return redirect(_with_next("accounts:verify", request.get_full_path()))
    replacing = bool(request.GET.get("replace"))
    if has_confirmed and not replacing:
        return render(
            request, "accounts/two_factor_setup.html", {"enabled": True, "nav": "account"}
        )
    device = services.device_to_pair(user)
    form = TokenCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enable_two_factor(_account_owner(request), device, form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return HttpResponseRedirect(safe_next(request))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title=_("QR code to scan with your authenticator application")
    )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr_svg": qr_svg,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "next": safe_next(request, default=""),
        "required": requires_two_factor(user),
        "replacing": replacing,
        "nav": "account",
    }
    return _no_store(render(request, "accounts/two_factor_setup.html", context))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("accounts:login")


# --- my account -----------------------------------------------------------------------------


def _password_form(request: AuthenticatedRequest, data: Any = None) -> PasswordChangeForm:
    form = PasswordChangeForm(request.user, data)
    # The profile page is not about the password: do not steal the focus.
    form.fields["old_password"].widget.attrs.pop("autofocus", None)
    return form


def _profile_context(request: AuthenticatedRequest, **extra: Any) -> dict[str, Any]:
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked", "-created_at")
    return {
        "nav": "account",
        "tokens": tokens,
        "token_form": extra.pop("token_form", None) or ApiTokenForm(),
        "password_form": extra.pop("password_form", None) or _password_form(request),
        "two_factor_enabled": user_has_device(request.user, confirmed=True),
        "now": timezone.now(),
        **extra,
    }


@never_cache
@fully_authenticated
def profile(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", _profile_context(request))


@never_cache
@require_POST
@fully_authenticated
def token_create(request: AuthenticatedRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return render(
            request, "accounts/profile.html", _profile_context(request, token_form=form), status=400
        )
    days = form.cleaned_data.get("expires_in")
    expires_at = timezone.now() + timedelta(days=int(days)) if days else None
    token, clear_key = services.issue_api_token(
        _account_owner(request), request.user, form.cleaned_data["name"], expires_at
    )
    # The clear key is shown in this response only: never stored, never redirected through.
    response = render(
        request,
        "accounts/profile.html",
        _profile_context(request, new_token=token, new_key=clear_key),
    )
    return _no_store(response)


@require_POST
@fully_authenticated
def token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if services.revoke_api_token(_account_owner(request), token):
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:profile")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@require_POST
@fully_authenticated
def password_change(request: AuthenticatedRequest) -> HttpResponse:
    form = _password_form(request, request.POST)
    if not form.is_valid():
        return render(
            request,
            "accounts/profile.html",
            _profile_context(request, password_form=form),
            status=400,
        )
    services.change_password(_account_owner(request), form.user, form.cleaned_data["new_password1"])
    # The session stays logged in: it is signed with the password's hash.
    update_session_auth_hash(request, form.user)
    messages.success(request, _("Your password is changed."))
    return redirect("accounts:profile")
