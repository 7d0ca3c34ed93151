"""Accounts that imitate the organization's protected identities: ``beffroi.analysis.impersonation``
run over the organization's accounts, each suspect stored as a flag for a person to decide
(``services.decide_impersonation``), and the report to send the platform."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from beffroi.analysis.impersonation import Account, find_impersonators
from beffroi.analysis.impersonation import ProtectedIdentity as Identity
from beffroi.items.models import Author
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import cursor_for, reset
from beffroi.veille.models import ImpersonationFlag, ProtectedIdentity

ANALYZER = "impersonation"
BATCH_SIZE = 2000


def handle_key(handle: str) -> str:
    """A handle as written anywhere: ``@Name``, ``name@instance``, a profile address."""
    value = handle.strip().casefold()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :].rstrip("/").rsplit("/", 1)[-1]
    return value.lstrip("@")


def _genuine(identities: list[ProtectedIdentity]) -> set[str]:
    return {
        handle_key(handle)
        for identity in identities
        for handle in [*identity.handles, *identity.allowed]
        if str(handle).strip()
    }


def own_handles(organization: Organization) -> set[str]:
    """The organization's own accounts: the official handles of its protected identities."""
    return {
        handle_key(str(handle))
        for handles in ProtectedIdentity.objects.filter(organization=organization).values_list(
            "handles", flat=True
        )
        for handle in handles
        if str(handle).strip()
    }


def _identity(identity: ProtectedIdentity) -> Identity:
    return Identity(
        identity.name,
        handles=tuple(handle_key(h) for h in identity.handles),
        display_names=(identity.name,),
        avatar_hashes=tuple(identity.avatar_hashes),
    )


def _account(author: Author) -> Account:
    extra: dict[str, Any] = author.extra if isinstance(author.extra, dict) else {}
    return Account(
        author.platform,
        author.platform_id,
        author.handle,
        author.display_name,
        str(extra.get("avatar_hash", "")),
    )


def scan_accounts(organization: Organization) -> list[ImpersonationFlag]:
    """Check the accounts not yet checked against the protected identities; returns the new
    flags (an account already flagged, allowed or dismissed is not flagged again)."""
    identities = list(ProtectedIdentity.objects.filter(organization=organization))
    cursor = cursor_for(organization, ANALYZER)
    if not identities:
        return []
    genuine = _genuine(identities)
    by_name = {identity.name: identity for identity in identities}
    checked = [_identity(identity) for identity in identities]
    flags: list[ImpersonationFlag] = []
    while True:
        authors = list(
            Author.objects.filter(organization=organization, pk__gt=cursor.last_item_id).order_by(
                "pk"
            )[:BATCH_SIZE]
        )
        if not authors:
            return flags
        candidates = [author for author in authors if handle_key(author.handle) not in genuine]
        by_key = {(a.platform, a.platform_id): a for a in candidates}
        suspects = find_impersonators([_account(a) for a in candidates], checked)
        with transaction.atomic():
            for suspect in suspects:
                author = by_key[(suspect.account.platform, suspect.account.platform_id)]
                flag, created = ImpersonationFlag.objects.get_or_create(
                    identity=by_name[suspect.identity],
                    author=author,
                    defaults={
                        "organization": organization,
                        "score": suspect.score,
                        "evidence": list(suspect.reasons),
                    },
                )
                if created:
                    flags.append(flag)
            # The cursor counts authors here, not items.
            cursor.last_item_id = authors[-1].pk
            cursor.save(update_fields=["last_item_id", "updated_at"])


def identities_changed(organization: Organization) -> None:
    """Every account is checked again against the new list of identities."""
    reset(organization, ANALYZER)


def report_language(organization: Organization) -> str:
    """The language the report is written in (the organization's)."""
    from django.conf import settings

    return organization.language or settings.LANGUAGE_CODE


def report_text(flag: ImpersonationFlag) -> str:
    """The text to paste in the platform's impersonation report form, in the organization's
    language: who is imitated, by which account, on what evidence."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    from beffroi.sources.forms import platform_label
    from beffroi.veille.wording import evidence_sentence

    author, identity = flag.author, flag.identity
    organization = flag.organization
    with translation.override(report_language(organization)):
        official = ", ".join(identity.handles) or _("(none declared)")
        lines = [
            _("Impersonation report from %(organization)s.") % {"organization": organization.name},
            "",
            _("The account @%(handle)s (“%(name)s”, %(platform)s) imitates %(identity)s.")
            % {
                "handle": author.handle,
                "name": author.display_name,
                "platform": platform_label(author.platform),
                "identity": identity.name,
            },
            _("Profile address: %(url)s") % {"url": author.url or _("unknown")},
            _("Official accounts of %(identity)s: %(official)s")
            % {"identity": identity.name, "official": official},
            _("Evidence found by comparison of names, handles and pictures: %(evidence)s")
            % {"evidence": " ".join(evidence_sentence(str(reason)) for reason in flag.evidence)},
            _("First seen: %(date)s") % {"date": author.first_seen_at.date().isoformat()},
            "",
            _(
                "We ask you to remove this account, which misleads the public by passing itself "
                "off as %(identity)s."
            )
            % {"identity": identity.name},
        ]
    return "\n".join(lines)
