"""The demo town's answering desk: its services, response-time targets and saved replies, and
the work its community managers did before the demo is opened — requests given to their
service, some taken, acknowledged or answered (simulated: demo sources), thanks closed —
each through the desk's services, as a person would, so that the history and the audit trail
are those of real work. The rest waits in the desk, some of it past its response time."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from beffroi.audit.services import Actor
from beffroi.conversations import handoff, services
from beffroi.conversations.models import (
    Conversation,
    RequestSystem,
    ResponseTargets,
    RoutingRule,
    SavedReply,
    Team,
)
from beffroi.organizations.models import Organization

#: Which service handles the demo's requests, by the topic its builder gave them (what the
#: town's agents decided; the request router learns from such decisions).
TEAM_OF_TOPIC = {
    "waste": "proprete",
    "roadworks": "voirie",
    "civil_status": "etat-civil",
}

SAVED_REPLIES = [
    (
        "Accusé de réception",
        "fr",
        None,
        True,
        "Bonjour {prénom}, votre demande a bien été reçue le {date}. Elle est transmise au "
        "service {service} ({contact}), qui vous répondra sous {délai}. Bien cordialement, "
        "la mairie de Saint-Aubin-sur-Loire.",
    ),
    (
        "Acknowledgement",
        "en",
        None,
        True,
        "Hello {prénom}, we received your request on {date}. It has been passed to the "
        "{service} department ({contact}), which will answer within {délai}. Kind regards, "
        "Saint-Aubin-sur-Loire town hall.",
    ),
    (
        "Collecte des déchets",
        "fr",
        "proprete",
        False,
        "Bonjour {prénom}, les déchets verts sont collectés le lundi, d'avril à novembre ; "
        "les encombrants sur rendez-vous au 02 00 00 00 00. Le calendrier de votre "
        "quartier : https://saint-aubin.demo.invalid/collecte",
    ),
    (
        "Carte d'identité et passeport",
        "fr",
        "etat-civil",
        False,
        "Bonjour {prénom}, les cartes d'identité et passeports se font sur rendez-vous, à "
        "prendre sur https://saint-aubin.demo.invalid/rdv. Pensez à la pré-demande en ligne "
        "(ANTS) et à un justificatif de domicile de moins d'un an.",
    ),
    (
        "Signalement transmis à la voirie",
        "fr",
        "voirie",
        False,
        "Bonjour {prénom}, merci pour votre signalement : il est transmis au service {service}, "
        "qui intervient sous {délai}. Nous revenons vers vous dès que c'est réparé.",
    ),
    (
        "Merci",
        "fr",
        None,
        False,
        "Merci {prénom} pour votre message, toute l'équipe de la mairie y est sensible !",
    ),
]

TEAM_EMAILS = {
    "proprete": "proprete@saint-aubin.demo.invalid",
    "voirie": "voirie@saint-aubin.demo.invalid",
    "etat-civil": "etat-civil@saint-aubin.demo.invalid",
}


def _label(conversation: Conversation) -> dict[str, str]:
    raw = conversation.root.raw if isinstance(conversation.root.raw, dict) else {}
    label = raw.get("beffroi_demo_label")
    return label if isinstance(label, dict) else {}


def load_demo_desk(organization: Organization) -> int:
    """Set up the desk and replay the agents' work once (a second call changes nothing);
    returns the conversations of the town."""
    services.attach_new_items(organization)
    users = {
        user.username: user
        for user in get_user_model().objects.filter(memberships__organization=organization)
    }
    teams = {team.slug: team for team in services.ensure_default_teams(organization)}
    for slug, email in TEAM_EMAILS.items():
        Team.objects.filter(pk=teams[slug].pk, email="").update(email=email)
    if "agent" in users:
        for slug in ("voirie", "proprete", "eclairage"):
            teams[slug].members.add(users["agent"])
    if "com" in users:
        for slug in ("etat-civil", "culture-sport"):
            teams[slug].members.add(users["com"])
    if "maire" in users:
        teams["voirie"].leads.add(users["maire"])
    ResponseTargets.objects.get_or_create(organization=organization)
    system, _made = RequestSystem.objects.get_or_create(
        organization=organization,
        name="GRU de Saint-Aubin (démonstration)",
        defaults={
            "kind": RequestSystem.Kind.OPEN311,
            "endpoint": "https://open311.saint-aubin.demo.invalid/v2",
            "demo": True,
        },
    )
    Team.objects.filter(pk=teams["voirie"].pk, service_code="").update(service_code="POTHOLE")
    # A rule the town is trying before trusting it: school matters to the schools' service.
    RoutingRule.objects.get_or_create(
        organization=organization,
        name="Écoles et cantine",
        defaults={
            "keywords": ["école", "cantine", "périscolaire", "crèche"],
            "team": teams["ecoles"],
            "shadow": True,
        },
    )
    teams["voirie"].refresh_from_db()
    for name, language, team, acknowledgement, text in SAVED_REPLIES:
        SavedReply.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={
                "language": language,
                "team": teams.get(team) if team else None,
                "acknowledgement": acknowledgement,
                "text": text,
            },
        )
    conversations = list(
        Conversation.objects.for_org(organization).select_related("root").order_by("opened_at")
    )
    if Conversation.objects.for_org(organization).exclude(team=None).exists():
        return len(conversations)  # the agents' work is already there
    agent, com = users.get("agent"), users.get("com")
    receipt = SavedReply.objects.get(organization=organization, name="Accusé de réception")
    handed_off = False
    for number, conversation in enumerate(conversations):
        label = _label(conversation)
        category, topic = label.get("category"), label.get("topic")
        worker = agent if number % 2 else com
        if worker is None:
            continue
        actor = Actor(worker, "ui", "demo")
        if category in ("question", "request") and topic in TEAM_OF_TOPIC:
            services.set_team(actor, conversation, teams[TEAM_OF_TOPIC[topic]])
            conversation.refresh_from_db()
            if number % 3 == 0 and conversation.is_live:
                services.assign(actor, conversation, worker)
                conversation.refresh_from_db()
                if conversation.first_response_at is None:
                    text, missing = services.render_saved_reply(
                        receipt, conversation, delay="5 jours ouvrés"
                    )
                    if not missing:
                        services.send_reply(
                            actor,
                            conversation,
                            text,
                            key=f"demo-ack-{conversation.pk}",
                            saved_reply=receipt,
                        )
            if topic == "roadworks" and not handed_off and conversation.is_live:
                handoff.hand_off(
                    actor, conversation, system, address="Rue des Écoles, Saint-Aubin-sur-Loire"
                )
                handed_off = True
        elif category == "praise" and conversation.is_live and number % 2 == 0:
            services.set_state(actor, conversation, Conversation.State.CLOSED)
    return len(conversations)
