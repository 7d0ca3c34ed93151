"""Small data for the briefs' tests (and the project-wide matrices): items, a partnership, a
brief ready to send, a link with a partner of another Beffroi and the files it signs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

#: The hoax about the water, as a post on a platform: both organizations' inboxes hold it.
HOAX_PLATFORM = "facebook"
HOAX_ID = "page-1_hoax-42"
HOAX_URL = "https://facebook.example/page-1/posts/hoax-42"
#: Who signs the files of "another Beffroi" in the tests.
ELSEWHERE = {
    "instance": "https://beffroi.autre-ministere.example",
    "organization": "cellule-eau",
    "name": "Cellule eau (autre Beffroi)",
}


def system(organization: Any) -> Any:
    """The operator at the command line: every capability."""
    from beffroi.organizations.context import OrgContext

    return OrgContext.for_command_line(organization, "test")


def source_of(organization: Any, name: str = "Page", **settings: Any) -> Any:
    from beffroi.sources.models import Source

    return Source.objects.get_or_create(
        organization=organization,
        name=name,
        defaults={"platform": HOAX_PLATFORM, "settings": {"page_id": "page-1", **settings}},
    )[0]


def hoax_item(
    organization: Any, *, platform_id: str = HOAX_ID, url: str = HOAX_URL, **extra: Any
) -> Any:
    """The hoax as an item of ``organization``'s inbox."""
    from beffroi.items.models import Author, Item

    source = extra.pop("source", None) or source_of(organization)
    author, _made = Author.objects.get_or_create(
        organization=organization,
        platform=source.platform,
        platform_id="hoaxer",
        defaults={"handle": "verite_cachee", "display_name": "Vérité cachée"},
    )
    values: dict[str, Any] = {
        "platform": source.platform,
        "platform_id": platform_id,
        "url": url,
        "kind": "comment",
        "text": "L'eau du robinet est empoisonnée, ne la buvez pas !",
        "language": "fr",
        "created_at": timezone.now() - timedelta(hours=2),
    }
    values.update(extra)
    return Item.objects.create(organization=organization, source=source, author=author, **values)


def partnership(sender: Any, partner: Any) -> Any:
    """``partner`` receives ``sender``'s briefs (proposed and accepted)."""
    from beffroi.briefs import services

    services.propose_partnership(system(sender), partner.slug)
    return services.accept_partnership(system(partner), sender)


def brief(organization: Any, *, title: str = "Rumeur de l'eau empoisonnée", **extra: Any) -> Any:
    """A draft brief of ``organization`` about the hoax (its item in the inbox)."""
    from beffroi.briefs import services
    from beffroi.items.models import Item

    item = Item.objects.for_org(organization).filter(platform_id=HOAX_ID).first() or hoax_item(
        organization
    )
    data = services.BriefData(
        title=title,
        summary="Une rumeur affirme que l'eau du robinet est empoisonnée.",
        dos=["Citer les analyses de l'ARS", "Rester calme"],
        donts=["Ne pas partager la capture de la rumeur"],
        posts=[services.PostData.of_item(item)],
        **extra,
    )
    return services.create_brief(system(organization), data)


def sent_brief(sender: Any, partner: Any, **extra: Any) -> tuple[Any, Any]:
    """A brief of ``sender`` delivered to ``partner``; returns it and the delivery."""
    from beffroi.briefs import services

    made = brief(sender, **extra)
    if not services.accepted_partners(sender).filter(pk=partner.pk).exists():
        partnership(sender, partner)
    (delivery,) = services.send_brief(system(sender), made, [partner])
    return made, delivery


def link(organization: Any, name: str = "Cellule eau (autre Beffroi)") -> tuple[Any, str]:
    """A link made by ``organization``, and its code."""
    from beffroi.briefs import services

    return services.create_link(system(organization), name)


def signed(document: dict[str, Any], secret: str) -> bytes:
    from beffroi.briefs import signing

    return signing.dumps(signing.sign(document, secret)).encode()


def brief_document(key_id: str, **brief: Any) -> dict[str, Any]:
    """A brief as another Beffroi signs it (unsigned here: see :func:`signed`)."""
    from beffroi.briefs import signing

    now = timezone.now()
    body = {
        "key": "0" * 31 + "1",
        "title": "Rumeur de l'eau empoisonnée",
        "summary": "Répondre avec les analyses publiques.",
        "subject": "Eau empoisonnée",
        "dos": ["Citer les analyses"],
        "donts": ["Ne pas relayer la rumeur"],
        "valid_until": None,
        "state": "sent",
        "sent_at": now.isoformat(),
        "posts": [
            {
                "key": "p" * 32,
                "platform": HOAX_PLATFORM,
                "platform_id": HOAX_ID,
                "url": HOAX_URL,
                "author_handle": "verite_cachee",
                "excerpt": "L'eau du robinet est empoisonnée",
            }
        ],
        "entries": [
            {
                "key": "e" * 32,
                "title": "Eau contrôlée",
                "strategy": "facts",
                "texts": {"fr": "L'eau est contrôlée chaque semaine.", "en": "Water is tested."},
            }
        ],
    }
    body.update(brief)
    return {
        "format": signing.BRIEF_FORMAT,
        "version": signing.VERSION,
        "key_id": key_id,
        "signed_at": now.isoformat(),
        "expires_at": (now + timedelta(days=7)).isoformat(),
        "from": dict(ELSEWHERE),
        "to": "Nous",
        "brief": body,
    }


def brief_file(organization: Any) -> bytes:
    """A brief signed by a partner of another Beffroi for ``organization`` (the link made
    on first use)."""
    from beffroi.briefs.models import ExternalPartner

    found = ExternalPartner.objects.for_org(organization).first()
    made = found if found is not None else link(organization)[0]
    return signed(brief_document(made.key_id), made.secret)


def responses_file(sender: Any) -> tuple[Any, bytes]:
    """One of ``sender``'s briefs exported to a partner of another Beffroi, and that
    partner's signed report of one answer to it."""
    from beffroi.briefs import services, signing

    made = brief(sender, title="Rumeur exportée")
    partner, _code = link(sender, "Association (autre Beffroi)")
    services.export_brief(system(sender), made, partner)
    post = made.posts.get()
    now = timezone.now()
    document = {
        "format": signing.RESPONSES_FORMAT,
        "version": signing.VERSION,
        "key_id": partner.key_id,
        "signed_at": now.isoformat(),
        "expires_at": (now + timedelta(days=7)).isoformat(),
        "from": dict(ELSEWHERE),
        "to": sender.name,
        "brief": made.key,
        "delivery": {"state": "acknowledged", "reason": ""},
        "responses": [
            {
                "post": post.key,
                "reference": "https://facebook.example/reply/1",
                "how": "desk_reply",
                "url": "https://facebook.example/reply/1",
                "platform_id": "reply-1",
                "answered_by": "benevole-1",
                "answered_at": (now - timedelta(minutes=30)).isoformat(),
            }
        ],
    }
    return made, signed(document, partner.secret)


# --- the project-wide matrices ----------------------------------------------------------------


def third_org(organization: Any, stem: str, name: str) -> Any:
    """Another organization beside ``organization`` (its name never names it)."""
    from beffroi.organizations.models import Organization

    return Organization.objects.get_or_create(
        slug=f"{organization.slug}-{stem}"[:64], defaults={"name": name}
    )[0]


def accepted_partner(organization: Any) -> Any:
    """An organization that accepted ``organization``'s briefs."""
    partner = third_org(organization, "brief-partenaire", "Association partenaire")
    partnership(organization, partner)
    return partner


def proposing_sender(organization: Any) -> Any:
    """An organization that proposes to send ``organization`` its briefs."""
    from beffroi.briefs import services

    sender = third_org(organization, "brief-emettrice", "Cellule émettrice")
    services.propose_partnership(system(sender), organization.slug)
    return sender


def delivered_to(organization: Any) -> Any:
    """A brief of another organization in ``organization``'s desk (its delivery)."""
    sender = third_org(organization, "brief-cellule", "Cellule d'appui")
    return sent_brief(sender, organization, title="Rumeur sur l'eau")[1]


def imported_into(organization: Any) -> Any:
    """A brief of a partner of another Beffroi imported into ``organization``'s desk."""
    from beffroi.briefs import services

    return services.import_brief(system(organization), brief_file(organization))


def new_link_code(organization: Any) -> str:
    """A code another organization made, for ``organization`` to join."""
    maker = third_org(organization, "brief-autre", "Partenaire d'un autre Beffroi")
    return link(maker, "Partenaire")[1]


def upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/json")


# The API matrix's builders: (path parameters, body) for a valid call, from its ``World``.


def api_brief(world: Any) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug, "brief_id": brief(world.org).pk}, None


def api_send(world: Any) -> tuple[dict[str, Any], Any]:
    params, _body = api_brief(world)
    return params, {"partners": [accepted_partner(world.org).slug]}


def api_export(world: Any) -> tuple[dict[str, Any], Any]:
    params, _body = api_brief(world)
    return params, {"link": link(world.org)[0].pk}


def api_delivery(world: Any) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug, "delivery_id": delivered_to(world.org).pk}, None


def api_declare(world: Any) -> tuple[dict[str, Any], Any]:
    delivery = delivered_to(world.org)
    body = {"post": delivery.brief.posts.first().pk, "url": "https://x.example/answer/1"}
    return {"slug": world.org.slug, "delivery_id": delivery.pk}, body


def api_report(world: Any) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug, "delivery_id": imported_into(world.org).pk}, None


def api_import(world: Any) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug}, {"content": brief_file(world.org).decode()}


def api_import_responses(world: Any) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug}, {"content": responses_file(world.org)[1].decode()}
