"""Roles and what each may do: the one place permissions are decided."""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MODERATOR = "moderator", _("Moderator")
    ANALYST = "analyst", _("Analyst")
    PUBLISHER = "publisher", _("Publisher")
    APPROVER = "approver", _("Approver")
    VIEWER = "viewer", _("Viewer")


class Capability(enum.StrEnum):
    VIEW = "view"  # read the inbox, items, authors, stats
    MODERATE = "moderate"  # decide on items, work the case queue
    INGEST = "ingest"  # import files, run syncs
    # Reading the veille's findings (narratives, fact-checks and what repeats them, campaigns,
    # impersonators) is apart from working on them: moderators meet them in their day's work.
    READ_VEILLE = "read_veille"  # read narratives, fact-checks, campaigns, impersonators
    ANALYZE = "analyze"  # edit the veille: watches, narratives, claims, reviews; analysis exports
    ANSWER = "answer"  # answer citizens: conversations, replies, saved replies
    PUBLISH = "publish"  # plan and publish posts
    APPROVE = "approve"  # approve posts written by others (a cabinet, an elected official)
    MANAGE = "manage"  # members, sources, credentials, organization settings


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.MODERATOR: frozenset(
        {
            Capability.VIEW,
            Capability.MODERATE,
            Capability.ANSWER,
            Capability.INGEST,
            Capability.READ_VEILLE,
        }
    ),
    Role.ANALYST: frozenset({Capability.VIEW, Capability.READ_VEILLE, Capability.ANALYZE}),
    # The communication role answers citizens without being a moderator.
    Role.PUBLISHER: frozenset({Capability.VIEW, Capability.ANSWER, Capability.PUBLISH}),
    # An approver (the cabinet) reads and approves posts, and writes none.
    Role.APPROVER: frozenset({Capability.VIEW, Capability.APPROVE}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


def role_allows(role: str | None, capability: Capability) -> bool:
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())
