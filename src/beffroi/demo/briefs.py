"""The demo's coordinated response: the national cell's brief to the town about the water
rumour (the posts that spread it, the cell's entries to answer with, what to do and not to
do), the partnership it travels on, and the town's answer counted back to the cell — each
through the briefs' services, as the two organizations' people would."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.briefs import services
from beffroi.briefs.models import Brief, BriefDelivery
from beffroi.demo.counterspeech import DemoCounterSpeech
from beffroi.items.models import Item
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Membership, Organization
from beffroi.veille.models import ClaimMatch

BRIEF_TITLE = "Rumeur de l'eau contaminée à Saint-Aubin"
BRIEF_SUMMARY = (
    "Depuis trois jours, des messages affirment que l'eau du robinet de Saint-Aubin est "
    "contaminée après les travaux de la rue des Tanneurs. Les analyses de l'ARS sont "
    "conformes. Répondez aux messages qui circulent le plus, calmement, avec les sources."
)
DOS = [
    "Citer les analyses publiques de l'ARS et le communiqué de la mairie.",
    "Répondre à la personne, pas à la rumeur : reconnaître l'inquiétude.",
    "Donner le numéro du service des eaux pour les questions.",
]
DONTS = [
    "Ne pas se moquer des personnes inquiètes.",
    "Ne pas reprendre le titre de la rumeur en tête de réponse.",
    "Ne pas promettre ce que la mairie n'a pas annoncé.",
]
#: The cell's entries the brief suggests (those that exist in its library).
SUGGESTED = ("cellule-alerte-sanitaire", "cellule-verifier-avant-partager")
#: Posts of the rumour given to answer.
POSTS = 4


def _member(organization: Organization, username: str) -> OrgContext:
    membership = Membership.objects.select_related("user", "organization").get(
        organization=organization, user__username=username
    )
    return OrgContext.for_member(membership, AuditEvent.Channel.CLI)


def _rumour_posts(town: Organization) -> list[Item]:
    """The town's items that repeat the water claims most, latest first."""
    matched = (
        ClaimMatch.objects.for_org(town)
        .filter(claim__statement__icontains="eau du robinet")
        .values_list("item_id", flat=True)
    )
    return list(
        Item.objects.for_org(town)
        .filter(pk__in=matched)
        .select_related("author")
        .order_by("-created_at")[:POSTS]
    )


def load_demo_brief(made: DemoCounterSpeech) -> Brief | None:
    """The cell's brief to the town, once (a second call changes nothing); None when the
    town has no post of the rumour to give."""
    town, cell = made.organization, made.cell
    found = services.sent_briefs(cell).filter(title=BRIEF_TITLE).first()
    if found is not None:
        return found
    posts = _rumour_posts(town)
    if not posts:
        return None
    cellule = _member(cell, made.cell_admin.get_username())
    services.propose_partnership(cellule, town.slug)
    services.accept_partnership(_member(town, "maire"), cell)
    brief = services.create_brief(
        cellule,
        services.BriefData(
            title=BRIEF_TITLE,
            summary=BRIEF_SUMMARY,
            dos=DOS,
            donts=DONTS,
            valid_until=timezone.localdate() + timedelta(days=7),
            # The cell sees the same public posts: given by their platform and address.
            posts=[
                services.PostData(
                    url=item.url,
                    platform=item.platform,
                    platform_id=item.platform_id,
                    author_handle=item.author.handle if item.author_id else "",
                    excerpt=item.text[:280],
                )
                for item in posts
            ],
            entries=[made.cell_entries[key] for key in SUGGESTED if key in made.cell_entries],
        ),
    )
    services.send_brief(cellule, brief, [town])
    delivery = BriefDelivery.objects.get(brief=brief, organization=town)
    com = _member(town, "com")
    services.acknowledge(com, delivery)
    # The town answered the first post from the platform's own app, and said so.
    first = brief.posts.order_by("position", "id").first()
    if first is not None:
        services.declare_response(
            com, delivery, first, "https://www.facebook.com/saint-aubin-sur-loire/posts/reponse-eau"
        )
    return brief
