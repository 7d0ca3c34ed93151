"""The demo town's publishing desk: the cabinet's approval workflow, a media in the library,
the posts of the last days (published, simulated: demo accounts), the coming weeks' calendar,
one post waiting for the mayor's approval, one that failed with its reason, the weekly market
and an electoral reserve period — each through the publishing services, as people would."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.organizations.models import Organization
from beffroi.publishing import sending, services
from beffroi.publishing.models import (
    ApprovalStep,
    ApprovalWorkflow,
    MediaAsset,
    Post,
    PostVariant,
)
from beffroi.publishing.services import VariantInput
from beffroi.sources.failures import REASON_CREDENTIALS
from beffroi.sources.models import Source

PARIS = ZoneInfo("Europe/Paris")

#: (days from today, hour, title, text, labels, accounts, with the image)
PUBLISHED = [
    (
        -6,
        9,
        "Collecte des encombrants",
        "La collecte des encombrants a lieu mardi dans le "
        "quartier des Tilleuls. Sortez-les la veille au soir, pas avant.",
        ["propreté"],
        ("facebook", "mastodon"),
        False,
    ),
    (
        -4,
        12,
        "Travaux rue des Écoles",
        "Rue des Écoles : chaussée refaite du 10 au 14. "
        "Déviation par l'avenue de la Gare, accès riverains maintenu.",
        ["voirie"],
        ("facebook", "mastodon"),
        False,
    ),
    (
        -2,
        18,
        "Concert de l'harmonie",
        "Ce soir 20 h, concert de l'harmonie municipale à la salle des fêtes. Entrée libre.",
        ["culture"],
        ("facebook", "instagram", "mastodon"),
        True,
    ),
]
UPCOMING = [
    (
        2,
        10,
        "Inscriptions à la cantine",
        "Les inscriptions à la cantine pour janvier sont "
        "ouvertes jusqu'au 20 sur le portail famille : https://saint-aubin.demo.invalid/famille",
        ["écoles"],
        ("facebook", "mastodon"),
    ),
    (
        5,
        8,
        "Conseil municipal",
        "Le conseil municipal se réunit jeudi à 19 h en mairie. "
        "Séance publique, retransmise en direct.",
        ["institution"],
        ("facebook", "mastodon"),
    ),
    (
        9,
        17,
        "Illuminations de Noël",
        "Les illuminations de Noël s'allument vendredi à 18 h "
        "place de la mairie, avec la chorale des écoles.",
        ["culture"],
        ("facebook", "mastodon"),
    ),
]


def _image() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (1080, 1080), (24, 64, 112))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((140, 300, 940, 780), outline=(255, 214, 102), width=18)
    draw.text((420, 520), "Saint-Aubin", fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile("harmonie.jpg", buffer.getvalue(), content_type="image/jpeg")


def _at(days: int, hour: int) -> datetime:
    day = timezone.localdate(timezone.now(), PARIS) + timedelta(days=days)
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS)


def _accounts(organization: Organization) -> dict[str, Source]:
    found: dict[str, Source] = {}
    for source in Source.objects.for_org(organization).order_by("id"):
        if source.is_demo and source.kind == Source.Kind.ACCOUNT:
            found.setdefault(source.platform, source)
    return found


def _variants(
    accounts: dict[str, Source], platforms: tuple[str, ...], text: str, image: MediaAsset | None
) -> list[VariantInput]:
    return [
        VariantInput(
            accounts[platform],
            text=text,
            media=(image,) if image is not None and platform == "instagram" else (),
        )
        for platform in platforms
        if platform in accounts
    ]


def load_demo_publishing(organization: Organization) -> int:
    """Replay the town's publishing once (a second call changes nothing); returns its posts."""
    from beffroi.publishing.media import save_upload

    if Post.objects.for_org(organization).exists():
        return Post.objects.for_org(organization).count()
    users = {
        user.username: user
        for user in get_user_model().objects.filter(memberships__organization=organization)
    }
    com, maire = users.get("com"), users.get("maire")
    cabinet = users.get("cabinet")
    author = Actor(com, "ui")
    accounts = _accounts(organization)
    settings = services.settings_of(organization)
    settings.own_domains = "saint-aubin.demo.invalid"
    settings.utm_source = "beffroi"
    settings.save()
    image = save_upload(
        Actor(com, "ui"),
        organization,
        _image(),
        "Affiche bleue du concert de l'harmonie municipale, cadre doré, nom de la ville.",
        "Affiche du concert",
    )
    # Published before the demo opens: no workflow yet at that time.
    for days, hour, title, text, labels, platforms, with_image in PUBLISHED:
        post = services.save_post(
            author,
            organization,
            _variants(accounts, platforms, text, image if with_image else None),
            title=title,
            labels=labels,
            scheduled_at=_at(days, hour),
        )
        services.submit(author, post)
        services.release_due(now=timezone.now(), organization_id=organization.pk)
        for variant in post.variants.all():
            sending.publish(variant.pk)
        # Dated as if each went out at its time (the demo replays the past now).
        Post.objects.filter(pk=post.pk).update(published_at=post.scheduled_at)
        PostVariant.objects.filter(post=post).update(published_at=post.scheduled_at)
    # One that failed: the Instagram token had expired (the platform's refusal, recorded
    # as the connector would have reported it).
    failed = services.save_post(
        author,
        organization,
        _variants(
            accounts, ("instagram",), "Retour en images sur le concert de l'harmonie.", image
        ),
        title="Retour sur le concert",
        scheduled_at=_at(-1, 11),
    )
    services.submit(author, failed)
    services.release_due(now=timezone.now(), organization_id=organization.pk)
    for variant in failed.variants.all():
        sending.finish_variant(
            variant,
            PostVariant.State.FAILED,
            reason=REASON_CREDENTIALS,
            detail="Demo: Instagram refused the access token (expired); reconnect the account.",
        )
    services.settle(failed.pk)
    # From now on the cabinet approves what goes out.
    workflow = ApprovalWorkflow.objects.create(organization=organization, name="Cabinet du maire")
    step = ApprovalStep.objects.create(
        workflow=workflow, position=1, name="Cabinet", allow_external=True
    )
    step.approvers.set([user for user in (maire, cabinet) if user is not None])
    approver = Actor(cabinet or maire, "ui")
    for days, hour, title, text, labels, platforms in UPCOMING:
        post = services.save_post(
            author,
            organization,
            _variants(accounts, platforms, text, None),
            title=title,
            labels=labels,
            scheduled_at=_at(days, hour),
        )
        post = services.submit(author, post)
        services.decide(approver, post, True, "Validé.")
    market = services.save_post(
        author,
        organization,
        _variants(
            accounts,
            ("facebook", "mastodon"),
            "Le marché a lieu samedi matin place du Marché, de 8 h à 13 h.",
            None,
        ),
        title="Marché du samedi",
        labels=["vie locale"],
        scheduled_at=_at(_days_to_friday(), 17),
        recurrence="FREQ=WEEKLY",
    )
    services.decide(approver, services.submit(author, market), True)
    waiting = services.save_post(
        author,
        organization,
        _variants(
            accounts,
            ("facebook", "mastodon"),
            "Vœux du maire : rendez-vous le 9 janvier à 18 h 30 à la salle des fêtes.",
            None,
        ),
        title="Vœux du maire",
        labels=["institution"],
        scheduled_at=_at(12, 9),
    )
    services.submit(author, waiting)
    services.save_window(
        Actor(maire, "ui"),
        organization,
        "Réserve électorale (élection partielle)",
        _at(20, 0),
        _at(27, 20),
        "Période de réserve avant l'élection municipale partielle : aucune communication "
        "institutionnelle.",
    )
    return Post.objects.for_org(organization).count()


def _days_to_friday() -> int:
    today = timezone.localdate(timezone.now(), PARIS)
    return (4 - today.weekday()) % 7 or 7
