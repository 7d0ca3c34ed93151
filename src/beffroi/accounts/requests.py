"""The request of a page behind ``login_required``, typed: its user has signed in."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    """What ``login_required`` lets through: ``request.user`` is an account, never anonymous."""

    user: User


def signed_in(request: HttpRequest) -> TypeGuard[AuthenticatedRequest]:
    """Whether someone has signed in on ``request`` (a page open to anyone asks)."""
    return request.user.is_authenticated
