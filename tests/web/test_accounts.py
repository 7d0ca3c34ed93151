"""Logging in (password, then TOTP), two-factor setup, logout, API tokens (throttling:
test_login_throttle.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.web.conftest import audit_actions

pytestmark = pytest.mark.django_db


def totp_code(device: Any) -> str:
    from django_otp.oath import totp

    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def confirmed_device(user: Any) -> Any:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_login_with_password_then_totp(
    client: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    user = make_user("alice", org=org, role="moderator")
    device = confirmed_device(user)

    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "next": "/o/ville-test/sources/"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")
    assert "next=%2Fo%2Fville-test%2Fsources%2F" in response["Location"]

    # Past the password but not the second factor: every page sends back to the code.
    inbox = client.get("/o/ville-test/inbox/")
    assert inbox.status_code == 302 and inbox["Location"].startswith("/accounts/verify/")
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/verify/")

    wrong = client.post("/accounts/verify/", {"code": "000000", "next": "/o/ville-test/sources/"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["code"]
    assert client.get("/o/ville-test/inbox/").status_code == 302
    # django-otp makes a device wait after a wrong code; the wait is over.
    device.throttle_reset()

    response = client.post(
        "/accounts/verify/", {"code": totp_code(device), "next": "/o/ville-test/sources/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/ville-test/sources/"
    assert client.get("/o/ville-test/inbox/").status_code == 200


def test_login_without_device_for_a_non_admin(
    client: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    make_user("viewer", org=org, role="viewer")
    response = client.post("/accounts/login/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200
    assert client.get("/o/ville-test/inbox/").status_code == 200


def test_login_error_is_generic(client: Client, make_user: Callable[..., Any]) -> None:
    make_user("alice")
    wrong_password = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    unknown_user = client.post("/accounts/login/", {"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert (
        wrong_password.context["form"].non_field_errors()
        == unknown_user.context["form"].non_field_errors()
    )
    assert "_auth_user_id" not in client.session


def test_login_ignores_an_external_next(client: Client, make_user: Callable[..., Any]) -> None:
    make_user("alice")
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_admin_must_set_up_two_factor(
    client: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = make_user("admin", org=org, role="admin")
    response = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert response["Location"] == "/accounts/two-factor/setup/"
    # The middleware holds every other page until it is done.
    assert client.get("/o/ville-test/inbox/")["Location"] == "/accounts/two-factor/setup/"

    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "otpauth" not in html  # the QR code is drawn, not linked
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    secret = "".join(page.context["secret_groups"])
    import base64

    assert base64.b32decode(secret) == device.bin_key
    # Reloading shows the same secret (the same unconfirmed device).
    assert "".join(client.get("/accounts/two-factor/setup/").context["secret_groups"]) == secret

    assert client.post("/accounts/two-factor/setup/", {"code": "123456"}).status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()
    response = client.post("/accounts/two-factor/setup/", {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/o/ville-test/inbox/").status_code == 200
    assert "user.two_factor.enable" in audit_actions()


def test_a_password_alone_cannot_pair_a_new_device(
    client: Client, make_user: Callable[..., Any]
) -> None:
    user = make_user("alice")
    confirmed_device(user)
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    response = client.get("/accounts/two-factor/setup/?replace=1")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/")


def test_logout_is_post_only(client: Client, make_user: Callable[..., Any]) -> None:
    make_user("alice")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_api_token_created_shown_once_and_revoked(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    from beffroi.accounts.models import ApiToken
    from beffroi.audit.models import AuditEvent

    user = make_user("alice", org=org, role="analyst")
    client = verified_client(user)
    response = client.post("/accounts/tokens/new/", {"name": "export", "expires_in": "30"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("bfr_") and key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert ApiToken.authenticate(key) == token
    assert token.expires_at is not None
    # The profile page never shows it again.
    assert key not in client.get("/accounts/profile/").content.decode()

    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == user and event.channel == "ui" and event.organization is None
    assert key not in str(event.after) and "key_hash" not in (event.after or {})

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked
    assert ApiToken.authenticate(key) is None
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=user).count() == 1


def test_cannot_revoke_someone_elses_token(
    make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    from beffroi.accounts.models import ApiToken

    token, _ = ApiToken.issue(make_user("owner"), "script")
    client = verified_client(make_user("mallory"))
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert not token.revoked


def test_change_password(
    make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    user = make_user("alice")
    client = verified_client(user)
    new = "another-long-passphrase-99"
    response = client.post(
        "/accounts/profile/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert client.get("/accounts/profile/").status_code == 200  # still logged in
    assert "user.password_change" in audit_actions()


def test_django_admin_is_for_superusers_through_the_application_login(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    anonymous = Client().get("/django-admin/")
    assert anonymous.status_code == 302
    login = Client().get(anonymous["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/accounts/login/")

    staff = make_user("staff", org=org, role="admin", is_staff=True)
    client = verified_client(staff)
    assert client.get("/django-admin/").status_code == 302

    root = make_user("root", is_staff=True, is_superuser=True)
    client = verified_client(root)
    assert client.get("/django-admin/").status_code == 200
    assert client.get("/django-admin/items/item/").status_code == 200
    assert client.get("/django-admin/sources/source/").status_code == 200
