"""Changes to people's own accounts; each writes an audit event, whatever face asked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beffroi.accounts.models import ApiToken
from beffroi.audit.services import Actor, record, snapshot


def issue_api_token(
    actor: Actor, user: Any, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token of ``user``; the clear key is returned once, only its hash is kept."""
    token, key = ApiToken.issue(user, name, expires_at=expires_at)
    record(actor, "api_token.create", obj=token, after=snapshot(token))
    return token, key
