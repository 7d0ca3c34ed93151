"""Loading the demo town into the database (``beffroi demo``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from beffroi.audit.services import Actor, record
from beffroi.charter.services import ensure_default_charter
from beffroi.demo.builder import build_demo_town
from beffroi.demo.town import DemoTown
from beffroi.items.ingest import ingest
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Role
from beffroi.sources.models import DEMO_SETTING, Source

if TYPE_CHECKING:
    from beffroi.items.models import Item
    from beffroi.veille.models import CheckedClaim

DEMO_PASSWORD = "beffroi-demo"  # noqa: S105 (demo accounts, printed by `beffroi demo`)
#: A fixed base32 secret so the demo administrator can be added to an authenticator app.
DEMO_TOTP_SECRET_HEX = "3132333435363738393031323334353637383930"  # noqa: S105 (RFC 6238 test key)
DEMO_USERS = [
    ("maire", Role.ADMIN, "Claire Dumas"),
    ("agent", Role.MODERATOR, "Karim Benali"),
    ("analyste", Role.ANALYST, "Sophie Martin"),
    ("com", Role.PUBLISHER, "Lucas Petit"),
    ("cabinet", Role.APPROVER, "Élise Caron"),
    ("elu", Role.VIEWER, "Jeanne Moreau"),
]


@dataclass
class DemoSummary:
    organization: Organization
    created: int
    existing: int
    users: list[tuple[str, str]]
    totp_secret_base32: str


def load_demo(
    now: datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> DemoSummary:
    """Create the demo town, its sources, users and items; running it twice adds nothing."""
    import base64

    town = build_demo_town(now or datetime.now(UTC))
    actor = Actor(None, "cli", "cli:demo")
    with transaction.atomic():
        org, created_org = Organization.objects.get_or_create(
            slug=town.slug,
            defaults={"name": town.name, "kind": town.kind, "language": town.language},
        )
        if created_org:
            record(actor, "demo.load", organization=org, obj=org, after={"slug": org.slug})
        users = _demo_users(org)
        # The default charter, live, so that the demo town's comments are judged by it.
        ensure_default_charter(org, actor)
    created = existing = 0
    total = sum(len(s.items) for s in town.sources)
    done = 0
    for demo_source in town.sources:
        source, _ = Source.objects.get_or_create(
            organization=org,
            name=demo_source.name,
            defaults={
                "platform": demo_source.platform,
                "kind": demo_source.kind,
                # Marked as a demo source: it has no credentials, so its platform actions
                # are simulated (and shown as such) instead of refused.
                "settings": {**demo_source.settings, DEMO_SETTING: True},
                # Demo sources point at .invalid hosts: never scheduled for a sync.
                "enabled": False,
                "status": Source.Status.OK,
            },
        )
        if not source.is_demo:
            # A town loaded before demo sources were marked.
            source.settings = {**(source.settings or {}), DEMO_SETTING: True}
            source.save(update_fields=["settings"])
        result = ingest(source, demo_source.items)
        created, existing = created + result.created, existing + result.existing
        done += len(demo_source.items)
        if progress is not None:
            progress(done, total)
    _demo_veille(org, town)
    secret = base64.b32encode(bytes.fromhex(DEMO_TOTP_SECRET_HEX)).decode()
    return DemoSummary(org, created, existing, users, secret)


#: The watches a town hall's community manager would set up. The water watch is more
#: sensitive than the default (0.5): a slowly swelling rumour is what the town fears most.
DEMO_WATCHES = [
    (
        "Eau du robinet",
        'eau OR robinet OR "tap water" OR water OR ماء OR الماء OR مياه',
        0.6,
    ),
    ("Place du marché", '"place du marché" OR parking OR #SauvonsLaPlaceDuMarché', 0.5),
    ("La maire", "Dumas OR maire OR mayor", 0.5),
]


def _demo_veille(org: Organization, town: DemoTown) -> None:
    """What the town declares to its veille: protected names, watches, a fact-check feed
    and its own denial of the water rumour. The detectors find the rest."""
    from importlib import resources

    from beffroi.analysis.claims.library import claims_from_jsonld
    from beffroi.items.models import Item
    from beffroi.veille.claims import add_claims, add_rebuttal
    from beffroi.veille.models import CheckedClaim, ProtectedIdentity, Watch

    for identity in town.identities:
        ProtectedIdentity.objects.get_or_create(
            organization=org,
            name=identity.name,
            defaults={"kind": identity.kind, "handles": list(identity.handles)},
        )
    for name, query, sensitivity in DEMO_WATCHES:
        Watch.objects.get_or_create(
            organization=org, name=name, defaults={"query": query, "sensitivity": sensitivity}
        )
    feed = resources.files("beffroi.demo").joinpath("fact-checks.json").read_text("utf-8")
    add_claims(org, claims_from_jsonld(json.loads(feed)))
    denial = (
        Item.objects.filter(
            organization=org,
            platform="facebook",
            kind=Item.Kind.POST,
            text__contains="Des messages circulent affirmant que l'eau du robinet",
        )
        .order_by("created_at")
        .first()
    )
    if denial is not None:
        claim = CheckedClaim.objects.filter(item=denial).first() or add_rebuttal(
            denial,
            "L'eau du robinet de Saint-Aubin est contaminée (bactérie, travaux rue des Tanneurs).",
            "Faux",
            None,
        )
        _demo_rebuttal(org, claim, denial)


def _demo_rebuttal(org: Organization, claim: CheckedClaim, denial: Item) -> None:
    """The town's denial as the reply its counter-speech library suggests against the water
    rumour: written by its community manager, approved by the cabinet."""
    from django.utils.text import Truncator

    from beffroi.audit.models import AuditEvent
    from beffroi.counterspeech import services as library
    from beffroi.counterspeech.models import Entry, Strategy
    from beffroi.counterspeech.validation import MAX_TITLE, EntryData
    from beffroi.organizations.context import OrgContext

    # The key a rebuttal moved from the veille has (counterspeech migration 0003).
    key = f"rebuttal-{claim.key}"
    if Entry.objects.for_org(org).filter(key=key).exists():
        return

    def member(username: str) -> OrgContext:
        membership = Membership.objects.select_related("user", "organization").get(
            organization=org, user__username=username
        )
        return OrgContext.for_member(membership, AuditEvent.Channel.CLI)

    # No source: the claim's address is the denial itself, on a demo host no one can read.
    written = EntryData(
        strategy=Strategy.FACTS,
        texts=[(denial.language or "fr", denial.text)],
        title=Truncator(claim.statement).chars(MAX_TITLE),
        claims=[claim],
        key=key,
    )
    entry = library.create_entry(
        member("com"),
        written,
        submit=True,
        reason="the town's denial of the water rumour",
        origin=Entry.Origin.REBUTTAL,
    )
    library.approve(member("cabinet"), entry)


def _demo_users(org: Organization) -> list[tuple[str, str]]:
    User = get_user_model()
    out = []
    for username, role, full_name in DEMO_USERS:
        first, _, last = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": role})
        if role == Role.ADMIN and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(
                user=user, name="demo", key=DEMO_TOTP_SECRET_HEX, confirmed=True
            )
        out.append((username, str(role)))
    return out
