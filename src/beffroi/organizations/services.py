"""Changes to organizations, memberships and invitations; each writes an audit event.

An administrator never adds an existing account directly: :func:`invite` records an
invitation that only the account's owner can accept (:func:`accept_invitation`), decline,
or that lapses; the organization is told the same thing whether or not an account matched.
:func:`add_member` makes a member at once, for the operator's command line, for an account
the administrator has just created, and for an accepted invitation.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.accounts.models import hash_token
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.core.mail import relay_configured
from beffroi.jobs.engine import enqueue
from beffroi.organizations.models import Invitation, Membership, Organization
from beffroi.organizations.roles import Role
from beffroi.organizations.signals import organization_created

T = TypeVar("T")

INVITATION_EMAIL_TASK = "organizations.email_invitation"
#: What the organization's trail keeps of an invitation: never the account it matched.
INVITATION_AUDIT_FIELDS = ["identifier", "role", "state", "invited_by", "expires_at", "answered_at"]


@transaction.atomic
def create_organization(
    actor: Actor, *, slug: str, name: str, kind: str = Organization.Kind.TOWN_HALL, **extra: Any
) -> Organization:
    org = Organization(slug=slug, name=name, kind=kind, **extra)
    org.full_clean()
    org.save()
    record(actor, AuditAction.ORGANIZATION_CREATE, organization=org, obj=org, after=snapshot(org))
    organization_created.send(sender=Organization, organization=org, actor=actor)
    return org


@transaction.atomic
def update_organization(actor: Actor, org: Organization, **changes: Any) -> Organization:
    before = snapshot(org)
    for field, value in changes.items():
        setattr(org, field, value)
    org.full_clean()
    org.save()
    record(
        actor,
        AuditAction.ORGANIZATION_UPDATE,
        organization=org,
        obj=org,
        before=before,
        after=snapshot(org),
    )
    return org


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s") % {"role": role})


@transaction.atomic
def add_member(
    actor: Actor, org: Organization, user: Any, role: str, *, given_email: str = ""
) -> Membership:
    """Make ``user`` a member now (or change their role). ``given_email`` is an address the
    organization gave for them, the only one its administrators will see."""
    _check_role(role)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=org, defaults={"role": role, "given_email": given_email}
    )
    if not created:
        return change_role(actor, membership, role)
    record(
        actor,
        AuditAction.MEMBERSHIP_CREATE,
        organization=org,
        obj=membership,
        after=snapshot(membership),
    )
    return membership


@transaction.atomic
def create_account(
    actor: Actor, org: Organization, username: str, email: str, password: str, role: str
) -> Membership:
    """A new account, member of ``org`` at once (the administrator or the operator creates
    it for the person). The address typed is one the organization gave: its administrators
    may see it."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    record(actor, AuditAction.USER_CREATE, organization=org, obj=user, after=snapshot(user))
    return add_member(actor, org, user, role, given_email=email)


def _is_last_admin(membership: Membership) -> bool:
    return (
        membership.role == Role.ADMIN
        and not Membership.objects.filter(organization=membership.organization, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def change_role(actor: Actor, membership: Membership, role: str) -> Membership:
    _check_role(role)
    if role == membership.role:
        return membership
    if _is_last_admin(membership):
        raise ValidationError(_("An organization must keep at least one administrator."))
    before = snapshot(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        actor,
        AuditAction.MEMBERSHIP_UPDATE,
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
    record(actor, AuditAction.MEMBERSHIP_DELETE, organization=org, obj=membership, before=before)
    membership.delete()


# --- invitations ------------------------------------------------------------------------------


def find_account(identifier: str) -> Any:
    """The active account with this username, or the only one with this e-mail, or ``None``
    (an address shared by several accounts matches none of them)."""
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=identifier).first()
    if user is None and "@" in identifier:
        matches = list(users.filter(email__iexact=identifier)[:2])
        user = matches[0] if len(matches) == 1 else None
    return user


def _audit_view(invitation: Invitation) -> dict[str, Any]:
    return snapshot(invitation, INVITATION_AUDIT_FIELDS)


def _already_pending(identifier: str) -> ValidationError:
    return ValidationError(
        _("An invitation to %(identifier)s is already pending.") % {"identifier": identifier}
    )


def invite(actor: Actor, org: Organization, identifier: str, role: str) -> Invitation:
    """Invite the account named by ``identifier`` (a username or an e-mail) to ``org``.

    The invitation is recorded, and answered the same way, whether or not an account matches:
    an administrator cannot learn which accounts or addresses exist on the instance. The
    account's owner sees it after login, and by e-mail when an SMTP relay is configured.
    """
    _check_role(role)
    identifier = identifier.strip()
    if not identifier:
        raise ValidationError(_("Give a username or an e-mail address."))
    invitee = find_account(identifier)
    if invitee is not None:
        membership = Membership.objects.filter(organization=org, user=invitee).first()
        # Said only where the administrator already sees it: the member's username, or the
        # address the organization knows them by.
        if membership is not None and (
            identifier == invitee.get_username() or membership.email_shown_to(actor.user)
        ):
            raise ValidationError(
                _("%(identifier)s is already a member; change their role in the list.")
                % {"identifier": identifier}
            )
    expire_invitations(Invitation.objects.filter(organization=org, identifier__iexact=identifier))
    invitation = Invitation(
        organization=org,
        identifier=identifier,
        invitee=invitee,
        role=role,
        invited_by=actor.user if getattr(actor.user, "is_authenticated", False) else None,
    )
    invitation.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            if Invitation.objects.filter(
                organization=org, identifier__iexact=identifier, state=Invitation.State.PENDING
            ).exists():
                raise _already_pending(identifier)
            invitation.save()
            record(
                actor,
                AuditAction.INVITATION_CREATE,
                organization=org,
                obj=invitation,
                after=_audit_view(invitation),
            )
            if invitee is not None and invitee.email and relay_configured():
                # No organization on the job: its list must not tell that an account matched.
                enqueue(
                    INVITATION_EMAIL_TASK,
                    {"invitation_id": invitation.pk},
                    dedupe_key=f"{INVITATION_EMAIL_TASK}:{invitation.pk}",
                )
    except IntegrityError as exc:  # the same invitation, sent at the same moment
        raise _already_pending(identifier) from exc
    return invitation


def issue_link_key(invitation: Invitation) -> str:
    """A new key for the link of an invitation's e-mail; only its hash is stored, and it
    replaces the previous one (the latest e-mail's link is the one that opens it)."""
    key = secrets.token_urlsafe(32)
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(key))
    return key


def invitation_for_key(key: str) -> Invitation | None:
    if not key:
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_token(key))
        .first()
    )


def _close(actor: Actor, invitation: Invitation, state: str, action: str) -> None:
    before = _audit_view(invitation)
    invitation.state = state
    invitation.answered_at = timezone.now()
    invitation.token_hash = ""  # the e-mail's link opens nothing any more
    invitation.save(update_fields=["state", "answered_at", "token_hash"])
    record(
        actor,
        action,
        organization=invitation.organization,
        obj=invitation,
        before=before,
        after=_audit_view(invitation),
    )


def _locked(invitation: Invitation) -> Invitation:
    # Not joined to the invitee: PostgreSQL locks no row of a nullable outer join.
    return (
        Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    )


def _closed_reason(invitation: Invitation) -> str:
    if invitation.state == Invitation.State.EXPIRED:
        return _("This invitation has expired; ask for a new one.")
    return _("This invitation is no longer open (%(state)s).") % {
        "state": invitation.get_state_display()
    }


def _while_open(invitation: Invitation, act: Callable[[Invitation], T]) -> T:
    """``act`` on the invitation under a row lock, so that two answers cannot both win, if it
    is still open; else refused with the reason (a lapsed one is first recorded as expired)."""
    with transaction.atomic():
        locked = _locked(invitation)
        if locked.is_open:
            return act(locked)
        if locked.state == Invitation.State.PENDING:
            _close(Actor.system(), locked, Invitation.State.EXPIRED, AuditAction.INVITATION_EXPIRE)
    invitation.refresh_from_db()
    raise ValidationError(_closed_reason(invitation))


def _check_invitee(actor: Actor, invitation: Invitation) -> None:
    if invitation.invitee_id is None or invitation.invitee_id != actor.user.pk:
        raise PermissionDenied(_("This invitation is not addressed to you."))


def _join(actor: Actor, invitation: Invitation) -> Membership:
    org, user = invitation.organization, invitation.invitee
    if user is None:  # never after _check_invitee: deleting an account deletes its invitations
        raise PermissionDenied(_("This invitation is not addressed to you."))
    # The address the administrator typed becomes visible to them once its owner accepts.
    typed = invitation.identifier
    given = typed if "@" in typed and typed.casefold() == (user.email or "").casefold() else ""
    membership = Membership.objects.filter(organization=org, user=user).first()
    if membership is None:
        membership = add_member(actor, org, user, invitation.role, given_email=given)
    elif given and not membership.given_email:
        membership.given_email = given
        membership.save(update_fields=["given_email"])
    # Every open invitation of this organization to this account is answered by this one.
    siblings = Invitation.objects.select_for_update().filter(
        organization=org, invitee=user, state=Invitation.State.PENDING
    )
    for each in siblings.select_related("organization"):
        _close(actor, each, Invitation.State.ACCEPTED, AuditAction.INVITATION_ACCEPT)
    return membership


def accept_invitation(actor: Actor, invitation: Invitation) -> Membership:
    """The invitee joins with the invitation's role (a member already keeps their role)."""
    _check_invitee(actor, invitation)
    return _while_open(invitation, lambda locked: _join(actor, locked))


def decline_invitation(actor: Actor, invitation: Invitation) -> Invitation:
    _check_invitee(actor, invitation)

    def decline(locked: Invitation) -> Invitation:
        _close(actor, locked, Invitation.State.DECLINED, AuditAction.INVITATION_DECLINE)
        return locked

    return _while_open(invitation, decline)


def revoke_invitation(actor: Actor, invitation: Invitation) -> Invitation:
    """An administrator withdraws an invitation that is still open."""

    def revoke(locked: Invitation) -> Invitation:
        _close(actor, locked, Invitation.State.REVOKED, AuditAction.INVITATION_REVOKE)
        return locked

    return _while_open(invitation, revoke)


def expire_invitations(invitations: Any = None) -> int:
    """Record as expired the pending invitations (of ``invitations``, or all) whose time is
    over; returns how many. Idempotent: the periodic sweep and each new invitation call it."""
    queryset = Invitation.objects.all() if invitations is None else invitations
    stale = queryset.filter(state=Invitation.State.PENDING, expires_at__lte=timezone.now())
    count = 0
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = (
                Invitation.objects.select_for_update()
                .select_related("organization")
                .filter(pk=pk, state=Invitation.State.PENDING)
                .first()
            )
            if locked is not None:
                _close(
                    Actor.system(), locked, Invitation.State.EXPIRED, AuditAction.INVITATION_EXPIRE
                )
                count += 1
    return count
