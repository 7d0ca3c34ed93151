"""Changes to organizations and memberships; each writes an audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from beffroi.audit.services import Actor, record, snapshot
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Role


@transaction.atomic
def create_organization(
    actor: Actor, *, slug: str, name: str, kind: str = Organization.Kind.TOWN_HALL, **extra: Any
) -> Organization:
    org = Organization(slug=slug, name=name, kind=kind, **extra)
    org.full_clean()
    org.save()
    record(actor, "organization.create", organization=org, obj=org, after=snapshot(org))
    # Every organization starts with Beffroi's default charter live, so that what it ingests
    # is judged from the first sync; its admins then adapt it.
    from beffroi.charter.services import ensure_default_charter

    ensure_default_charter(org, actor)
    return org


@transaction.atomic
def update_organization(actor: Actor, org: Organization, **changes: Any) -> Organization:
    before = snapshot(org)
    for field, value in changes.items():
        setattr(org, field, value)
    org.full_clean()
    org.save()
    record(
        actor, "organization.update", organization=org, obj=org, before=before, after=snapshot(org)
    )
    return org


@transaction.atomic
def add_member(actor: Actor, org: Organization, user: Any, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s") % {"role": role})
    membership, created = Membership.objects.get_or_create(
        user=user, organization=org, defaults={"role": role}
    )
    if not created:
        return change_role(actor, membership, role)
    record(actor, "membership.create", organization=org, obj=membership, after=snapshot(membership))
    return membership


def _is_last_admin(membership: Membership) -> bool:
    return (
        membership.role == Role.ADMIN
        and not Membership.objects.filter(organization=membership.organization, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def change_role(actor: Actor, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s") % {"role": role})
    if role == membership.role:
        return membership
    if _is_last_admin(membership):
        raise ValidationError(_("An organization must keep at least one administrator."))
    before = snapshot(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        actor,
        "membership.update",
        organization=membership.organization,
        obj=membership,
        before=before,
        after=snapshot(membership),
    )
    return membership


@transaction.atomic
def remove_member(actor: Actor, membership: Membership) -> None:
    if _is_last_admin(membership):
        raise ValidationError(_("An organization must keep at least one administrator."))
    before = snapshot(membership)
    org = membership.organization
    record(actor, "membership.delete", organization=org, obj=membership, before=before)
    membership.delete()
