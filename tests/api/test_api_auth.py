"""Bearer-token authentication: every operation needs a live token, CSRF does not apply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def test_no_token_is_401_with_json(api: Any, org: Any) -> None:
    response = api.get("orgs")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_key_and_wrong_scheme_are_401(api: Any, make_user: Any, key_for: Any) -> None:
    key = key_for(make_user("alice"))
    assert api.get("orgs", "bfr_not-a-real-key").status_code == 401
    response = api.client.get("/api/v1/orgs", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 401
    assert api.get("orgs", key).status_code == 200


def test_revoked_and_expired_tokens_are_401(api: Any, make_user: Any, key_for: Any) -> None:
    user = make_user("alice")
    revoked = key_for(user, revoked=True)
    expired = key_for(user, expires_at=timezone.now() - timedelta(seconds=1))
    future = key_for(user, expires_at=timezone.now() + timedelta(days=1))
    assert api.get("orgs", revoked).status_code == 401
    assert api.get("orgs", expired).status_code == 401
    assert api.get("orgs", future).status_code == 200


def test_inactive_user_token_is_401(api: Any, make_user: Any, key_for: Any) -> None:
    user = make_user("alice")
    key = key_for(user)
    user.is_active = False
    user.save()
    assert api.get("orgs", key).status_code == 401


def test_a_session_alone_does_not_authenticate(api: Any, org: Any, make_user: Any) -> None:
    user = make_user("alice", org=org, role="admin")
    api.client.force_login(user)
    assert api.get("orgs").status_code == 401


def test_token_use_is_recorded(api: Any, make_user: Any) -> None:
    from beffroi.accounts.models import ApiToken

    token, key = ApiToken.issue(make_user("alice"), "ci")
    assert token.last_used_at is None
    api.get("orgs", key)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_writes_need_no_csrf_token(api: Any, org: Any, member_key: Any) -> None:
    # The client enforces CSRF checks; a bearer-authenticated POST still goes through.
    key = member_key(org, "admin")
    response = api.post(
        f"orgs/{org.slug}/sources", key, {"name": "Import", "platform": "file", "kind": "import"}
    )
    assert response.status_code == 201, response.content
