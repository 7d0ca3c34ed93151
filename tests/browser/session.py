"""A logged-in session, two-factor passed, for a browser to carry as its cookie."""

from __future__ import annotations

from typing import Any


def verified_session(user: Any) -> str:
    """The key of a new session of ``user``, as after a password and a TOTP code."""
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="browser", confirmed=True)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session["otp_device_id"] = device.persistent_id
    session.create()
    assert session.session_key is not None
    return session.session_key
