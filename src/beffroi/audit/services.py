"""Writing audit events: every change through the UI, the API or the CLI calls :func:`record`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from beffroi.audit.actions import AuditAction
from beffroi.audit.models import AuditEvent
from beffroi.organizations.models import Organization

#: Fields never copied into an audit event.
SECRET_FIELDS = {"password", "credentials_encrypted", "key_hash", "key", "access_token"}


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-compatible copy of a model instance's concrete fields, secrets left out."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        name = field.attname
        if name in SECRET_FIELDS or (fields is not None and field.name not in fields):
            continue
        value = getattr(obj, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif not isinstance(value, str | int | float | bool | list | dict | type(None)):
            value = str(value)
        data[field.name] = value
    # A model whose fields hold secrets inside them (a feed's key in its address) hides them.
    redact = getattr(obj, "redact_snapshot", None)
    return redact(data) if callable(redact) else data


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through which channel (ui, api, cli, system)."""

    user: Any
    channel: str
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(None, AuditEvent.Channel.SYSTEM, label)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if getattr(self.user, "is_authenticated", False):
            return str(self.user.get_username())
        return "system"


def record(
    actor: Actor,
    action: AuditAction | str,
    *,
    organization: Organization | None = None,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event; ``action`` must be one of :class:`AuditAction` (else ValueError)."""
    action = AuditAction(action)
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        organization=organization,
        actor=user,
        actor_label=actor.name,
        channel=actor.channel,
        action=action.value,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        before=before,
        after=after,
    )
