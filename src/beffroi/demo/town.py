"""Saint-Aubin-sur-Loire: a fictional town hall and six weeks of its social-media life.

:func:`build_demo_town` returns the town, its sources (the town hall's Mastodon, Facebook and
Instagram accounts, the municipal police's Mastodon account and a Bluesky watch) and about
400 :class:`~beffroi.connectors.base.NormalizedItem` values spread over the six weeks before
``now``, each labelled with a :class:`DemoLabel` saying what it is and what a moderator would
do with it.

Everything is written here: the texts are templates with slots (streets, documents, days…)
filled by a seeded :class:`random.Random`, so the output is identical, byte for byte, for the
same ``now``. Every host name ends in ``.invalid`` or ``.example``; every person, street and
account is invented. The toxic items (insults, threats, hateful comments, scams) exist to test
a moderation tool and target nobody real.
"""

from __future__ import annotations

import base64
import hashlib
import html
import random
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from beffroi.connectors.base import ItemKind, Media, NormalizedAuthor, NormalizedItem

__all__ = [
    "ACTIONS",
    "CAMPAIGN_ID",
    "CATEGORIES",
    "DEMO_SEED",
    "HOAX_ID",
    "IMPERSONATION_ID",
    "TOPICS",
    "DemoIdentity",
    "DemoLabel",
    "DemoSource",
    "DemoTown",
    "build_demo_town",
]

DEMO_SEED = 1789
WINDOW = timedelta(weeks=6)

TOWN_SLUG = "saint-aubin"
TOWN_NAME = "Mairie de Saint-Aubin-sur-Loire"
MAYOR = "Claire Dumas"
WEBSITE = "https://www.saint-aubin-sur-loire.demo.invalid"
MEDIA_HOST = "https://media.demo.invalid/saint-aubin"

HOAX_ID = "hoax-eau-contaminee"
CAMPAIGN_ID = "campaign-parking-place-du-marche"
IMPERSONATION_ID = "impersonation-fausse-maire"

CATEGORIES = (
    "announcement",
    "question",
    "request",
    "praise",
    "criticism",
    "insult",
    "threat",
    "hate",
    "spam",
    "scam",
    "hoax",
    "campaign",
    "impersonation",
    "neutral",
)
TOPICS = ("opening_hours", "roadworks", "waste", "civil_status", "other")
ACTIONS = ("keep", "answer", "review", "hide")

_DEFAULT_ACTION = {
    "announcement": "keep",
    "question": "answer",
    "request": "answer",
    "praise": "keep",
    "criticism": "keep",
    "insult": "hide",
    "threat": "hide",
    "hate": "hide",
    "spam": "hide",
    "scam": "hide",
    "hoax": "review",
    "campaign": "review",
    "impersonation": "hide",
    "neutral": "keep",
}
#: Nothing can be hidden in a private inbox: a person looks at it (and reports it if need be).
_TOXIC = frozenset({"insult", "threat", "hate", "spam", "scam"})


# --- public types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLabel:
    """What a demo item is and what a moderator would do with it.

    ``category`` is one of :data:`CATEGORIES`; ``topic`` (questions, requests, announcements
    and the town's answers) one of :data:`TOPICS`; ``target`` says whom an insult, threat or
    hateful comment aims at (``mayor``, ``agents``, ``citizen``; ``origin``, ``religion``,
    ``gender``, ``sexual_orientation``, ``disability``); ``group`` ties the items of the hoax,
    the campaign and the impersonation together; ``expected_action`` is one of
    :data:`ACTIONS`.
    """

    category: str
    topic: str | None
    target: str | None
    group: str | None
    expected_action: str

    def as_dict(self) -> dict[str, str | None]:
        """The label as plain JSON-compatible data."""
        return asdict(self)


@dataclass(frozen=True)
class DemoSource:
    """One account (or watch) of the town, with its settings and its items, oldest first."""

    name: str
    platform: str
    kind: str
    settings: dict[str, str]
    items: list[NormalizedItem]


@dataclass(frozen=True)
class DemoIdentity:
    """A name the town protects (itself, a service, the mayor) and its genuine accounts, as
    the town would declare them: what the impersonation detector compares accounts with."""

    name: str
    kind: str
    handles: tuple[str, ...]


@dataclass(frozen=True)
class DemoTown:
    """The town, its sources and the label of every item keyed by (source name, platform id)."""

    slug: str
    name: str
    kind: str
    language: str
    sources: list[DemoSource]
    labels: dict[tuple[str, str], DemoLabel]
    identities: list[DemoIdentity] = field(default_factory=list)


# --- the town's geography -------------------------------------------------------------------

_STREETS = (
    "rue des Tanneurs",
    "avenue de la Loire",
    "quai Gambetta",
    "rue Jean-Jaurès",
    "chemin des Vignes",
    "rue du Pont",
    "impasse des Lilas",
    "boulevard Pasteur",
    "rue de l'Abbaye",
    "allée des Peupliers",
    "rue du Moulin",
    "route de Beaulieu",
    "rue Victor-Hugo",
    "place de l'Église",
)
_QUARTERS = ("Tilleuls", "Coteaux", "Varennes", "Prés-Hauts", "Grands-Champs")
_PLACES = (
    "médiathèque Colette",
    "piscine des Coteaux",
    "mairie annexe de Bel-Air",
    "déchetterie des Varennes",
    "ludothèque",
    "salle des sports Léo-Lagrange",
)
_DOCS = ("carte d'identité", "CNI", "carte d'identité")
_ACTES = (
    "acte de naissance",
    "copie intégrale d'acte de naissance",
    "extrait d'acte de mariage",
    "acte de décès",
    "livret de famille",
)
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_IMPOSTOR_LINK = "https://aide-energie-saint-aubin.example/formulaire"


# --- the people -----------------------------------------------------------------------------

# fmt: off
_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Céline", "Julie",
    "Camille", "Manon", "Chloé", "Léa", "Emma", "Sophie", "Aurélie", "Véronique", "Monique",
    "Françoise", "Élodie", "Laetitia", "Inès", "Yasmine", "Océane", "Pauline", "Mathilde",
    "Brigitte", "Christine", "Audrey", "Karine", "Nadia", "Jean", "Philippe", "Michel", "Alain",
    "Patrick", "Nicolas", "Christophe", "Stéphane", "Julien", "Thomas", "Kévin", "Maxime",
    "Lucas", "Hugo", "Théo", "Antoine", "Sébastien", "Frédéric", "Pascal", "Bernard", "Gérard",
    "Didier", "Sofiane", "Mehdi", "Bruno", "Laurent", "Romain", "Guillaume", "Yannick", "Loïc",
)
_LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Lefèvre", "Garcia", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "Legrand", "Gauthier",
    "Perrin", "Robin", "Clément", "Morin", "Rousseau", "Masson", "Marchand", "Duval", "Lemoine",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Renaud", "Hamon", "Le Goff", "Tessier", "Poirier", "Cousin", "Bouvier", "Chauvin",
    "Lebrun", "Ménard", "Bodin", "Pineau", "Baudry", "Cormier", "Besnard", "Bellanger",
)
# fmt: on

#: (display name, handle, first name) of English-speaking residents and visitors.
_EN_PEOPLE = (
    ("Sarah Whitfield", "sarah_whitfield", "Sarah"),
    ("James O'Connor", "jamesoc", "James"),
    ("Helen Baker", "helenbaker_loire", "Helen"),
    ("Tom & Lucy in France", "tomandlucy_fr", "Tom"),
    ("Graham Hughes", "graham.hughes", "Graham"),
    ("Emily Carter", "emilyc_89", "Emily"),
    ("Mark Jennings", "markjennings", "Mark"),
    ("Rachel Moss", "rachel.moss", "Rachel"),
    ("Dan Reid", "dan_reid", "Dan"),
    ("Olivia Grant", "oliviagrant_travels", "Olivia"),
    ("Peter Lawson", "plawson", "Peter"),
    ("Chloe Evans", "chloe.evans", "Chloe"),
    ("Brian Kelly", "briankelly_49", "Brian"),
    ("Megan Price", "megprice", "Megan"),
    ("Hannah Schmidt", "hannah.schmidt", "Hannah"),
    ("Lars Jensen", "lars_j", "Lars"),
)
#: (display name, handle, first name) of residents who write in Arabic.
_AR_PEOPLE = (
    ("Karim Benali", "karim.benali", "Karim"),
    ("Nour Haddad", "nour_haddad", "Nour"),
    ("Samira El Amrani", "samira.elamrani", "Samira"),
    ("Youssef Bouzid", "youssef_bz", "Youssef"),
    ("Fatima Zahra B.", "fz.bel", "Fatima Zahra"),
    ("Hicham Alaoui", "hicham.alaoui", "Hicham"),
    ("Amina Saïdi", "amina_saidi", "Amina"),
    ("Mehdi Ouali", "mehdi.ouali", "Mehdi"),
    ("سلمى", "salma_49", "Salma"),
    ("أبو ياسين", "abou_yassine", "Yassine"),
    ("Rachid Mansouri", "rachid.mansouri", "Rachid"),
    ("Leila Farhat", "leila.farhat", "Leila"),
)
#: Recurring trolls: they write most of the insults, threats and hateful comments.
_TROLLS = (
    ("Le Ronchon 49", "ronchon49", ""),
    ("Patriote Ligérien 🇫🇷", "patriote_ligerien", ""),
    ("Vérité Saint-Aubin", "verite_staubin", ""),
    ("Gégé du 49", "gege49", "Gérard"),
    ("Marc Vidal", "marc.vidal.75", "Marc"),
    ("Nadège Rolland", "nadege.r", "Nadège"),
    ("Fred Lx", "fredlx_", "Fred"),
    ("Ras-le-bol Citoyen", "raslebol_citoyen", ""),
)
#: Accounts that exist to post spam and scams; the templates name them by handle.
_BOTS = (
    ("Argent Facile 💰", "argent_facile_2024"),
    ("Promo Clim France", "promoclim_fr"),
    ("Recettes de Mamie 😋", "recettes_de_mamie_"),
    ("Rencontres Locales ❤️", "rencontres_locales_fr"),
    ("Serrurerie Express 24", "serrurerie_express24"),
    ("Followers Boost", "followers_boost_pro"),
    ("Travel With Lou ✈️", "travelwithlou"),
    ("Essay Pro Help", "essay_pro_help"),
    ("ربح سريع", "easy_money_ar"),
    ("Concours Saint-Aubin 🎉", "concours_saint_aubin"),
    ("Service Amendes", "service.amendes.paiement"),
    ("Suivi Colis", "suivi_colis_livraison"),
    ("Remboursement Info", "remboursement.info.fr"),
    ("Sophie Trading", "sophie_trading_4411"),
    ("Billets Dispo", "billets_dispo_49"),
    ("Page Support Team", "page.support.team.0912"),
    ("Crypto Queen 💎", "cryptoqueen_8827"),
    ("Mike Giveaway 🎁", "mike_giveaway_official"),
)


# --- what the town publishes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Announcement:
    key: str
    topic: str
    days_ago: int
    hour: int  # UTC
    minute: int
    where: tuple[str, ...]  # "mastodon", "facebook", "instagram", "police"
    text: str
    image: str = ""  # alt text of the picture; empty: no picture
    engagement: float = 1.0
    routine: bool = True  # moved off week-ends
    group: str | None = None
    insta: str = ""  # Instagram caption when it differs


# fmt: off
_ANNOUNCEMENTS: tuple[_Announcement, ...] = (
    _Announcement(
        "collecte-nouveaux-jours",
        "waste",
        39,
        8,
        30,
        ("mastodon", "facebook"),
        "♻️ Changement des jours de collecte à partir du {date7} : ordures ménagères le mardi, "
        "emballages (bac jaune) le vendredi une semaine sur deux. Retrouvez le calendrier de "
        f"votre quartier : {WEBSITE}/collecte",
        "Calendrier de collecte 2 couleurs par quartier",
        1.6,
    ),
    _Announcement(
        "mediatheque-20-ans",
        "other",
        37,
        9,
        0,
        ("facebook", "mastodon", "instagram"),
        "📚 La médiathèque Colette fête ses 20 ans ! Lectures, ateliers BD, jeux de société et "
        "goûter pour toute la famille le {samedi}, de 10h à 18h. Entrée libre.",
        "Façade de la médiathèque décorée de ballons",
        1.0,
        insta="20 ans de la médiathèque Colette 🎈📚 Rendez-vous {samedi} pour une "
        "journée de fête ! #SaintAubinSurLoire #Médiathèque #Lecture",
    ),
    _Announcement(
        "refection-avenue-loire",
        "roadworks",
        35,
        7,
        45,
        ("mastodon", "facebook"),
        "🚧 Réfection de la chaussée avenue de la Loire : la voie sera fermée à la circulation "
        "du {date2} au {date6}. Déviation par le quai Gambetta et la rue du Pont. Les lignes de "
        "bus 2 et 5 sont déviées, les arrêts « Loire » et « Pasteur » ne sont pas desservis.",
        "Plan de la déviation autour de l'avenue de la Loire",
        1.5,
    ),
    _Announcement(
        "etat-civil-fermeture",
        "civil_status",
        33,
        12,
        10,
        ("facebook", "mastodon"),
        "ℹ️ Le service état civil sera exceptionnellement fermé le {date4} après-midi. Les "
        "demandes d'actes de naissance, de mariage et de décès peuvent être faites en ligne à "
        f"tout moment : {WEBSITE}/etat-civil",
    ),
    _Announcement(
        "ccas-registre",
        "other",
        31,
        8,
        0,
        ("facebook",),
        "Le CCAS tient un registre des personnes âgées, isolées ou en situation de handicap "
        "pour pouvoir les contacter en cas d'alerte (canicule, grand froid, coupure). "
        "L'inscription est gratuite, par téléphone ou à l'accueil du CCAS. Parlez-en à vos "
        "voisins !",
    ),
    _Announcement(
        "cni-creneaux-samedi",
        "civil_status",
        29,
        9,
        15,
        ("mastodon", "facebook"),
        "🪪 Cartes d'identité et passeports : pour faire face à la demande, la mairie ouvre des "
        "créneaux supplémentaires le samedi matin jusqu'à fin {month}. Rendez-vous en ligne "
        "uniquement : https://rdv.saint-aubin-sur-loire.demo.invalid — pensez à faire votre "
        "pré-demande avant de venir.",
        "Guichet des titres d'identité",
        1.8,
    ),
    _Announcement(
        "encombrants",
        "waste",
        27,
        10,
        0,
        ("facebook",),
        "La prochaine collecte des encombrants sur rendez-vous aura lieu le {date10}. "
        f"Inscription avant le {{date6}} sur {WEBSITE}/encombrants ou à l'accueil. Les "
        "déchets électriques, gravats et pneus ne sont pas collectés.",
    ),
    _Announcement(
        "piste-cyclable",
        "roadworks",
        25,
        13,
        30,
        ("mastodon", "facebook"),
        "🚲 Piste cyclable gare – collège : dernière phase des travaux ! Le carrefour rue "
        "Jean-Jaurès / boulevard Pasteur sera fermé le {date1} de 21h à 6h pour la pose des "
        "enrobés.",
        "Piste cyclable en cours de marquage",
        1.4,
    ),
    _Announcement(
        "skatepark",
        "other",
        24,
        15,
        0,
        ("instagram", "facebook"),
        "Le nouveau skatepark des Tilleuls est ouvert 🛹 Un projet imaginé par le conseil "
        "municipal des enfants. Ouvert tous les jours de 9h à 21h, casque recommandé !",
        "Jeunes sur la rampe du nouveau skatepark",
        1.3,
        routine=False,
        insta="Il est là ! 🛹 Le skatepark des Tilleuls est ouvert tous les jours de 9h à 21h. "
        "Casque recommandé 😉 #SaintAubinSurLoire #Jeunesse #Skatepark",
    ),
    _Announcement(
        "bacs-jaunes",
        "waste",
        22,
        8,
        40,
        ("facebook", "mastodon"),
        "Distribution des nouveaux bacs jaunes (240 L) le {samedi} de 9h à 12h aux "
        "services techniques, 12 rue des Ateliers. Munissez-vous d'un justificatif de domicile. "
        "Vous ne pouvez pas venir ? Un voisin peut le retirer pour vous avec votre justificatif.",
        "Bacs jaunes alignés devant les services techniques",
        1.3,
    ),
    _Announcement(
        "commemoration",
        "other",
        20,
        8,
        0,
        ("facebook", "mastodon"),
        "Cérémonie de commémoration au monument aux morts le {date3} à 11h, en présence des "
        "anciens combattants et des élèves de CM2. Elle sera suivie d'un vin d'honneur à la "
        "salle des fêtes.",
    ),
    _Announcement(
        "place-du-marche",
        "roadworks",
        19,
        17,
        30,
        ("facebook", "mastodon"),
        "🏗️ Réaménagement de la place du Marché : le conseil municipal a voté hier la "
        "création d'un espace piéton et arboré. Les 80 places de stationnement seront "
        "redéployées rue de l'Abbaye et au parking de la Gare (+40 places). Travaux prévus à "
        "l'automne. Réunion publique le {date9} à 19h, salle des fêtes.",
        "Vue d'architecte de la future place du Marché",
        3.0,
        routine=False,
    ),
    _Announcement(
        "conseil-municipal",
        "other",
        17,
        9,
        0,
        ("facebook", "mastodon"),
        "Conseil municipal le {date6} à 20h, salle du conseil. À l'ordre du jour : budget "
        "supplémentaire, tarifs de la restauration scolaire, plan vélo. Séance publique, "
        "retransmise en direct sur le site de la ville.",
    ),
    _Announcement(
        "travaux-reseau-eau",
        "roadworks",
        16,
        8,
        15,
        ("facebook", "mastodon"),
        "🚧 Renouvellement des canalisations d'eau potable rue des Tanneurs à partir du "
        "{date3}, pour environ trois semaines. Circulation alternée de 8h à 17h, stationnement "
        "interdit côté pair, accès riverains maintenu. De courtes coupures d'eau sont possibles, "
        f"les riverains seront prévenus la veille. Infos : {WEBSITE}/travaux",
        "Tranchée et canalisations neuves rue des Tanneurs",
        2.0,
    ),
    _Announcement(
        "fleurissement",
        "other",
        15,
        14,
        0,
        ("instagram",),
        "",
        "Massifs de fleurs le long du quai Gambetta",
        1.2,
        routine=False,
        insta="🌸 Les jardiniers de la ville ont fleuri les bords de Loire ! Merci à l'équipe "
        "des espaces verts 💚 #SaintAubinSurLoire #VilleFleurie #BordsDeLoire",
    ),
    _Announcement(
        "jour-ferie-collecte",
        "waste",
        14,
        8,
        0,
        ("facebook", "mastodon"),
        "Jour férié : la collecte des ordures ménagères du {date2} est décalée au lendemain. "
        "Pensez à sortir vos bacs la veille au soir 🙂 La déchetterie des Varennes sera fermée.",
    ),
    _Announcement(
        "marche-nocturne",
        "other",
        13,
        9,
        30,
        ("facebook", "mastodon", "instagram"),
        "🌙 Marché nocturne des producteurs le {date4}, de 18h à 23h sur le quai "
        "Gambetta : producteurs locaux, food-trucks et concert de la fanfare des Coteaux. "
        "Venez nombreux !",
        "Affiche du marché nocturne",
        1.8,
        insta="Marché nocturne le {date4} 🌙🧀🍷 Producteurs locaux, food-trucks et "
        "fanfare sur le quai Gambetta. #SaintAubinSurLoire #MarchéNocturne #Loire",
    ),
    _Announcement(
        "forum-associations",
        "other",
        11,
        9,
        0,
        ("instagram", "facebook"),
        "Rendez-vous au forum des associations le {samedi} au gymnase Léo-Lagrange 🤝 "
        "Sport, culture, solidarité : plus de 60 associations à découvrir.",
        "Stands du forum des associations",
        1.0,
        insta="Forum des associations {samedi} 🤝 Plus de 60 assos vous attendent au "
        "gymnase Léo-Lagrange ! #SaintAubinSurLoire #Associations #VieLocale",
    ),
    _Announcement(
        "dementi-eau",
        "other",
        10,
        11,
        20,
        ("facebook", "mastodon", "instagram"),
        "⚠️ Des messages circulent affirmant que l'eau du robinet serait contaminée à "
        "Saint-Aubin. C'est faux. Les analyses réalisées par l'Agence régionale de santé le "
        "{datem2} sont conformes : l'eau est parfaitement potable. Les travaux rue des Tanneurs "
        "n'ont aucun effet sur sa qualité. Merci de ne pas relayer ces rumeurs et de vous fier "
        f"aux sources officielles : {WEBSITE}/eau",
        "Résultats d'analyse de l'eau, tous conformes",
        2.5,
        routine=False,
        group=HOAX_ID,
        insta="⚠️ Rumeur : l'eau du robinet de Saint-Aubin est POTABLE. Les analyses de l'ARS "
        "du {datem2} sont conformes. Ne relayez pas les fausses informations 🙏 "
        "#SaintAubinSurLoire",
    ),
    _Announcement(
        "retour-marche-nocturne",
        "other",
        6,
        10,
        0,
        ("instagram", "facebook"),
        "Retour en images sur le marché nocturne 📸 Merci aux 2 000 visiteurs, aux producteurs "
        "et à la fanfare des Coteaux ! Rendez-vous l'an prochain.",
        "Foule sur le quai Gambetta illuminé",
        1.6,
        routine=False,
        insta="Merci aux 2 000 visiteurs du marché nocturne ✨📸 Quelle soirée ! "
        "#SaintAubinSurLoire #MarchéNocturne",
    ),
    _Announcement(
        "elagage-quai",
        "roadworks",
        7,
        7,
        30,
        ("mastodon", "facebook"),
        "🌳 Élagage des platanes du quai Gambetta du {date1} au {date3}. Stationnement "
        "interdit sur le quai ces jours-là : merci de libérer les places dès 7h, les véhicules "
        "gênants seront enlevés.",
    ),
    _Announcement(
        "faux-compte-maire",
        "other",
        5,
        10,
        15,
        ("facebook", "mastodon", "instagram"),
        "⚠️ Attention, faux compte ! Un compte « Claire Dumas - Maire » promet une aide de "
        "250 € et demande vos coordonnées bancaires et une copie de votre pièce d'identité. Ce "
        "n'est pas la maire. La mairie ne demande JAMAIS de RIB ni de papiers par message. Ne "
        "répondez pas et signalez ce compte.",
        "",
        2.2,
        routine=False,
        group=IMPERSONATION_ID,
        insta="⚠️ FAUX COMPTE : @claire_dumas_maire_officiel n'est pas la maire. Aucune aide "
        "de 250 € n'existe. Ne donnez jamais votre RIB ou vos papiers par message. "
        "#Arnaque #SaintAubinSurLoire",
    ),
    _Announcement(
        "vide-grenier",
        "other",
        4,
        9,
        0,
        ("facebook",),
        "Vide-grenier du quartier Bel-Air le {dimanche} ! Inscriptions des exposants "
        "jusqu'au {date3} à l'accueil de la mairie (3 € le mètre linéaire, 4 mètres maximum).",
    ),
    _Announcement(
        "inscriptions-scolaires",
        "other",
        3,
        8,
        30,
        ("facebook", "mastodon"),
        "🎒 Inscriptions scolaires pour la rentrée : le dossier est à retirer à l'accueil ou à "
        f"télécharger sur {WEBSITE}/ecoles, à rendre avant le {{date14}}. Pièces à fournir : "
        "livret de famille, justificatif de domicile, carnet de vaccination.",
    ),
    _Announcement(
        "coupure-electricite",
        "other",
        2,
        11,
        0,
        ("mastodon", "facebook"),
        "⚡ Coupure d'électricité programmée par le gestionnaire du réseau le {date2} de 9h à "
        "12h, secteur des Coteaux et chemin des Vignes, pour des travaux de modernisation.",
    ),
    _Announcement(
        "coucher-de-soleil",
        "other",
        2,
        18,
        30,
        ("instagram",),
        "",
        "Coucher de soleil sur le vieux pont de Saint-Aubin",
        1.4,
        routine=False,
        insta="Coucher de soleil sur le vieux pont 🌅 Merci @camille.photos49 pour ce cliché ! "
        "Partagez vos photos avec #SaintAubinSurLoire",
    ),
)
# fmt: on

# fmt: off
_POLICE_POSTS: tuple[_Announcement, ...] = (
    _Announcement(
        "otv",
        "other",
        36,
        8,
        0,
        ("police",),
        "🚓 Opération Tranquillité Vacances : signalez vos dates d'absence à la police "
        "municipale, nos agents passeront régulièrement devant votre domicile. Formulaire : "
        f"{WEBSITE}/otv",
    ),
    _Announcement(
        "stationnement-ecoles",
        "other",
        30,
        7,
        30,
        ("police",),
        "Rappel : le stationnement sur les trottoirs et les places PMR est verbalisé (135 €). "
        "Des contrôles renforcés auront lieu aux abords des écoles cette semaine. Pensez à la "
        "sécurité des enfants 🚸",
        engagement=1.5,
    ),
    _Announcement(
        "objets-trouves",
        "other",
        26,
        9,
        45,
        ("police",),
        "Objets trouvés : un trousseau de clés (porte-clés tour Eiffel), une paire de lunettes "
        "de vue et un vélo enfant bleu ont été déposés au poste. Passez nous voir du lundi au "
        "vendredi de 9h à 12h.",
    ),
    _Announcement(
        "sms-amendes",
        "other",
        21,
        10,
        30,
        ("police",),
        "⚠️ Des SMS frauduleux vous demandent de régler une « amende impayée » via un lien. La "
        "police municipale ne demande jamais de paiement par SMS. Ne cliquez pas, signalez au "
        "33700.",
    ),
    _Announcement(
        "faux-agents-eaux",
        "other",
        11,
        8,
        20,
        ("police",),
        "⚠️ De faux agents des eaux se présentent chez des personnes âgées en prétendant "
        "contrôler la qualité de l'eau. Aucun contrôle à domicile n'est prévu. Ne laissez "
        "entrer personne sans vérifier, et en cas de doute appelez le 17.",
        engagement=1.8,
        routine=False,
    ),
    _Announcement(
        "marche-nocturne-circulation",
        "other",
        10,
        9,
        0,
        ("police",),
        "Marché nocturne cette semaine : le soir du marché, le quai Gambetta sera fermé à la "
        "circulation de 16h à minuit. Merci de respecter la signalisation et de stationner au "
        "parking de la Gare.",
    ),
    _Announcement(
        "controles-vitesse",
        "roadworks",
        4,
        8,
        0,
        ("police",),
        "Contrôles de vitesse avenue de la Loire cette semaine, à la demande des riverains. "
        "30 km/h, c'est pour la sécurité de tous 🚸",
        engagement=1.4,
    ),
)
# fmt: on

#: What each post is about, to put under it the comments that fit (see the pools' tags).
_SUBJECTS: dict[str, tuple[str, ...]] = {
    "collecte-nouveaux-jours": ("waste", "collecte"),
    "mediatheque-20-ans": ("library", "event"),
    "refection-avenue-loire": ("roadworks",),
    "etat-civil-fermeture": ("id",),
    "ccas-registre": ("ccas",),
    "cni-creneaux-samedi": ("id",),
    "encombrants": ("waste", "encombrants"),
    "piste-cyclable": ("roadworks", "bike"),
    "skatepark": ("skatepark", "photo"),
    "bacs-jaunes": ("waste", "bacs"),
    "commemoration": ("ceremony", "event"),
    "place-du-marche": ("place",),
    "conseil-municipal": ("council",),
    "travaux-reseau-eau": ("roadworks",),
    "fleurissement": ("photo",),
    "jour-ferie-collecte": ("waste", "ferie"),
    "marche-nocturne": ("market", "event"),
    "forum-associations": ("assos", "event"),
    "dementi-eau": ("water",),
    "retour-marche-nocturne": ("market", "photo"),
    "elagage-quai": ("roadworks",),
    "faux-compte-maire": ("scam-warning",),
    "vide-grenier": ("vide-grenier", "event"),
    "inscriptions-scolaires": ("school",),
    "coupure-electricite": ("power",),
    "coucher-de-soleil": ("photo",),
    "otv": ("police",),
    "stationnement-ecoles": ("police",),
    "objets-trouves": ("police",),
    "sms-amendes": ("police",),
    "faux-agents-eaux": ("police",),
    "marche-nocturne-circulation": ("police", "market"),
    "controles-vitesse": ("police",),
}

# --- what people write ------------------------------------------------------------------------
# One template a line (indented lines continue the one above), optionally preceded by a tag and
# " | ". A tag is "head/subject", both parts optional. The head is the topic of questions and
# requests, the target of insults, threats and hateful comments, or the handle of the bot that
# posts a spam or a scam. The subject ties a template to the posts it fits under (see
# _SUBJECTS); templates without one fit anywhere. A tag ending in "!" marks a template that only
# makes sense under a post ("Magnifique photo", "On y va ?"): never in a message or a mention. Slots in braces are filled at random: {rue},
# {quartier}, {lieu}, {doc}, {acte}, {jour}, {num}, {n}, {ami}, and {link:domain} gives a link to
# that domain with a random path.

_Pool = tuple[tuple[str | None, str], ...]


def _pool(block: str) -> _Pool:
    """Parse a block of templates (see above) into (tag, template) pairs."""
    entries: list[tuple[str | None, str]] = []
    for line in textwrap.dedent(block).strip("\n").splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            tag, text = entries[-1]
            entries[-1] = (tag, f"{text} {line.strip()}")
            continue
        tag, sep, text = line.partition(" | ")
        entries.append((tag, text.strip()) if sep else (None, line.strip()))
    return tuple(entries)


def _head(tag: str | None) -> str | None:
    return (tag or "").partition("/")[0] or None


def _subject(tag: str | None) -> str | None:
    return (tag or "").partition("/")[2].rstrip("!") or None


def _bound(tag: str | None) -> bool:
    """Whether the template only makes sense as a comment under a post (its tag ends in !)."""
    return (tag or "").endswith("!")


_QUESTIONS_FR = _pool(
    """
    opening_hours | La mairie est ouverte le samedi matin ?
    opening_hours/library | Quels sont les horaires de la médiathèque pendant les vacances
        scolaires ?
    opening_hours | Le service urbanisme reçoit sans rendez-vous le {jour} ?
    opening_hours/waste | La déchetterie des Varennes ferme à quelle heure le {jour} ?
    opening_hours | Est-ce que l'accueil de la mairie est ouvert entre midi et deux ?
    opening_hours/ccas | le CCAS est ouvert le {jour} après-midi ? j'ai un dossier à déposer
    opening_hours | La piscine des Coteaux rouvre quand après la vidange ?
    opening_hours | L'agence postale communale est ouverte le samedi ?
    opening_hours | Les horaires de la mairie sur Google sont faux, c'est quoi les vrais ?
    opening_hours/library | La médiathèque est ouverte le dimanche ou pas du tout ?
    opening_hours/skatepark | Le skatepark ferme à quelle heure le soir ? Mes ados rentrent à pas
        d'heure 😅
    opening_hours/police | Le poste de police municipale est ouvert le samedi ?
    roadworks/roadworks! | C'est fermé aussi le week-end ou seulement en semaine ?
    roadworks/roadworks! | Et pour les riverains, on pourra sortir la voiture le matin ? Je pars à 6h30
    roadworks/roadworks | Les travaux vont durer combien de temps exactement ? Ça fait déjà {n}
        semaines que ça dure {rue}
    roadworks/roadworks! | C'est quoi la déviation pour le car scolaire pendant les travaux ?
    roadworks/roadworks | La boulangerie {rue} reste accessible pendant le chantier ?
    roadworks/roadworks! | Est-ce qu'il y aura des coupures d'eau pendant les travaux ?
    roadworks | Vous refaites aussi les trottoirs {rue} ou seulement la chaussée ?
    roadworks | Pourquoi le chantier {rue} est à l'arrêt depuis {jour} ?
    roadworks/roadworks! | Le stationnement est interdit des deux côtés ou juste côté pair ?
    roadworks | Quand est-ce que les feux provisoires {rue} seront enlevés ?
    roadworks/bike! | Les vélos pourront passer pendant la fermeture du carrefour ?
    roadworks/bike | La piste cyclable va jusqu'à la gare ou elle s'arrête au collège ?
    roadworks/place! | Les travaux de la place commencent quand exactement ? Et le marché du samedi,
        il va où pendant ce temps ?
    roadworks/place! | Il y aura des places handicapées sur la nouvelle place ?
    waste/ferie | Et si le jour férié tombe un mardi, on sort les poubelles quand ?
    waste/bacs! | On récupère où les nouveaux bacs jaunes si on ne peut pas venir le samedi ?
    waste | La collecte du verre c'est toujours le {jour} aux {quartier} ?
    waste/encombrants | Comment on fait pour les encombrants, il faut s'inscrire où ?
    waste/encombrants | Les vieux matelas sont pris aux encombrants ou il faut aller à la
        déchetterie ?
    waste/bacs | Les pots de yaourt ça va dans le bac jaune maintenant ?
    waste | Les déchets verts sont ramassés devant chez nous ou il faut aller à la déchetterie ?
    waste/bacs | Mon bac a une roue cassée, qui faut-il contacter pour le remplacer ?
    waste | Il faut un badge pour entrer à la déchetterie maintenant ?
    waste/collecte | Le calendrier de collecte des {quartier} existe en papier quelque part ?
    waste/collecte! | Donc le bac jaune c'est une semaine sur deux, mais comment on sait si c'est la
        bonne semaine ?
    waste/bacs | On met quoi dans le bac jaune exactement, les barquettes en plastique aussi ?
    civil_status/id | Combien de temps pour avoir un rdv pour une {doc} ? Je pars dans {n} semaines 😬
    civil_status | Faut-il prendre rendez-vous pour un {acte} ou on peut le demander en ligne ?
    civil_status/id | Pour le passeport d'un mineur, les deux parents doivent être présents ?
    civil_status | Est-ce qu'on peut se marier un samedi après-midi à la mairie ?
    civil_status | Mon fils est né à Saint-Aubin, comment avoir la copie intégrale de son acte de
        naissance ?
    civil_status/id | Ma {doc} est périmée depuis {n} ans, je peux encore voyager en Espagne avec ?
    civil_status | Pour un PACS, c'est à la mairie ou chez le notaire ?
    civil_status | Quels papiers faut-il pour déclarer une naissance ? Bébé arrive bientôt 👶
    civil_status/id | Je peux faire ma {doc} à Saint-Aubin même si j'habite la commune d'à côté ?
    civil_status/id | Combien de temps après le rdv on reçoit le SMS pour récupérer la {doc} ?
    civil_status | On peut faire une reconnaissance anticipée sans rendez-vous ?
    civil_status/id | J'ai perdu ma {doc}, je dois faire une déclaration de perte en mairie ?
    civil_status/id | Combien coûte un passeport pour un enfant de {n} ans ?
    civil_status/id! | Les créneaux du samedi c'est aussi pour le retrait ou seulement le dépôt ?
    other/vide-grenier! | Où peut-on s'inscrire pour le vide-grenier ? C'est ouvert aux gens hors
        quartier ?
    other/school | Les inscriptions à la cantine, c'est jusqu'à quand ?
    other/school | Pour l'inscription en maternelle il faut le carnet de santé original ou une copie
        suffit ?
    other/place! | La réunion publique sera filmée ? Je travaille le soir
    other/council! | Le conseil sera retransmis sur quel site exactement ?
    other/market! | Le marché nocturne a lieu même s'il pleut ?
    other/market! | Est-ce que les chiens sont acceptés au marché nocturne ?
    other | Comment on s'inscrit sur les listes électorales quand on vient d'emménager ?
    other/bike | Il y a un parking vélo sécurisé à la gare ?
    other/ccas | On peut encore s'inscrire au registre pour ma mère de 8{n} ans ? Elle vit seule
    other/police | Le formulaire OTV ne marche pas chez moi, on peut le déposer au poste ?
    other/police | On signale où les rodéos de motos ? Ça recommence tous les soirs aux {quartier}
    other/assos! | Il y aura des clubs de foot pour les filles au forum ?
    other/power! | La coupure concerne aussi l'impasse des Lilas ?
    other/skatepark | Il y a un âge minimum pour le skatepark ?
    other/water! | Donc on peut donner l'eau du robinet aux bébés sans problème ?
    other | Est-ce que la mairie aide à l'achat d'un vélo électrique ?
    other | Où peut-on faire légaliser une signature ?
    other | Comment on fait pour réserver la salle des fêtes pour un anniversaire ?
    other | Il faut une autorisation pour poser un échafaudage sur le trottoir ?
    waste | La mairie distribue encore des composteurs ?
    other | Comment on inscrit un enfant au conseil municipal des enfants ?
    other | Il y a des jardins partagés à Saint-Aubin ? On cherche une parcelle
    """
)
_QUESTIONS_EN = _pool(
    """
    opening_hours | Hi! Is the town hall open on Saturday mornings?
    opening_hours/library | What time does the library close on Wednesdays?
    roadworks/bike | Is the cycle path along the river still open with the works near the bridge?
    roadworks/roadworks! | How long will the road be closed? We're renting a house on that street
    waste | What day is recycling collected in {quartier}? We just moved in 🙂
    waste/bacs! | Where do we pick up the new yellow bins?
    civil_status | How do we get a copy of our marriage certificate? We got married here in 2019
    civil_status | Do we need an appointment to register a birth? Our daughter was born last week
    civil_status/id | Can I apply for my son's passport here or only in the bigger towns?
    other | Is there anyone at the town hall who speaks English? My French isn't great 😅
    other/market! | Is the night market on even if it rains?
    other/market! | Are dogs allowed at the night market?
    other/assos! | Are there any English-speaking clubs at the forum?
    waste | Is glass collected separately here or do we take it to the bottle bank?
    opening_hours/waste | What are the opening hours of the tip on Saturdays?
    civil_status | We're getting married here next year, what documents does the town hall need
        from a UK citizen?
    other/school | How do we enrol our kids at the local school? We arrive in August
    roadworks/roadworks! | Will there be water cuts during the works? We have guests arriving
    other | Where can I get a signature certified?
    other | How do we book the village hall for a birthday party?
    other | Is there a community garden in town? We'd love a plot
    """
)
_QUESTIONS_AR = _pool(
    """
    civil_status | السلام عليكم، كيف يمكنني الحصول على نسخة من شهادة ميلاد ابني المولود هنا؟
    opening_hours | مرحبا، هل البلدية مفتوحة يوم السبت صباحا؟
    civil_status/id | من فضلكم، ما هي الوثائق المطلوبة لتجديد بطاقة الهوية؟
    civil_status/id | هل يجب أخذ موعد لجواز السفر أم يمكن الحضور مباشرة؟
    waste | متى تمر شاحنة النفايات في حي {quartier}؟
    civil_status | هل يوجد موظف يتكلم العربية في مكتب الحالة المدنية؟
    civil_status/id | كم مدة الانتظار للحصول على موعد بطاقة التعريف؟
    opening_hours/library | ما هي مواعيد فتح المكتبة خلال العطلة؟
    other/school | متى آخر أجل لتسجيل الأطفال في المدرسة؟
    other | هل يمكن تسجيل الأطفال في مركز الترفيه خلال العطلة؟
    roadworks/roadworks | متى تنتهي الأشغال في الشارع؟ الطريق مغلق منذ أسبوعين
    civil_status | كيف أسجل ولادة ابنتي؟ ولدت الأسبوع الماضي
    """
)
_REQUESTS_FR = _pool(
    """
    roadworks | Il y a un nid de poule énorme {rue}, au niveau du {num}. Merci d'intervenir avant
        qu'il y ait un accident
    roadworks/roadworks! | Pourriez-vous remettre les panneaux de déviation, ils ont été renversés
        cette nuit
    roadworks/roadworks! | Merci de faire nettoyer la chaussée après le passage des camions, c'est de
        la boue partout
    roadworks | Le lampadaire devant le {num} {rue} ne marche plus depuis une semaine, pouvez-vous
        faire le nécessaire ?
    roadworks/police | Un ralentisseur {rue} svp, les voitures roulent à 70 devant l'école
    roadworks/roadworks! | Il faudrait reboucher la tranchée, les vélos tombent dedans
    roadworks | Une plaque d'égout claque à chaque voiture devant le {num} {rue}, merci de regarder
    roadworks/bike | Merci de mettre des potelets sur la piste cyclable, des voitures se garent
        dessus tous les matins
    waste | Mon bac n'a pas été collecté ce matin {rue}, vous pouvez faire repasser le camion ?
    waste | Dépôt sauvage de matelas et de cartons {rue} depuis {n} jours. Merci de faire enlever
    waste | Les conteneurs à verre des {quartier} débordent, merci de les faire vider
    waste | Pourriez-vous installer une poubelle près de l'aire de jeux des {quartier} ?
    waste/bacs | Merci de nous livrer un bac jaune, nous avons emménagé {rue} le mois dernier
    civil_status | Je voudrais une copie de mon acte de mariage, je peux faire la demande ici ?
    civil_status/id | Merci de renvoyer le lien pour prendre rdv pour les passeports, il ne marche
        plus
    civil_status | J'aurais besoin d'un acte de naissance pour mon dossier de retraite, vous pouvez
        me l'envoyer par courrier ?
    civil_status/id | Pouvez-vous ouvrir plus de créneaux pour les cartes d'identité ? Tout est
        complet pour {n} semaines
    civil_status | Ma mère est décédée le mois dernier, il me faudrait {n} extraits d'acte de décès
        svp
    opening_hours | Pouvez-vous mettre à jour les horaires de la mairie sur votre page, ils ne sont
        pas bons
    opening_hours/library | Ce serait bien d'ouvrir la médiathèque un soir par semaine pour ceux
        qui travaillent
    other | Pourriez-vous partager l'avis de recherche de notre chat, perdu {rue} ? Merci 🙏
    other | Merci de faire tailler la haie au coin {rue}, on ne voit plus rien en sortant en voiture
    other | Serait-il possible d'avoir un banc à l'arrêt de bus des {quartier} ? Les personnes âgées
        attendent debout
    other/council | Pouvez-vous publier le compte rendu du dernier conseil municipal ?
    other/police | Merci de passer le soir aux {quartier}, il y a des rodéos de motos tous les soirs
        vers 22h
    other/police | Une voiture ventouse est garée devant le {num} {rue} depuis trois semaines,
        pouvez-vous la faire enlever ?
    other/place! | Merci de mettre les plans du projet en ligne avant la réunion publique, qu'on
        puisse les regarder
    """
)
_REQUESTS_EN = _pool(
    """
    roadworks | Could you please fix the streetlight on {rue}? It's been out for a week
    waste | Please could someone pick up the dumped mattress on {rue}
    waste/collecte | Could you post the collection calendar in English too? It would really help
    civil_status | Could you send me a copy of my birth certificate by post? I was born here in 1961
    roadworks | There's a huge pothole on {rue}, could someone have a look before someone gets
        hurt?
    other | Could you share our lost dog notice? Small brown terrier called Biscuit, lost near {rue}
        🐕
    """
)
_REQUESTS_AR = _pool(
    """
    roadworks | من فضلكم، المصباح في الشارع معطل منذ أسبوع أمام العمارة {num}
    civil_status | أريد نسخة من عقد زواجي، هل يمكن إرسالها عبر البريد؟
    waste | من فضلكم، الحاوية في حي {quartier} ممتلئة منذ أيام
    """
)
#: Questions and requests as people write them in a private message.
_MESSAGE_QUESTIONS_FR = _pool(
    """
    civil_status/id | Bonsoir, mon dossier de passeport est en attente depuis {n} semaines,
        pouvez-vous me dire où il en est ? Merci
    civil_status | Bonjour, nous voudrions nous marier l'été prochain, comment réserver une date ?
        On a entendu dire que ça part vite
    civil_status/id | Bonjour, je dois refaire ma {doc} suite à un changement de nom (mariage),
        quels papiers dois-je apporter ?
    opening_hours/id | Bonjour, le service des titres d'identité est ouvert pendant la pause
        déjeuner ?
    other | Bonjour, mon fils est en 3e et cherche un stage d'observation, est-ce que la mairie en
        prend ?
    civil_status | Bonjour, mon père est né à Saint-Aubin en 1948, puis-je demander son acte de
        naissance pour un dossier de succession ?
    other | Bonjour, je suis nouvelle sur la commune, comment inscrire ma fille au centre de
        loisirs pour les vacances ?
    """
)
_MESSAGE_REQUESTS_FR = _pool(
    """
    waste | Bonjour, ça fait deux semaines que le bac jaune n'est pas ramassé {rue}, j'ai déjà
        appelé deux fois. Pouvez-vous faire le nécessaire ?
    civil_status | Bonjour, pourriez-vous m'envoyer une copie intégrale de mon acte de mariage ?
        Nous nous sommes mariés à Saint-Aubin en 2003. Merci
    civil_status | Bonjour, je vous écris ici car je n'arrive pas à joindre l'état civil par
        téléphone. Il me faudrait un {acte} pour mon notaire avant {jour}. Merci beaucoup
    other/ccas | Bonjour, ma voisine de 9{n} ans vit seule et n'a pas internet, pouvez-vous
        l'inscrire sur le registre du CCAS ? Je peux vous donner son adresse
    roadworks | Bonjour, depuis les travaux l'eau de pluie stagne devant notre garage {rue},
        pouvez-vous envoyer quelqu'un voir ?
    other | Bonjour, nous organisons la fête des voisins {rue}, la mairie peut-elle nous prêter des
        tables et des barrières ?
    """
)

_PRAISE_FR = _pool(
    """
    /photo | Bravo aux agents des espaces verts, les massifs du quai Gambetta sont magnifiques 💐
    /market! | Super soirée au marché nocturne, merci à toute l'équipe 👏
    /bike! | Enfin la piste cyclable jusqu'au collège, ma fille peut y aller à vélo en sécurité.
        Merci !
    /id | Accueil au top à l'état civil ce matin, rapide et souriant. Ça fait plaisir
    /! | Merci pour l'info, c'est clair et on est prévenus à l'avance 😉
    /waste | Les agents de la collecte ont ramassé mon bac sorti en retard sans rien dire, merci à
        eux !
    /! | Très bonne initiative, continuez comme ça
    /police | Merci à la police municipale pour votre intervention rapide {rue} hier soir
    /roadworks | Chantier terminé en avance {rue}, chapeau aux équipes 👍
    /photo | Quelle belle ville 😍 fière d'y habiter depuis {n}0 ans
    /library | La médiathèque est un super lieu, merci aux bibliothécaires pour les ateliers des
        petits
    Merci madame la maire d'être venue discuter avec nous aux {quartier}, ça change
    /skatepark! | Le skatepark est top, mon fils y passe tous ses mercredis
    Merci pour la réactivité, le lampadaire a été réparé le lendemain de mon message !
    /photo! | Magnifique photo, on a de la chance de vivre ici
    /id | Passeport fait en 10 jours, rdv tenu à l'heure. Franchement rien à redire
    /ceremony! | Très belle cérémonie, émouvant de voir les enfants lire les noms
    /assos! | Le forum des assos était très bien organisé, mes enfants se sont inscrits au judo et
        au théâtre
    /ccas | Un grand merci au CCAS qui a aidé mon père pour son dossier, des gens en or
    /place! | La nouvelle place sera magnifique, hâte de voir le résultat. Moins de voitures, c'est
        mieux pour tout le monde
    /waste | Service impeccable aux services techniques, bac changé en 48h
    /waste! | Merci pour le rappel, je n'avais pas vu que les jours changeaient
    /market! | Bravo pour la fanfare, ambiance de folie sur le quai 🎺
    /police | Merci pour les contrôles, ça roulait beaucoup trop vite devant l'école
    /police | Merci pour l'opération tranquillité vacances, j'ai trouvé le petit mot de passage de
        vos agents en rentrant 👍
    /water! | Merci pour la mise au point, on commençait à avoir peur avec tous ces messages
    /scam-warning! | Merci de prévenir, ma mère a failli répondre à ce faux compte !
    /library! | 20 ans déjà ! Mes enfants ont appris à lire avec les bibliothécaires de Colette ❤️
    /skatepark! | Bravo au conseil municipal des enfants, super projet
    /school! | Merci d'avoir mis le dossier en ligne, ça évite de poser une demi-journée
    Merci à l'agent d'accueil qui a pris le temps de tout m'expliquer pour le dossier de ma mère
    Les espaces verts font un travail remarquable, la ville n'a jamais été aussi fleurie 🌷
    /id | Dossier de mariage bouclé en une matinée avec l'état civil, merci pour votre gentillesse
    """
)
_PRAISE_EN = _pool(
    """
    /market! | Lovely evening at the night market, well done everyone!
    /photo | Such a beautiful town, the flowers along the quay are stunning 🌸
    Thank you to the lady at the town hall who helped us with our paperwork in English, so kind
    /bike! | Great to see the cycle path finished, much safer for the kids
    /photo | Greetings from Bristol! We loved our stay, what a welcoming town 🙂
    /library | The library's English book corner is a lovely idea, thank you
    /photo! | Gorgeous shot 😍
    /market! | Best night out we've had in ages, the cheese stall was amazing 🧀
    /id | Passport renewed in two weeks, very efficient service, thank you!
    /skatepark! | My son hasn't left the skatepark since it opened 😂 great project
    /ceremony! | Very moving ceremony, lovely to see the children involved
    """
)
_PRAISE_AR = _pool(
    """
    شكرا لموظفي البلدية على حسن الاستقبال اليوم 🌹
    /photo | الله يعطيكم الصحة على تنظيف الحديقة
    /! | مبادرة رائعة، شكرا للبلدية
    /library | المكتبة رائعة وأولادي يحبون الورشات
    /photo! | صورة رائعة، مدينتنا جميلة
    /market! | سهرة رائعة في السوق الليلي، شكرا للمنظمين
    /id | حصلت على جواز السفر بسرعة، شكرا لموظفي البلدية
    """
)

_CRITICISM_FR = _pool(
    """
    /roadworks | Encore des travaux mal coordonnés. Troisième fois en un an que la chaussée {rue}
        est éventrée. Qui planifie ça à la mairie ?
    /place! | Hausse de la taxe foncière + suppression de places de parking : Mme Dumas, vous avez
        perdu le contact avec les habitants.
    /place | La politique de stationnement de cette municipalité est catastrophique, les commerces
        du centre ferment les uns après les autres.
    /id | {n} mois pour un rdv passeport. C'est indigne d'un service public.
    /waste | Vous communiquez beaucoup sur les réseaux mais les poubelles débordent aux {quartier}
        depuis 10 jours.
    /place! | 1,2 million d'euros pour la place du Marché alors que l'école Jules-Ferry a des fuites
        dans le toit. Vos priorités sont à l'envers.
    /council | Je n'ai pas voté pour ça. Ce conseil municipal ne consulte personne et décide tout
        en petit comité.
    /place! | Réunion publique à 19h un jour de semaine, comme par hasard quand ceux qui travaillent
        ne peuvent pas venir.
    /waste! | Les nouveaux jours de collecte sont une aberration pour les familles nombreuses. Un bac
        jaune tous les 15 jours, c'est intenable.
    /bike! | La piste cyclable c'est bien, mais vous avez supprimé le seul parking de la rue.
        Résultat : tout le monde se gare sur le trottoir.
    Madame la maire, vous aviez promis une maison de santé pendant la campagne. On l'attend
        toujours.
    /roadworks | Toujours aucune réponse à mon courrier d'il y a {n} semaines sur le bruit du
        chantier. Ce mépris, ça suffit.
    /police | Vous verbalisez devant l'école mais jamais les rodéos de motos la nuit aux
        {quartier}. Deux poids deux mesures.
    Le budget communication explose pendant que les trottoirs {rue} sont impraticables avec une
        poussette.
    /id! | Fermer l'état civil un après-midi en prévenant si tard, c'est se moquer des gens qui ont
        posé un congé.
    /council | Cette majorité gère la ville comme une entreprise, sans vision ni concertation.
        Vivement les prochaines élections.
    /school | Les tarifs de la cantine augmentent encore de 8 %, c'est dur pour les familles
        modestes.
    Cette densification bétonne les Coteaux, vous détruisez ce qui faisait le charme de
        Saint-Aubin.
    /roadworks! | Trois semaines de circulation alternée et pas un agent pour réguler aux heures de
        pointe.
    /place! | Pourquoi aucune concertation avec les commerçants avant de voter le projet ? Ils
        l'apprennent sur Facebook.
    /market! | Le marché nocturne, très bien, mais le quai était un dépotoir le lendemain matin.
    /skatepark! | Un skatepark à 300 000 € mais pas de médecin en ville. Cherchez l'erreur.
    /waste! | La déchetterie fermée le jour férié ET le lendemain, bravo la logique.
    /police! | Contrôles de vitesse, encore. La police municipale ferait mieux d'être présente le
        soir au centre-bourg.
    /water! | Un démenti, c'est bien, mais pourquoi avoir attendu trois jours ? Vous auriez pu
        publier les analyses tout de suite.
    /scam-warning! | Il a fallu une journée pour réagir à ce faux compte alors que tout le monde le
        signalait depuis la veille.
    /power! | Deuxième coupure en deux mois aux Coteaux, les commerçants perdent une matinée à chaque
        fois.
    /photo! | Jolie photo, mais le quai est dans un état lamentable dès qu'on sort du cadre.
    /school! | Le dossier d'inscription demande encore des photocopies de tout, on est en quelle
        année ?
    Les trottoirs du centre sont une honte, essayez d'y passer en fauteuil roulant pour voir.
    Les impôts locaux augmentent chaque année et on ne voit aucune amélioration dans les quartiers.
    Trois mails à la mairie depuis le mois dernier, aucune réponse. À quoi sert le service
        « relations citoyens » ?
    """
)
_CRITICISM_EN = _pool(
    """
    /roadworks | The works on avenue de la Loire have been going on forever and nobody tells
        residents anything.
    /waste | Bins haven't been collected in {quartier} for ten days. Not good enough.
    /id | Three months to get a passport appointment? Ridiculous.
    Why is nothing on the town website ever translated? Plenty of foreign residents live here.
    /place! | Removing the parking on the market square will kill the shops, simple as that.
    /water! | Why did it take three days to deny the water rumour? People were genuinely scared.
    /police | Speed checks are fine but nobody ever enforces anything at night.
    """
)
_CRITICISM_AR = _pool(
    """
    /roadworks | الأشغال في شارع Jean-Jaurès طالت كثيرا، المحلات تعاني
    /id | لماذا لا يوجد أي موعد متاح لبطاقة الهوية قبل ثلاثة أشهر؟ هذا غير معقول
    /waste | النفايات لم تُجمع منذ أسبوع في حي {quartier}، هذا غير مقبول
    /place! | إلغاء مواقف السيارات في ساحة السوق سيضر بالتجار
    /school | أسعار المطعم المدرسي ارتفعت كثيرا هذه السنة
    """
)

_INSULTS_FR = _pool(
    """
    mayor | Dumas t'es qu'une incapable, DÉMISSION !!
    mayor | Cette maire est une honte, une menteuse et une bonne à rien
    mayor | la maire = une clown qui se prend pour une ministre 🤡
    mayor | Mme Dumas vous êtes d'une bêtise affligeante, sérieusement
    mayor | Claire Dumas la reine des guignols, ferme-la et bosse
    agents | Bande de guignols à la mairie, vous servez à rien
    agents/police | Les flics municipaux, des cow-boys débiles qui verbalisent les mamies 🤡
    agents/id | Les agents de l'accueil sont des feignasses incompétentes
    agents/police | Encore ces abrutis de la police municipale qui jouent aux shérifs
    agents | Les fonctionnaires de cette mairie, des parasites payés à rien foutre
    agents/roadworks | Le chef de chantier {rue} est un gros con, il nous parle comme à des chiens
    citizen | T'es vraiment un abruti toi, va lire l'article avant de commenter
    citizen | Ferme-la espèce de crétin, personne t'a demandé ton avis
    citizen | Pauvre débile, tu crois tout ce que raconte la mairie 😂
    citizen | Ta gueule le lèche-bottes de la maire
    citizen | Quelle conne celle-là, toujours à pleurnicher pour rien
    """
)
_INSULTS_EN = _pool(
    """
    mayor | What a joke of a mayor 🤡
    agents | Useless, the whole lot of you at the town hall.
    citizen | Shut up, nobody asked you, idiot
    """
)

_THREATS_FR = _pool(
    """
    mayor | Claire Dumas on sait où t'habites. Fais attention quand tu rentres le soir.
    mayor | Continuez comme ça madame la maire et ça va très mal finir pour vous, croyez-moi.
    mayor/place! | Si le parking est supprimé, on viendra s'occuper personnellement de la maire.
        Elle est prévenue.
    mayor | La maire mérite une bonne correction, et ça va arriver plus tôt qu'elle ne croit
    mayor | Je sais où tu gares ta voiture le matin Dumas. Tu vas payer pour ce que tu fais au
        quartier.
    agents/police | Le prochain ASVP qui colle une amende devant chez moi, je le démonte.
    agents/roadworks | Si la rue n'est pas rouverte lundi je mets le feu à vos engins de chantier
    agents | On va venir vous chercher à la mairie, vous allez regretter d'être nés
    agents/police | Vos agents feraient bien de ne plus mettre les pieds aux {quartier}, sinon ils
        rentreront pas entiers.
    agents/police | Je connais la voiture de l'agent qui m'a verbalisé, il va avoir une mauvaise
        surprise
    """
)
_THREATS_EN = _pool(
    """
    mayor | Keep this up and someone's going to pay the mayor a visit she won't forget.
    """
)

_HATE_FR = _pool(
    """
    origin | Encore des logements pour les étrangers pendant que les gens d'ici attendent. Qu'ils
        rentrent chez eux.
    origin | Depuis qu'ils ont installé ces familles venues d'ailleurs aux {quartier}, c'est plus
        la France ici. Dehors.
    origin | Les gens du voyage ramènent que des problèmes, faut les virer de la commune direct
    religion | Une salle de prière aux Tilleuls ? Hors de question, ces gens-là n'ont qu'à
        pratiquer leur religion dans leur pays.
    religion/school | Un menu sans porc à la cantine ? Maintenant on s'adapte à eux ? Ils veulent
        nous imposer leur religion.
    sexual_orientation | Un drapeau arc-en-ciel sur la mairie ? Ces gens-là sont des malades,
        qu'ils restent cachés.
    sexual_orientation/library | La médiathèque fait la promo des homos auprès des gamins, c'est
        dégoûtant
    gender | Une femme maire, voilà le résultat. Retourne à tes casseroles Claire.
    gender | Les femmes en politique c'est toujours pareil, hystériques et incompétentes
    disability | Encore des places handicapés partout pour des assistés qui servent à rien
    disability/market | Les handicapés du foyer des Coteaux n'ont rien à faire au marché, ils font
        peur aux enfants
    """
)
_HATE_EN = _pool(
    """
    origin | Too many foreigners in this town now, send them back where they came from.
    sexual_orientation | Rainbow flags at the town hall? Disgusting, keep that stuff away from our
        kids.
    """
)

_SPAM_FR = _pool(
    """
    argent_facile_2024 | Gagnez 500€ par jour depuis chez vous 💰 sans diplôme ! Infos 👉
        {link:gains-rapides.example}
    promoclim_fr | 🔥 PROMO 🔥 Climatisation réversible à -70% cette semaine seulement, devis
        gratuit : {link:promo-clim-direct.example}
    recettes_de_mamie_ | Abonne-toi à ma page pour plus de recettes faciles 😋😋
        {link:recettes-mamie.example}
    rencontres_locales_fr | Rencontres sérieuses près de chez toi ❤️ inscription gratuite
        {link:rencontres-locales.example}
    serrurerie_express24 | Serrurier pas cher Saint-Aubin 24h/24 dépannage rapide ☎️
        {link:serrurier-express.example}
    followers_boost_pro | Follow for follow ? 🔁 je suis en retour direct
    followers_boost_pro | +10 000 abonnés garantis en 48h 🚀 {link:followers-boost.example}
    """
)
_SPAM_EN = _pool(
    """
    travelwithlou | Check out my new travel vlog!! Link in bio 🌍✈️ {link:travel-with-lou.example}
    essay_pro_help | Best essay writing service, cheap and fast, DM now 📚
    followers_boost_pro | Want 10k real followers? Visit {link:followers-boost.example} 🚀
    rencontres_locales_fr | Hot singles in your area 💋 {link:rencontres-locales.example}
    """
)
_SPAM_AR = _pool(
    """
    easy_money_ar | اربح 500 يورو يوميا من بيتك بدون خبرة، التفاصيل هنا {link:gains-rapides.example}
    """
)

_SCAM_FR = _pool(
    """
    concours_saint_aubin | 🎉 GRAND CONCOURS : la ville offre 50 bons d'achat de 100 € ! Likez,
        partagez et remplissez le formulaire 👉 {link:concours-mairie-saint-aubin.example}
    service.amendes.paiement | Avis de contravention impayée : régularisez sous 48h pour éviter la
        majoration de 375 € : {link:amendes-gouv-paiement.example}
    suivi_colis_livraison | Votre colis n'a pas pu être livré (frais de douane 1,99 €).
        Reprogrammez la livraison : {link:colis-suivi-livraison.example}
    remboursement.info.fr | Remboursement en attente de 287,40 €. Confirmez vos coordonnées
        bancaires ici {link:remboursement-caf-info.example}
    sophie_trading_4411 | J'ai investi 250 € en crypto avec Mme Laurent et je touche 4 800 € par
        semaine 🙏 contactez-la en privé @laurent_invest
    billets_dispo_49 | Je revends 2 places pour le concert de ce soir, paiement par coupon recharge
        uniquement 😉
    page.support.team.0912 | URGENT : votre page sera désactivée pour violation des droits
        d'auteur. Faites appel sous 24h : {link:meta-support-verification.example}
    page.support.team.0912 | Support Meta : votre compte professionnel doit être vérifié. Cliquez
        ici : {link:meta-support-verification.example}
    """
)
_SCAM_EN = _pool(
    """
    cryptoqueen_8827 | I turned €200 into €5,400 in 3 weeks with this trading app 📈 DM me and I'll
        show you how
    mike_giveaway_official | Congratulations! 🎁 You've been selected for our $1,000 giveaway.
        Claim now: {link:giveaway-winners.example}
    cryptoqueen_8827 | Bitcoin doubler event live now!! Send 0.1 BTC, get 0.2 back 🚀
        {link:btc-doubler.example}
    page.support.team.0912 | Your account has been flagged for copyright violation. Verify within
        24h or it will be deleted: {link:meta-support-verification.example}
    """
)
_SCAM_AR = _pool(
    """
    easy_money_ar | مبروك! تم اختيارك للفوز بجائزة 1000 يورو، اضغط على الرابط لاستلامها
        {link:giveaway-winners.example}
    """
)

_NEUTRAL_FR = _pool(
    """
    /event! | {ami} on y va ?
    /event! | Trop bien, on sera là avec les enfants
    /! | {ami} regarde ça 👀
    /photo! | Sympa la photo 📸
    Quelqu'un a vu un chat roux perdu {rue} ? Il s'appelle Caramel 🐱
    /photo! | Magnifique coucher de soleil sur la Loire ce soir aussi 🌅
    Qui vient au match de l'US Saint-Aubin dimanche ? Derby contre les voisins ⚽
    /bike! | Je passe par là tous les jours à vélo
    /roadworks! | Haha on a tous une histoire avec ce carrefour 😂
    Doudou lapin gris trouvé au parc des {quartier}, je l'ai accroché à la grille
    Il pleut encore, sortez les parapluies ☔
    /school! | Souvenirs d'enfance, j'allais à l'école Jules-Ferry moi aussi
    /roadworks | La boulangerie {rue} a rouvert, le pain est toujours aussi bon
    /waste! | Mon grand-père a travaillé 30 ans aux services techniques, il en parle encore
    /vide-grenier! | Il y a une brocante à Beaulieu le même jour, on peut faire les deux
    Qqn pour du covoit vers Angers demain matin ?
    /place! | Je me souviens quand il y avait encore le cinéma sur la place
    /roadworks! | {ami} c'est pas ta rue ça ?
    /! | Ok noté 👍
    /photo | La Loire est drôlement basse en ce moment
    Quelqu'un connaît un bon garagiste dans le coin ?
    /photo | Vu passer un héron sur le quai ce matin, magnifique
    /police! | Perso je n'ai jamais eu de problème, le quartier est plutôt calme
    /ceremony! | Mon arrière-grand-père est sur le monument, j'y serai
    /assos! | Le club de rando recrute aussi, avis aux amateurs 🥾
    /market! | Le stand de fromages de chèvre était top, quelqu'un a le nom du producteur ?
    """
)
_NEUTRAL_EN = _pool(
    """
    Sending this to my sister who lives near Saint-Aubin
    /photo | We drove through last week on our way down the Loire, such a pretty spot
    Does anyone know a good English-speaking plumber around here?
    /photo! | {ami} look, it's the bridge near our gîte!
    /roadworks! | Ha, that roundabout again 😂
    /event! | We'll be there with the kids!
    /market! | Is this the same market we went to last year? Looks lovely
    /photo! | Great shot 📸
    /photo! | Miss this view so much! Back in September 🙂
    /event! | Put it in the diary!
    Anyone else hear the fireworks last night?
    /waste | Took us a while to understand the bin system when we moved here 😅
    """
)
_NEUTRAL_AR = _pool(
    """
    /photo | مدينة جميلة، أول مرة أزورها
    عيد مبارك لكل سكان سان أوبان 🌙
    /photo! | صورة جميلة ما شاء الله
    /! | {ami} شوف هذا
    شكرا على المعلومة
    /event! | إن شاء الله نكون هناك مع الأولاد
    /photo | ما أجمل نهر اللوار
    /event! | {ami} تعال نروح مع بعض
    """
)

#: How people answer each other under a comment.
_REPLY_NEUTRAL_FR = _pool(
    """
    +1
    Pareil chez nous aux {quartier}
    Merci pour l'info
    C'est pas faux
    {ami} tu as vu ?
    On en parlait justement hier avec les voisins
    Je me posais la même question
    😂😂
    Ah bon ? Première nouvelle
    Bonne question, je veux bien la réponse aussi
    Pareil, j'ai vu passer l'info ce matin
    Ça dépend des quartiers je crois
    """
)
_REPLY_NEUTRAL_EN = _pool(
    """
    Same here
    Good to know, thanks
    +1, wondering the same
    Ha, same thing happened to us
    Thanks for sharing
    Haha exactly
    """
)
_REPLY_NEUTRAL_AR = _pool(
    """
    شكرا على المعلومة
    نفس الشيء عندنا
    صحيح
    الله يسهل
    """
)
_REPLY_PRAISE_FR = _pool(
    """
    Faut pas exagérer, les agents font ce qu'ils peuvent avec les moyens qu'ils ont
    Moi je trouve que la mairie fait du bon boulot, on ne parle jamais de ce qui marche
    Pour une fois qu'on est prévenus à l'avance, faut le souligner
    Perso j'ai eu affaire à eux la semaine dernière, accueil impeccable
    Ils ont réparé ma rue en deux jours, on ne peut pas dire qu'ils ne font rien
    Franchement la ville a changé en bien ces dernières années
    """
)
_REPLY_PRAISE_EN = _pool(
    """
    To be fair, the staff have always been helpful to us
    Honestly, they've always been lovely with us
    """
)
_REPLY_CRITICISM_FR = _pool(
    """
    Entièrement d'accord. Et personne ne répond jamais aux courriers
    Exactement. Ça fait des années que ça dure
    Pareil aux {quartier}, c'est devenu n'importe quoi
    La mairie s'en fiche, on l'a bien vu au dernier conseil
    Tout à fait, et ce sont les commerçants qui trinquent
    Et on nous demande de payer plus d'impôts pour ça
    Vous avez raison, on n'est jamais consultés sur rien
    """
)
_REPLY_CRITICISM_EN = _pool(
    """
    Totally agree, it's been like this for years
    Same experience here, very frustrating
    Couldn't agree more
    """
)

#: What the watch catches besides the rest: people talking about the town, not to it.
_WATCH_NEUTRAL_FR = _pool(
    """
    Balade du dimanche sur les bords de Loire à Saint-Aubin, le vieux pont dans la brume 📷
    Petite pensée pour la mercerie de la rue du Pont à Saint-Aubin qui ferme après 40 ans 😢
    Testé ce matin la nouvelle piste cyclable de Saint-Aubin-sur-Loire, de la gare au collège en
        8 minutes 🚲
    Bouchon monstre à l'entrée de Saint-Aubin ce matin, quelqu'un sait ce qui se passe ?
    Derby US Saint-Aubin – Beaulieu ce week-end, 2-2, quel match ⚽
    Nouveau resto vietnamien rue Victor-Hugo à Saint-Aubin, les bo bun sont excellents 🍜
    Les cloches de Saint-Aubin sonnent à 7h même le dimanche, c'est normal ? 😅
    Concert de la fanfare des Coteaux à Saint-Aubin, toujours la même énergie 🎺
    Quelqu'un a des nouvelles du projet de cinéma à Saint-Aubin ? On en parle depuis des années
    """
)
_WATCH_NEUTRAL_EN = _pool(
    """
    Spent a lovely afternoon in Saint-Aubin-sur-Loire, the riverside is gorgeous
    Anyone know a good gîte near Saint-Aubin-sur-Loire for August?
    Cycling the Loire: stopped in Saint-Aubin for coffee and croissants, lovely little town 🚲
    """
)
_WATCH_NEUTRAL_AR = _pool(
    """
    زرت سان أوبان اليوم، مدينة هادئة وجميلة على ضفاف نهر اللوار
    """
)

_POOLS: dict[str, dict[str, _Pool]] = {
    "question": {"fr": _QUESTIONS_FR, "en": _QUESTIONS_EN, "ar": _QUESTIONS_AR},
    "request": {"fr": _REQUESTS_FR, "en": _REQUESTS_EN, "ar": _REQUESTS_AR},
    "message_question": {"fr": _MESSAGE_QUESTIONS_FR},
    "message_request": {"fr": _MESSAGE_REQUESTS_FR},
    "praise": {"fr": _PRAISE_FR, "en": _PRAISE_EN, "ar": _PRAISE_AR},
    "criticism": {"fr": _CRITICISM_FR, "en": _CRITICISM_EN, "ar": _CRITICISM_AR},
    "insult": {"fr": _INSULTS_FR, "en": _INSULTS_EN},
    "threat": {"fr": _THREATS_FR, "en": _THREATS_EN},
    "hate": {"fr": _HATE_FR, "en": _HATE_EN},
    "spam": {"fr": _SPAM_FR, "en": _SPAM_EN, "ar": _SPAM_AR},
    "scam": {"fr": _SCAM_FR, "en": _SCAM_EN, "ar": _SCAM_AR},
    "neutral": {"fr": _NEUTRAL_FR, "en": _NEUTRAL_EN, "ar": _NEUTRAL_AR},
    "reply_neutral": {"fr": _REPLY_NEUTRAL_FR, "en": _REPLY_NEUTRAL_EN, "ar": _REPLY_NEUTRAL_AR},
    "reply_praise": {"fr": _REPLY_PRAISE_FR, "en": _REPLY_PRAISE_EN},
    "reply_criticism": {"fr": _REPLY_CRITICISM_FR, "en": _REPLY_CRITICISM_EN},
    "watch_neutral": {"fr": _WATCH_NEUTRAL_FR, "en": _WATCH_NEUTRAL_EN, "ar": _WATCH_NEUTRAL_AR},
}

#: The town's answers: the first whose keywords (lowercase, without accents) occur in the
#: question wins; {prenom} is the first name of the person answered.
_ANSWERS_FR: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("velo electrique",),
        "Bonjour {prenom}, oui : la ville verse une aide de 100 € pour l'achat d'un vélo à "
        f"assistance électrique, sous conditions de ressources. Le dossier : {WEBSITE}/velo",
    ),
    (
        ("legaliser",),
        "Bonjour {prenom}, la légalisation de signature se fait à l'accueil, sans rendez-vous : "
        "venez avec votre pièce d'identité et signez le document devant l'agent.",
    ),
    (
        ("salle des fetes",),
        "Bonjour {prenom}, la salle des fêtes se réserve auprès du service vie associative, au "
        f"moins deux mois à l'avance : {WEBSITE}/salles",
    ),
    (
        ("echafaudage",),
        "Bonjour {prenom}, oui, il faut une autorisation d'occupation du domaine public, à "
        f"demander 15 jours avant le début des travaux : {WEBSITE}/voirie",
    ),
    (
        ("composteur",),
        "Bonjour {prenom}, oui, les composteurs sont gratuits : inscrivez-vous aux services "
        "techniques, une distribution a lieu chaque premier samedi du mois.",
    ),
    (
        ("conseil municipal des enfants",),
        "Bonjour {prenom}, les élections du conseil municipal des enfants ont lieu à la rentrée "
        "dans les écoles, pour les élèves de CM1 et de CM2.",
    ),
    (
        ("jardins partages",),
        "Bonjour {prenom}, oui, aux Varennes : les parcelles sont attribuées sur liste d'attente "
        "auprès du service des espaces verts.",
    ),
    (
        ("pause dejeuner", "entre midi"),
        "Bonjour {prenom}, l'accueil et les titres d'identité ferment de 12h à 13h30, sauf le "
        "jeudi où l'accueil reste ouvert jusqu'à 19h sans interruption.",
    ),
    (
        ("ferie",),
        "Bonjour {prenom}, en cas de jour férié la collecte est décalée au lendemain : pensez à "
        "sortir votre bac la veille au soir.",
    ),
    (
        ("bac jaune", "bacs jaunes", "roue", "yaourt", "barquettes"),
        "Bonjour {prenom}, les bacs jaunes se retirent aux services techniques, 12 rue des "
        "Ateliers, du lundi au vendredi de 8h à 12h. Le guide du tri est ici : "
        f"{WEBSITE}/tri",
    ),
    (
        ("encombrant", "matelas", "depot sauvage"),
        "Bonjour {prenom}, merci, nous avons transmis aux services techniques pour l'enlèvement. "
        f"Les encombrants sont collectés sur rendez-vous : {WEBSITE}/encombrants",
    ),
    (
        ("conteneurs a verre", "collecte du verre"),
        "Bonjour {prenom}, le verre se dépose dans les conteneurs de quartier, vidés chaque "
        "semaine ; nous avons demandé un passage supplémentaire aux {quartier}.",
    ),
    (
        ("pas ete collecte", "repasser", "pas ramasse"),
        "Bonjour {prenom}, nous avons signalé l'oubli au prestataire, un passage est prévu "
        "demain matin. Merci de laisser votre bac sorti.",
    ),
    (
        ("dechetterie", "dechets verts", "badge"),
        "Bonjour {prenom}, la déchetterie des Varennes est ouverte du lundi au samedi de 9h à 12h "
        "et de 14h à 18h, sans badge. Les déchets verts y sont acceptés gratuitement.",
    ),
    (
        ("calendrier", "semaine sur deux", "شاحنة النفايات", "الحاوية"),
        f"Bonjour {{prenom}}, le calendrier de votre quartier est ici : {WEBSITE}/collecte. Une "
        "version papier est disponible à l'accueil de la mairie.",
    ),
    (
        ("coupure concerne",),
        "Bonjour {prenom}, la liste des rues concernées par la coupure est sur le site du "
        "gestionnaire du réseau et affichée en mairie.",
    ),
    (
        ("coupures d'eau", "eau de pluie"),
        "Bonjour {prenom}, de courtes coupures sont possibles pendant le chantier : les "
        "riverains concernés sont prévenus la veille par un avis dans leur boîte aux lettres.",
    ),
    (
        (
            "nid de poule",
            "tranchee",
            "lampadaire",
            "plaque",
            "panneaux",
            "nettoyer",
            "potelets",
            "haie",
            "banc",
            "poubelle",
            "المصباح",
        ),
        "Bonjour {prenom}, merci pour votre signalement, nous l'avons transmis aux services "
        "techniques qui interviendront dans la semaine.",
    ),
    (
        ("riverains", "boulangerie", "week-end"),
        "Bonjour {prenom}, l'accès des riverains et des commerces est maintenu pendant toute la "
        "durée du chantier, y compris le week-end.",
    ),
    (
        ("combien de temps exactement", "arret", "feux provisoires", "trottoirs"),
        "Bonjour {prenom}, la fin du chantier est prévue dans {n} jours si la météo le permet. "
        "Nous publierons une information dès la réouverture.",
    ),
    (
        ("stationnement",),
        "Bonjour {prenom}, le stationnement est interdit côté pair uniquement, pendant la durée "
        "des travaux.",
    ),
    (
        ("car scolaire", "deviation"),
        "Bonjour {prenom}, le car scolaire et les lignes 2 et 5 sont déviés par le quai "
        "Gambetta ; les arrêts provisoires sont signalés sur place.",
    ),
    (
        ("velo", "piste cyclable"),
        "Bonjour {prenom}, les cyclistes peuvent passer à pied sur le trottoir pendant la "
        "fermeture. Un parking vélo sécurisé est ouvert à la gare, et la piste y arrivera l'an "
        "prochain.",
    ),
    (
        ("travaux de la place", "places handicapees", "plans du projet"),
        "Bonjour {prenom}, les travaux commenceront à l'automne ; le marché du samedi sera "
        "installé rue de l'Abbaye pendant le chantier. Le projet prévoit 6 places PMR et les "
        f"plans sont en ligne : {WEBSITE}/place-du-marche",
    ),
    (
        ("reunion publique", "conseil", "compte rendu"),
        "Bonjour {prenom}, les séances sont retransmises en direct puis disponibles en replay "
        f"sur {WEBSITE}/conseil, avec leurs comptes rendus.",
    ),
    (
        ("mineur", "enfant"),
        "Bonjour {prenom}, pour un mineur, la présence d'un seul parent exerçant l'autorité "
        "parentale suffit, avec sa pièce d'identité ; l'enfant doit être présent au dépôt. Le "
        "passeport coûte 17 € avant 15 ans.",
    ),
    (
        ("marier", "mariage", "pacs", "عقد زواجي"),
        "Bonjour {prenom}, pour un mariage ou un PACS, contactez l'état civil au moins trois mois "
        "avant la date souhaitée. Les copies d'actes de mariage se demandent en ligne : "
        f"{WEBSITE}/etat-civil",
    ),
    (
        ("deces", "decedee"),
        "Bonjour {prenom}, toutes nos condoléances. Les extraits d'acte de décès se demandent "
        f"en ligne ou à l'accueil, sans rendez-vous et gratuitement : {WEBSITE}/etat-civil",
    ),
    (
        ("declarer une naissance", "reconnaissance anticipee"),
        "Bonjour {prenom}, une naissance se déclare dans les 5 jours, avec le livret de famille "
        "si vous en avez un. La reconnaissance anticipée se fait sans rendez-vous, du lundi au "
        "vendredi matin.",
    ),
    (
        ("acte", "naissance", "شهادة ميلاد"),
        "Bonjour {prenom}, les actes de naissance, de mariage et de décès se demandent en ligne, "
        f"sans rendez-vous, et sont envoyés par courrier sous 48h : {WEBSITE}/etat-civil",
    ),
    (
        ("العربية",),
        "Bonjour {prenom}, oui, une agente de l'état civil parle arabe : précisez-le en prenant "
        "rendez-vous et elle vous recevra.",
    ),
    (
        (
            "rdv",
            "rendez-vous",
            "creneaux",
            "passeport",
            "carte d'identite",
            "cni",
            "perime",
            "perdu",
            "sms",
            "titres",
            "جواز",
            "بطاقة",
        ),
        "Bonjour {prenom}, de nouveaux créneaux sont ouverts chaque lundi à 9h sur "
        "https://rdv.saint-aubin-sur-loire.demo.invalid, y compris le samedi matin. En cas de "
        "voyage imminent, contactez directement le service.",
    ),
    (
        ("mediatheque", "المكتبة"),
        "Bonjour {prenom}, la médiathèque est ouverte le mardi, le mercredi et le samedi de 10h "
        "à 12h30 et de 14h à 18h, et le vendredi jusqu'à 19h.",
    ),
    (
        ("piscine",),
        "Bonjour {prenom}, la piscine des Coteaux rouvre lundi, après la vidange technique.",
    ),
    (
        ("skatepark",),
        "Bonjour {prenom}, le skatepark est ouvert tous les jours de 9h à 21h, sans âge minimum ; "
        "les moins de 10 ans doivent être accompagnés.",
    ),
    (
        ("ccas", "registre"),
        "Bonjour {prenom}, l'inscription au registre est possible à tout moment, par téléphone ou "
        "à l'accueil du CCAS (mardi et jeudi après-midi, sans rendez-vous). Un proche peut la "
        "faire.",
    ),
    (
        ("agence postale",),
        "Bonjour {prenom}, l'agence postale communale est ouverte du mardi au samedi de 9h à 12h.",
    ),
    (
        ("google", "mettre a jour"),
        "Bonjour {prenom}, merci de l'avoir signalé, c'est corrigé. Les horaires à jour sont "
        f"toujours sur {WEBSITE}/horaires",
    ),
    (
        ("poste de police",),
        "Bonjour {prenom}, le poste est ouvert du lundi au vendredi de 9h à 12h et de 14h à 17h. "
        "En dehors de ces horaires et en cas d'urgence, composez le 17.",
    ),
    (
        ("otv",),
        "Bonjour {prenom}, oui, vous pouvez déposer le formulaire papier au poste de police "
        "municipale, du lundi au vendredi de 9h à 12h. Pensez à le faire une semaine avant votre "
        "départ.",
    ),
    (
        ("rodeo", "ventouse", "ralentisseur"),
        "Bonjour {prenom}, merci pour votre signalement, une patrouille passera. Vous pouvez aussi "
        "déposer vos demandes au poste du lundi au vendredi de 9h à 12h. En cas d'urgence, "
        "composez le 17.",
    ),
    (
        ("vide-grenier",),
        "Bonjour {prenom}, les inscriptions se font à l'accueil de la mairie jusqu'à la date "
        "limite, et c'est ouvert à tous, pas seulement au quartier !",
    ),
    (
        ("cantine", "maternelle", "centre de loisirs", "المدرسة"),
        "Bonjour {prenom}, les inscriptions scolaires, à la cantine et au centre de loisirs se "
        f"font sur {WEBSITE}/ecoles ou à l'accueil. Une copie des documents suffit.",
    ),
    (
        ("marche", "chiens"),
        "Bonjour {prenom}, le marché est maintenu même en cas de pluie, et les chiens tenus en "
        "laisse sont les bienvenus 🐶",
    ),
    (
        ("listes electorales",),
        "Bonjour {prenom}, l'inscription se fait en ligne ou à l'accueil, avec une pièce "
        "d'identité et un justificatif de domicile de moins de trois mois.",
    ),
    (
        ("forum", "clubs"),
        f"Bonjour {{prenom}}, oui ! La liste des associations présentes est sur {WEBSITE}/assos",
    ),
    (
        ("stage",),
        "Bonjour {prenom}, la mairie accueille des stagiaires de 3e : envoyez une lettre de "
        "motivation au service des ressources humaines.",
    ),
    (
        ("fete des voisins",),
        "Bonjour {prenom}, avec plaisir : faites la demande de prêt de matériel au moins trois "
        f"semaines avant sur {WEBSITE}/pret-materiel",
    ),
    (
        ("eau du robinet",),
        "Bonjour {prenom}, oui, l'eau du robinet est parfaitement potable, y compris pour les "
        "biberons. Les analyses sont publiées sur " + WEBSITE + "/eau",
    ),
    (
        ("urbanisme",),
        "Bonjour {prenom}, le service urbanisme reçoit sur rendez-vous le mardi et le jeudi.",
    ),
    (
        ("ouvert", "horaires", "مفتوحة"),
        "Bonjour {prenom}, l'accueil de la mairie est ouvert du lundi au vendredi de 8h30 à 12h "
        "et de 13h30 à 17h, et le samedi de 9h à 12h (état civil uniquement).",
    ),
    (
        ("",),
        "Bonjour {prenom}, merci pour votre message, nous vous répondons en privé.",
    ),
)
_ANSWERS_EN: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("certified",),
        "Hello {prenom}, signatures are certified at the front desk without an appointment: "
        "bring your ID and sign the document in front of the agent.",
    ),
    (
        ("village hall",),
        "Hello {prenom}, the village hall is booked through the community life department, at "
        f"least two months ahead: {WEBSITE}/salles",
    ),
    (
        ("garden",),
        "Hello {prenom}, yes, in Les Varennes: plots are allocated from a waiting list kept by "
        "the parks department.",
    ),
    (
        ("marriage", "certificate", "register a birth"),
        "Hello {prenom}, certificates can be requested online without an appointment: "
        f"{WEBSITE}/etat-civil. A birth is registered at the town hall within 5 days.",
    ),
    (
        ("passport",),
        "Hello {prenom}, yes, you can apply here, by appointment: "
        "https://rdv.saint-aubin-sur-loire.demo.invalid. The child must come along.",
    ),
    (
        ("recycling", "yellow bins", "calendar", "mattress"),
        "Hello {prenom}, recycling is collected every other Friday and yellow bins can be picked "
        f"up at the technical services. All the details: {WEBSITE}/collecte",
    ),
    (
        ("library",),
        "Hello {prenom}, on Wednesdays the library is open from 10:00 to 12:30 and from 14:00 "
        "to 18:00.",
    ),
    (
        ("market",),
        "Hello {prenom}, the market goes ahead rain or shine, and dogs on a lead are welcome 🐶",
    ),
    (
        ("english",),
        "Hello {prenom}, yes, two of our front-desk staff speak English, just ask at the desk 🙂",
    ),
    (
        ("cycle path", "road be closed", "streetlight"),
        "Hello {prenom}, residents keep access throughout the works, and cyclists can walk "
        "their bikes on the pavement. Thank you for your patience!",
    ),
    (
        ("forum", "clubs"),
        f"Hello {{prenom}}, a few clubs have English speakers: the list is on {WEBSITE}/assos",
    ),
    (
        ("open",),
        "Hello {prenom}, the town hall is open Monday to Friday 8:30-12:00 and 13:30-17:00, "
        "and Saturday 9:00-12:00 for civil status only.",
    ),
    (("",), "Hello {prenom}, thank you for your message, we'll get back to you privately."),
)

# --- the hoax, the campaign and the impersonation ---------------------------------------------

_HOAX_FR = (
    "⚠️ URGENT ⚠️ L'eau du robinet à Saint-Aubin est contaminée depuis les travaux rue des "
    "Tanneurs !! Une bactérie a été trouvée et la mairie ne dit RIEN. Ne buvez plus l'eau, "
    "surtout les enfants. PARTAGEZ MAX",
    "Mon beau-frère qui bosse au syndicat des eaux me l'a confirmé : l'eau est polluée à "
    "Saint-Aubin, ils attendent après le conseil municipal pour l'annoncer. Achetez des "
    "bouteilles.",
    "Info ou intox ? Il paraît que l'eau du robinet est contaminée aux Tilleuls et à la Gare, "
    "plusieurs enfants malades à l'école Jules-Ferry 😱",
    "Ils nous empoisonnent et ils se taisent. Eau contaminée à Saint-Aubin, on veut la vérité "
    "!! #EauSaintAubin",
    "Partagé d'une amie : NE PAS BOIRE L'EAU DU ROBINET à Saint-Aubin-sur-Loire jusqu'à "
    "nouvel ordre (bactérie E. coli après les travaux). Faites tourner 🙏",
    "3 personnes hospitalisées à cause de l'eau et la mairie étouffe l'affaire. Pourquoi aucun "
    "communiqué ?? #EauSaintAubin",
    "C'est pas une rumeur, ma voisine est malade depuis une semaine et son fils aussi. L'eau a "
    "un goût bizarre depuis les travaux.",
    "Le démenti de la mairie c'est du pipeau, évidemment qu'ils vont dire que l'eau est "
    "potable 🙄 Continuez à acheter des bouteilles.",
    "Partagez si vous aussi vous trouvez que l'eau sent bizarre depuis 10 jours à Saint-Aubin "
    "#EauSaintAubin",
    "Plus une bouteille d'eau au supermarché de Saint-Aubin, tout le monde a compris que l'eau "
    "du robinet est contaminée…",
    "Faites bouillir l'eau 10 minutes avant de la boire, c'est ce que m'a dit mon médecin, le "
    "réseau de Saint-Aubin est contaminé",
    "Vu sur un groupe : les analyses de l'eau de Saint-Aubin auraient été falsifiées. On ne "
    "sait plus qui croire",
)
_HOAX_EN = (
    "PSA for anyone in Saint-Aubin-sur-Loire: locals say the tap water is contaminated after "
    "the pipe works, don't drink it. Town hall keeping quiet 🤐",
    "Staying near Saint-Aubin? Apparently the tap water is unsafe at the moment, bacteria "
    "found. Buy bottled!",
)
_HOAX_AR = (
    "تحذير: ماء الحنفية في سان أوبان ملوث، لا تشربوه ولا تعطوه للأطفال! البلدية تخفي الحقيقة. "
    "انشروا",
    "انتبهوا يا جماعة، الماء في سان أوبان فيه بكتيريا حسب ما قالوا، اشتروا الماء المعدني للأطفال",
)
#: Short amplifications of the hoax, as comments or reposts.
_HOAX_ECHOES = (
    "Ma voisine a été malade aussi, c'est sûrement ça !!",
    "Partagé 🙏",
    "Je le savais, l'eau a un goût bizarre depuis les travaux",
    "On a acheté des packs d'eau pour toute la semaine, on prend pas de risque",
    "Ça m'étonne pas de cette mairie",
    "Faites tourner un max",
    "Mes enfants ont eu mal au ventre toute la semaine… tout s'explique",
    "Et personne ne dit rien, c'est un scandale",
)
_HOAX_QUOTE_PREFIXES = ("😱 c'est grave", "Faites tourner ⬇️", "Je relaie :", "À lire :", "!!!")

_HOAX_QUESTIONS = (
    (
        "fr",
        "C'est vrai cette histoire d'eau contaminée ? J'ai un bébé de 3 mois, on fait "
        "comment pour les biberons ?",
    ),
    (
        "fr",
        "Vous confirmez ou pas pour l'eau du robinet ? On voit passer plein de messages "
        "inquiétants",
    ),
    ("fr", "C'est vrai ?? Quelqu'un a une source officielle ?"),
    ("ar", "أختي قالت إن الماء فيه بكتيريا بعد الأشغال، هل هذا صحيح؟"),
)
_HOAX_SKEPTICS = (
    "Source ? Les analyses de l'ARS sont publiques et conformes. Arrêtez de relayer n'importe "
    "quoi.",
    "La mairie a démenti ce matin, l'eau est potable. Vérifiez avant de partager.",
)
_HOAX_ANSWER = (
    "Bonjour {prenom}, l'eau du robinet est parfaitement potable, y compris pour les "
    "biberons. Les dernières analyses de l'ARS sont conformes et consultables sur "
    f"{WEBSITE}/eau. Ces messages sont faux."
)

_CAMPAIGN_TEXT = (
    "Non à la suppression du parking de la place du Marché ! Les habitants et les commerçants "
    "n'ont pas été consultés. Nous exigeons un référendum local avant le début des travaux. "
    "#SauvonsLaPlaceDuMarché"
)
_CAMPAIGN_SWAPS = (
    ("exigeons", "demandons"),
    ("habitants", "riverains"),
    ("consultés", "écoutés"),
    ("Non à", "NON à"),
    ("référendum local", "référendum"),
    ("avant le début des travaux", "avant tout début des travaux"),
)
_CAMPAIGN_PREFIXES = ("", "", "", "✊ ", "📢 ", "😡 ")
_CAMPAIGN_SUFFIXES = ("", "", " ✊", " 🚗🚗", " !!", " 👎")

_IMPOSTOR_POSTS = (
    "📢 Chers administrés, face à la hausse des prix de l'énergie, la mairie verse une aide "
    "exceptionnelle de 250 € à chaque foyer de Saint-Aubin. Pour en bénéficier, envoyez-moi "
    "en message privé vos nom, adresse, IBAN et une photo de votre carte d'identité avant "
    "vendredi. Claire Dumas, votre maire",
    "Beaucoup de demandes pour l'aide de 250 € 🙏 Pour aller plus vite, remplissez directement "
    f"le formulaire sécurisé : {_IMPOSTOR_LINK} (frais de dossier de 4,90 € par carte "
    "bancaire).",
    "Dernier jour pour l'aide énergie ! Seuls les foyers inscrits via le formulaire seront "
    "payés. Partagez à vos voisins âgés 👵👴 Claire Dumas",
)
_IMPOSTOR_COMMENTS = {
    "facebook": "Bonjour à tous, pour l'aide exceptionnelle de 250 € contactez-moi directement "
    "en privé, je traite les dossiers moi-même pour aller plus vite 🙏 Claire Dumas",
    "facebook_reply": "Bonjour {prenom}, oui c'est officiel. Envoyez-moi votre RIB et une "
    "copie de votre carte d'identité en privé, le virement sera fait sous 48h.",
    "instagram": "Je vous réponds en DM pour l'aide énergie de la mairie ✨ lien dans ma bio",
    "bluesky_reply": "Oui c'est bien moi 😊 les services de la mairie sont débordés, c'est "
    "pour ça que je gère en direct. Envoyez vos infos en MP.",
}
_IMPERSONATION_QUESTIONS = {
    "bluesky": "C'est vraiment vous madame la maire ? Ça ressemble beaucoup à une arnaque…",
    "facebook_reply": "Bonjour, c'est officiel cette aide ? Je ne vois rien sur le site de la "
    "mairie",
    "facebook_message": "Bonjour, j'ai envoyé mon RIB hier à « Claire Dumas - Maire » pour "
    "l'aide de 250 €, c'est normal ? Je n'ai rien reçu et maintenant elle me demande 4,90 €",
    "facebook_message_2": "Ma mère a reçu un message de la maire qui lui demande une photo de "
    "sa carte d'identité, c'est vous ??",
    "mastodon": "l'aide énergie de 250 € annoncée par la maire sur Bluesky, c'est officiel ? "
    "Je ne la trouve nulle part sur votre site",
    "instagram": "c'est quoi cette histoire d'aide de 250 € ? c'est un fake non ?",
}
_IMPERSONATION_WARNINGS = (
    "Ne répondez pas, le vrai compte de la mairie n'a jamais parlé de cette aide ! Signalé.",
)
_IMPERSONATION_ANSWER = (
    "Bonjour {prenom}, ce compte n'est pas celui de Mme Dumas. Ne transmettez aucune "
    "information, signalez-le, et si vous avez envoyé votre RIB prévenez votre banque. La "
    "mairie ne demande jamais de coordonnées bancaires par message."
)

_MAYOR_POSTS = (
    (
        24,
        16,
        5,
        "Très heureuse d'avoir inauguré ce matin le skatepark des Tilleuls avec le "
        "conseil municipal des enfants. Un projet porté par eux de A à Z 🛹 Bravo les jeunes !",
    ),
    (
        19,
        18,
        10,
        "Place du Marché : j'entends les inquiétudes des commerçants. Le projet "
        "prévoit 40 places supplémentaires à moins de 200 m, et une zone de livraison. Venez en "
        "débattre à la réunion publique, je serai là pour répondre à toutes les questions.",
    ),
)

# --- small helpers ----------------------------------------------------------------------------

_URL_RE = re.compile(r"https?://[^\s<>\"«»]+")
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]+(?:@[A-Za-z0-9.-]+)?)")
_TAG_RE = re.compile(r"#(\w+)")
_GREETINGS = ("Bonjour, ", "Bonjour ", "Bjr ", "Bonsoir, ", "Hello ", "Salut, ", "Bonjour ")
_SIGNOFFS = (" Merci", " Merci d'avance", " merci !", " Cdlt", " 🙏", " Bonne journée", " Merci 😊")
_ABBREVIATIONS = (
    ("s'il vous plaît", "svp"),
    ("rendez-vous", "rdv"),
    ("quelqu'un", "qqn"),
    ("beaucoup", "bcp"),
    ("pourquoi", "pq"),
    ("Est-ce que", "Est ce que"),
    ("est-ce que", "est ce que"),
    ("c'est", "c est"),
    ("aujourd'hui", "ajd"),
)
_EMOJI = {
    "praise": ("👏", "😍", "🙏", "💚", "👍", "❤️"),
    "criticism": ("🙄", "😡", "👎", "😤", "🤦"),
    "question": ("🤔", "🙏", "😅"),
    "neutral": ("😊", "😂", "👀"),
}
_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
_TID_EPOCH = 1_700_000_000_000_000  # microseconds: the record keys' clock starts here


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _number(key: str, length: int) -> str:
    """A deterministic decimal string of ``length`` digits, not starting with 0."""
    value = int.from_bytes(_digest(key), "big")
    low = 10 ** (length - 1)
    return str(low + value % (9 * low))


def _token(key: str, length: int) -> str:
    """A deterministic URL-safe token of ``length`` characters."""
    raw = base64.urlsafe_b64encode(_digest(key) + _digest(key + "+")).decode("ascii")
    return raw.replace("=", "")[:length]


def _b32(key: str, length: int) -> str:
    value = int.from_bytes(_digest(key), "big")
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in range(length))


def _tid(micros: int, clock: int) -> str:
    """An AT Protocol record key (TID): microseconds and a clock id, base32-sortable."""
    value = (micros << 10) | (clock & 1023)
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _strip_accents(text: str) -> str:
    """Drop the accents of Latin letters only (``é`` → ``e``), as people typing fast do."""
    return "".join(
        _ascii(c) if c.isascii() or "LATIN" in unicodedata.name(c, "") else c for c in text
    )


def _slug(text: str, sep: str = ".") -> str:
    words = re.findall(r"[a-z0-9]+", _ascii(text).lower())
    return sep.join(words)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() else text


def _urls(text: str) -> tuple[str, ...]:
    found = (match.rstrip(".,;:!?)…") for match in _URL_RE.findall(text))
    return tuple(dict.fromkeys(found))


def _fr_date(day: date) -> str:
    number = "1er" if day.day == 1 else str(day.day)
    return f"{_WEEKDAYS[day.weekday()]} {number} {_MONTHS[day.month - 1]}"


def _working_day(day: date, n: int) -> date:
    """The ``n``-th working day (Monday to Friday) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _next_weekday(day: date, weekday: int, at_least: int) -> date:
    """The first ``weekday`` (0 is Monday) at least ``at_least`` days after ``day``."""
    day += timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _answer(text: str, lang: str) -> str:
    """The town's answer template that fits a question or a request."""
    plain = _ascii(text).casefold()
    for keywords, template in _ANSWERS_EN if lang == "en" else _ANSWERS_FR:
        if any(keyword in plain for keyword in keywords):
            return template
    raise AssertionError("the last answer matches everything")


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso_fb(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --- the machinery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Persona:
    key: str
    display: str
    handle: str
    first_name: str
    lang: str
    followers: int
    age_days: int
    instance: str = "mastodon.demo.invalid"
    town: bool = False


@dataclass(frozen=True)
class _Who:
    """A persona as one platform knows it."""

    persona: _Persona
    platform_id: str
    handle: str
    display: str
    url: str
    created: str

    def author(self) -> NormalizedAuthor:
        extra = {
            "followers_count": self.persona.followers,
            "account_created_at": self.created,
        }
        return NormalizedAuthor(self.platform_id, self.handle, self.display, self.url, extra)


@dataclass
class _Draft:
    pid: str
    kind: ItemKind
    text: str
    created_at: datetime
    who: _Who
    lang: str
    label: DemoLabel
    thread_id: str
    parent_id: str | None
    url: str
    likes: int
    shares: int
    media: tuple[Media, ...]
    ref: str  # a platform's secondary id (Facebook object number, Bluesky CID…)
    to: _Who | None = None  # the other party of a private message
    subjects: tuple[str, ...] = ()
    children: int = 0


@dataclass
class _Source:
    name: str
    platform: str
    kind: str
    settings: dict[str, str]
    account: _Persona | None
    drafts: list[_Draft] = field(default_factory=list)
    by_id: dict[str, _Draft] = field(default_factory=dict)
    posts: dict[str, _Draft] = field(default_factory=dict)  # announcement key -> post
    weights: dict[str, float] = field(default_factory=dict)  # post id -> engagement
    seq: int = 0


_MASTODON = "https://mastodon.demo.invalid"
_FACEBOOK = "https://facebook.demo.invalid"
_INSTAGRAM = "https://instagram.demo.invalid"
_BLUESKY = "https://bsky.demo.invalid"
_BLUESKY_SUFFIX = ".bsky.demo.invalid"
_INSTANCES = (
    "mastodon.demo.invalid",
    "mastodon.demo.invalid",
    "piaille.demo.invalid",
    "toot.demo.invalid",
    "social.demo.invalid",
)


class _Builder:
    def __init__(self, now: datetime, seed: int) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now = now.astimezone(UTC)
        self.base = self.now.replace(second=0, microsecond=0)
        self.rng = random.Random(seed)
        self.seen: set[str] = set()
        self.used: dict[tuple[str, str], dict[str, int]] = {}
        self.whos: dict[tuple[str, str], _Who] = {}
        self._cast()
        self.mastodon = self._source(
            "Mairie (Mastodon)",
            "mastodon",
            "account",
            self.town_mastodon,
            {"base_url": _MASTODON, "handle": self.town_mastodon.handle},
        )
        self.police = self._source(
            "Police municipale (Mastodon)",
            "mastodon",
            "account",
            self.town_police,
            {"base_url": _MASTODON, "handle": self.town_police.handle},
        )
        self.facebook = self._source(
            "Mairie (Facebook)",
            "facebook",
            "account",
            self.town_facebook,
            {"base_url": _FACEBOOK, "page_name": TOWN_NAME, "page_id": ""},
        )
        self.facebook.settings["page_id"] = self.who(self.facebook, self.town_facebook).platform_id
        self.instagram = self._source(
            "Mairie (Instagram)",
            "instagram",
            "account",
            self.town_instagram,
            {"base_url": _INSTAGRAM, "handle": self.town_instagram.handle, "account_id": ""},
        )
        self.instagram.settings["account_id"] = self.who(
            self.instagram, self.town_instagram
        ).platform_id
        self.bluesky = self._source(
            "Veille (Bluesky)",
            "bluesky",
            "watch",
            None,
            {
                "base_url": _BLUESKY,
                "query": '"Saint-Aubin-sur-Loire" OR #SaintAubinSurLoire OR "Claire Dumas"',
                "language": "fr",
            },
        )

    # --- people -----------------------------------------------------------------------------

    def _cast(self) -> None:
        rng = self.rng

        def town(key: str, display: str, handle: str) -> _Persona:
            return _Persona(
                key, display, handle, "", "fr", rng.randint(1800, 9000), 3200, town=True
            )

        self.town_mastodon = town("town-mastodon", TOWN_NAME, "mairie_saint_aubin")
        self.town_police = town(
            "town-police", "Police municipale de Saint-Aubin-sur-Loire", "police_saint_aubin"
        )
        self.town_facebook = town("town-facebook", TOWN_NAME, "mairie.saintaubinsurloire")
        self.town_instagram = town("town-instagram", "Saint-Aubin-sur-Loire", "saintaubinsurloire")
        self.mayor = _Persona(
            "mayor",
            MAYOR,
            "claire-dumas.saint-aubin-sur-loire.demo.invalid",
            "Claire",
            "fr",
            2140,
            2900,
        )
        self.impostor = _Persona(
            "impostor",
            "Claire Dumas - Maire",
            "claire_dumas_maire_officiel",
            "Claire",
            "fr",
            37,
            9,
        )

        self.fr: list[_Persona] = []
        names = [(f, last) for f in _FIRST_NAMES for last in _LAST_NAMES]
        picked = rng.sample(names, 110)
        for first, last in picked[:94]:
            self.fr.append(self._citizen(first, last, "fr"))
        self.campaigners = [
            self._citizen(first, last, "fr", campaign=True) for first, last in picked[94:110]
        ]
        self.en = [self._named(d, h, f, "en", i) for i, (d, h, f) in enumerate(_EN_PEOPLE)]
        self.ar = [self._named(d, h, f, "ar", i) for i, (d, h, f) in enumerate(_AR_PEOPLE)]
        self.trolls = [self._named(d, h, f, "fr", i) for i, (d, h, f) in enumerate(_TROLLS)]
        self.bots = {
            h: _Persona(f"bot-{h}", d, h, "", "fr", rng.randint(0, 60), rng.randint(1, 60))
            for d, h in _BOTS
        }
        # A few regulars write much more than the others.
        self.fr_weights = [1.0 / (1 + i) ** 0.6 for i in range(len(self.fr))]

    def _citizen(self, first: str, last: str, lang: str, campaign: bool = False) -> _Persona:
        rng = self.rng
        f, la = _slug(first, ""), _slug(last, "")
        style = rng.randrange(6)
        handle = (
            f"{f}.{la}",
            f"{f}_{la[:1]}{rng.randint(10, 99)}",
            f"{f}{la}{rng.choice((49, 45, 72, 85, 1978, 1984, 1991))}",
            f"{la}_{f}",
            f"{f}.{la}",
            f"{f[:1]}{la}",
        )[style]
        display = (
            f"{first} {last}",
            f"{first} {last[:1]}.",
            f"{first} {last}",
            f"{first.lower()} {last.lower()}",
            f"{first} {last} 🌻" if rng.random() < 0.5 else f"{first} {last}",
            f"{first} {last}",
        )[style]
        if campaign:
            handle = f"{f}.{la}.{rng.randint(1000, 9999)}"
            display = f"{first} {last}"
            return _Persona(
                f"c-{handle}",
                display,
                handle,
                first,
                lang,
                rng.randint(0, 14),
                rng.randint(2, 21),
                rng.choice(_INSTANCES),
            )
        return _Persona(
            f"p-{handle}",
            display,
            handle,
            first,
            lang,
            rng.randint(12, 900),
            rng.randint(200, 4500),
            rng.choice(_INSTANCES),
        )

    def _named(self, display: str, handle: str, first: str, lang: str, i: int) -> _Persona:
        return _Persona(
            f"{lang}-{handle}",
            display,
            handle,
            first,
            lang,
            self.rng.randint(20, 700),
            self.rng.randint(120, 3800),
            _INSTANCES[i % len(_INSTANCES)],
        )

    def who(self, source: _Source, persona: _Persona) -> _Who:
        """The persona on ``source``'s platform: stable id, handle and address."""
        key = (source.platform, persona.key)
        if key in self.whos:
            return self.whos[key]
        platform = source.platform
        created = _iso_z(
            datetime.combine(self.base.date(), time(12), UTC) - timedelta(days=persona.age_days)
        )
        if platform == "mastodon":
            username = re.sub(r"[^A-Za-z0-9_]", "_", persona.handle)
            home = "mastodon.demo.invalid" if persona.town else persona.instance
            acct = username if home == "mastodon.demo.invalid" else f"{username}@{home}"
            pid = _number(f"mastodon-account:{persona.key}", 18)
            url = f"https://{home}/@{username}"
            who = _Who(persona, pid, acct, persona.display, url, created)
        elif platform == "facebook":
            pid = _number(f"facebook-account:{persona.key}", 15)
            who = _Who(persona, pid, persona.handle, persona.display, f"{_FACEBOOK}/{pid}", created)
        elif platform == "instagram":
            username = re.sub(r"[^a-z0-9_.]", "_", persona.handle.lower())
            pid = _number(f"instagram-account:{persona.key}", 17)
            url = f"{_INSTAGRAM}/{username}"
            who = _Who(persona, pid, username, persona.display, url, created)
        else:
            handle = persona.handle
            if not handle.endswith(".invalid"):
                handle = re.sub(r"[^a-z0-9-]", "-", handle.lower()).strip("-") + _BLUESKY_SUFFIX
            did = "did:plc:" + _b32(f"bluesky-account:{persona.key}", 24)
            url = f"{_BLUESKY}/profile/{handle}"
            who = _Who(persona, did, handle, persona.display, url, created)
        self.whos[key] = who
        return who

    def pick_person(self, category: str, lang: str, head: str | None = None) -> _Persona:
        rng = self.rng
        if category in ("spam", "scam"):
            return self.bots[head] if head in self.bots else rng.choice(list(self.bots.values()))
        if category in ("insult", "threat", "hate") and rng.random() < 0.7:
            return rng.choice(self.trolls)
        if lang == "en":
            return rng.choice(self.en)
        if lang == "ar":
            return rng.choice(self.ar)
        return rng.choices(self.fr, weights=self.fr_weights)[0]

    # --- time -------------------------------------------------------------------------------

    def at(self, days_ago: int, hour: int, minute: int, routine: bool = False) -> datetime:
        """A moment ``days_ago`` days before today (1 to 41), at ``hour:minute`` UTC."""
        days_ago = min(max(days_ago, 1), 41)
        day = self.base.date() - timedelta(days=days_ago)
        if routine and day.weekday() >= 5:
            back = day - timedelta(days=day.weekday() - 4)
            forward = day + timedelta(days=7 - day.weekday())
            day = back if (self.base.date() - back).days <= 41 else forward
        return datetime.combine(day, time(hour, minute), UTC)

    def random_moment(self, lo: int, hi: int) -> datetime:
        hours = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
        weights = (1, 2, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3, 4, 5, 6, 6, 4, 2)
        hour = self.rng.choices(hours, weights=weights)[0]
        return self.at(self.rng.randint(lo, hi), hour, self.rng.randrange(60))

    def after(self, moment: datetime, profile: str = "comment") -> datetime:
        """A moment after ``moment`` (and before now), ``profile`` says how long after."""
        rng = self.rng
        roll = rng.random()
        if profile == "comment":
            if roll < 0.7:
                minutes = rng.uniform(1, 180)
            elif roll < 0.92:
                minutes = rng.uniform(180, 1440)
            else:
                minutes = rng.uniform(1440, 4320)
        elif profile == "reply":
            minutes = rng.uniform(2, 120) if roll < 0.8 else rng.uniform(120, 1080)
        elif profile == "answer":
            minutes = rng.uniform(25, 1560)
        else:  # "soon"
            minutes = rng.uniform(2, 40)
        return self.clamp(moment, moment + timedelta(seconds=int(minutes * 60)))

    def clamp(self, parent: datetime, moment: datetime) -> datetime:
        """``moment``, moved if need be strictly after ``parent`` and strictly before now."""
        if moment <= parent:
            moment = parent + timedelta(minutes=7)
        limit = self.base - timedelta(minutes=1)
        if moment > limit:
            moment = limit
        if moment <= parent:
            half = int((self.base - parent).total_seconds()) // 2
            moment = parent + timedelta(seconds=max(1, half))
        assert parent < moment < self.now, (parent, moment, self.now)
        return moment

    # --- texts ------------------------------------------------------------------------------

    def slot(self, name: str, extra: Mapping[str, str]) -> str:
        rng = self.rng
        if name in extra:
            return extra[name]
        if name.startswith("link:"):
            return f"https://{name[5:]}/{_token(str(rng.random()), rng.choice((7, 8, 9)))}"
        choices = {
            "rue": _STREETS,
            "quartier": _QUARTERS,
            "lieu": _PLACES,
            "doc": _DOCS,
            "acte": _ACTES,
            "jour": _WEEKDAYS[:6],
            "ami": _FIRST_NAMES,
        }
        if name in choices:
            return rng.choice(choices[name])
        if name == "num":
            return str(rng.randint(1, 64))
        if name == "n":
            return str(rng.randint(2, 9))
        raise KeyError(name)

    def fill(self, template: str, extra: Mapping[str, str] | None = None) -> str:
        values = extra or {}
        return re.sub(r"\{([\w:.-]+)\}", lambda m: self.slot(m.group(1), values), template)

    def dress(self, text: str, category: str, lang: str) -> str:
        """Make a template read as people type: greetings, abbreviations, typos, emojis."""
        rng = self.rng
        if lang == "en":
            if rng.random() < 0.15:
                text = _lower_first(text)
            if text.endswith(".") and rng.random() < 0.3:
                text = text[:-1]
            return text
        if lang != "fr" or category in ("spam", "scam"):
            return text
        if category in ("question", "request"):
            if not text.startswith(("Bonjour", "Bonsoir", "Hello")) and rng.random() < 0.45:
                text = rng.choice(_GREETINGS) + _lower_first(text)
            if rng.random() < 0.3 and "merci" not in text[-25:].casefold():
                text = text.rstrip() + rng.choice(_SIGNOFFS)
        if rng.random() < 0.35:
            for long, short in rng.sample(_ABBREVIATIONS, 3):
                text = text.replace(long, short)
        if rng.random() < 0.12:
            text = _strip_accents(text)
        if rng.random() < 0.15:
            text = _lower_first(text)
        if text.endswith(".") and rng.random() < 0.3:
            text = text[:-1]
        if text.endswith("?") and rng.random() < 0.12:
            text += rng.choice(("?", "?!", "??"))
        ends_with_emoji = unicodedata.category(text[-1]) == "So" if text else False
        if category in _EMOJI and not ends_with_emoji and rng.random() < 0.15:
            text = f"{text} {rng.choice(_EMOJI[category])}"
        if category in ("insult", "threat") and not text.endswith("!") and rng.random() < 0.2:
            text = text.rstrip(".") + " !!"
        return text

    def write(
        self,
        category: str,
        lang: str,
        *,
        topic: str | None = None,
        subjects: tuple[str, ...] = (),
        head: str | None = None,
        pool: str | None = None,
    ) -> tuple[str, str, str | None]:
        """A fresh text of ``category`` in ``lang`` (French when there is none): text, lang, tag.

        ``head`` picks the templates of that target or bot; ``subjects`` (those of the post
        commented on) prefers the templates about it, then ``topic``, then general ones.
        Among those, the templates used least so far come first.
        """
        rng = self.rng
        name = pool or category
        pools = _POOLS[name]
        if lang not in pools:
            lang = "fr"
        entries = pools[lang]
        if not subjects:
            entries = tuple(e for e in entries if not _bound(e[0])) or entries
        choice = entries
        if head is not None:
            choice = tuple(e for e in entries if _head(e[0]) == head) or entries
        elif subjects:
            fitting = tuple(e for e in entries if _subject(e[0]) in subjects)
            general = tuple(e for e in entries if _subject(e[0]) is None) or entries
            on_topic = tuple(e for e in general if topic is not None and _head(e[0]) == topic)
            asking = category in ("question", "request")
            if fitting and rng.random() < (0.45 if asking else 0.65):
                choice = fitting
            elif on_topic and rng.random() < 0.6:
                choice = on_topic
            else:
                choice = general
        used = self.used.setdefault((name, lang), {})
        fewest = min(used.get(e[1], 0) for e in choice)
        fresh = tuple(e for e in choice if used.get(e[1], 0) == fewest)
        text, tag = "", None
        for _ in range(40):
            tag, template = rng.choice(fresh)
            text = self.dress(self.fill(template), category, lang)
            if text.casefold() not in self.seen:
                break
        self.seen.add(text.casefold())
        used[template] = used.get(template, 0) + 1
        return text, lang, tag

    def cards(
        self, deck: Mapping[str, int], weights: tuple[float, float, float], watch: bool = False
    ) -> list[tuple[str, str]]:
        """The deck's categories shuffled, each with a language.

        English and Arabic get their share of the deck exactly (``weights`` are the shares of
        French, English and Arabic), given to categories that have texts in that language.
        """
        rng = self.rng
        categories = self.shuffled(deck)
        langs = ["fr"] * len(categories)
        order = list(range(len(categories)))
        rng.shuffle(order)
        for lang, share in (("ar", weights[2]), ("en", weights[1])):
            wanted = round(len(categories) * share)
            for k in order:
                pool = categories[k]
                if watch and pool == "neutral":
                    pool = "watch_neutral"
                if wanted and langs[k] == "fr" and lang in _POOLS[pool]:
                    langs[k] = lang
                    wanted -= 1
        return list(zip(categories, langs, strict=True))

    def pick_lang(self, weights: tuple[float, float, float]) -> str:
        return self.rng.choices(("fr", "en", "ar"), weights=weights)[0]

    # --- items ------------------------------------------------------------------------------

    def _source(
        self,
        name: str,
        platform: str,
        kind: str,
        account: _Persona | None,
        settings: dict[str, str],
    ) -> _Source:
        return _Source(name, platform, kind, settings, account)

    def label(
        self,
        category: str,
        kind: ItemKind,
        topic: str | None = None,
        target: str | None = None,
        group: str | None = None,
        action: str | None = None,
    ) -> DemoLabel:
        if action is None:
            action = _DEFAULT_ACTION[category]
            if kind == ItemKind.MESSAGE and category in _TOXIC:
                action = "review"
        return DemoLabel(category, topic, target, group, action)

    def add(
        self,
        source: _Source,
        kind: ItemKind,
        text: str,
        when: datetime,
        persona: _Persona,
        lang: str,
        label: DemoLabel,
        parent: _Draft | None = None,
        likes: int = 0,
        shares: int = 0,
        media: tuple[Media, ...] = (),
        to: _Persona | None = None,
    ) -> _Draft:
        who = self.who(source, persona)
        if parent is not None:
            assert parent.created_at < when, (parent.pid, parent.created_at, when)
        if source.platform == "mastodon" and not text.startswith("@"):
            # Mastodon replies and direct messages begin with the mention of their addressee.
            other = parent.who if parent is not None else None
            if other is None and to is not None:
                other = self.who(source, to)
            if other is not None and other.platform_id != who.platform_id:
                text = f"@{other.handle} {text}"
        source.seq += 1
        seq = source.seq
        root = source.by_id[parent.thread_id] if parent is not None else None
        pid, url, ref = self._ident(source, kind, when, who, root, parent, seq)
        if kind == ItemKind.MESSAGE:
            likes, shares = 0, 0
        draft = _Draft(
            pid=pid,
            kind=kind,
            text=text,
            created_at=when,
            who=who,
            lang=lang,
            label=label,
            thread_id=root.pid if root is not None else pid,
            parent_id=parent.pid if parent is not None else None,
            url=url,
            likes=likes,
            shares=shares,
            media=media,
            ref=ref,
            to=self.who(source, to) if to is not None else None,
        )
        if parent is not None:
            parent.children += 1
        assert pid not in source.by_id, pid
        source.drafts.append(draft)
        source.by_id[pid] = draft
        return draft

    def _ident(
        self,
        source: _Source,
        kind: ItemKind,
        when: datetime,
        who: _Who,
        root: _Draft | None,
        parent: _Draft | None,
        seq: int,
    ) -> tuple[str, str, str]:
        """Platform id, address and secondary reference of a new item.

        Ids depend on the source and the order of creation only, not on ``now``: loading the
        demo again later finds the same items.
        """
        platform = source.platform
        if platform == "mastodon":
            pid = "11" + _number(f"mastodon-status:{source.name}:{seq}", 16)
            return pid, f"{_MASTODON}/@{who.handle}/{pid}", ""
        if platform == "facebook":
            page_id = source.settings["page_id"]
            if kind == ItemKind.POST:
                number = _number(f"facebook-post:{source.name}:{seq}", 16)
                return f"{page_id}_{number}", f"{_FACEBOOK}/{page_id}/posts/{number}", number
            if kind == ItemKind.MESSAGE:
                pid = "m_" + _token(f"facebook-message:{seq}", 40)
                return pid, f"{_FACEBOOK}/latest/inbox/all?selected_item_id={pid}", ""
            assert root is not None and parent is not None
            number = _number(f"facebook-comment:{seq}", 16)
            url = f"{root.url}?comment_id={number}"
            if kind == ItemKind.REPLY:
                url = f"{root.url}?comment_id={parent.ref}&reply_comment_id={number}"
            return f"{root.ref}_{number}", url, number
        if platform == "instagram":
            if kind == ItemKind.POST:
                pid = "17" + _number(f"instagram-media:{seq}", 15)
                return pid, f"{_INSTAGRAM}/p/{_token(pid, 11)}/", ""
            if kind == ItemKind.MESSAGE:
                pid = "aWdfZAG" + _token(f"instagram-message:{seq}", 40)
                return pid, f"{_INSTAGRAM}/direct/t/{_number(who.platform_id, 17)}/", ""
            assert root is not None
            pid = "18" + _number(f"instagram-comment:{seq}", 15)
            return pid, f"{root.url}c/{pid}/", ""
        tid = _tid(_TID_EPOCH + seq * 7_919_000_003, seq)
        pid = f"at://{who.platform_id}/app.bsky.feed.post/{tid}"
        return pid, f"{_BLUESKY}/profile/{who.handle}/post/{tid}", "bafyrei" + _b32(pid, 52)

    # --- metrics ----------------------------------------------------------------------------

    def likes(self, category: str, platform: str) -> int:
        rng = self.rng
        top = {
            "praise": 40,
            "criticism": 60,
            "campaign": 25,
            "hate": 12,
            "insult": 9,
            "threat": 4,
            "spam": 1,
            "scam": 2,
            "hoax": 30,
            "impersonation": 6,
        }.get(category, 6)
        value = int(rng.paretovariate(2.2) * top / 3)
        if platform == "instagram":
            value = int(value * 1.5)
        return min(value, top * 3)

    # --- scenes -----------------------------------------------------------------------------

    def town_posts(self) -> None:
        rng = self.rng
        accounts = {
            "mastodon": (self.mastodon, self.town_mastodon),
            "police": (self.police, self.town_police),
            "facebook": (self.facebook, self.town_facebook),
            "instagram": (self.instagram, self.town_instagram),
        }
        scale = {"mastodon": 0.35, "police": 0.3, "facebook": 1.0, "instagram": 1.9}
        for spec in _ANNOUNCEMENTS + _POLICE_POSTS:
            when = self.at(spec.days_ago, spec.hour, spec.minute, routine=spec.routine)
            today = when.date()
            extra = {f"date{n}": _fr_date(_working_day(today, n)) for n in range(1, 15)}
            extra["datem2"] = _fr_date(today - timedelta(days=2))
            extra["vendredi"] = _fr_date(_next_weekday(today, 4, 2))
            extra["samedi"] = _fr_date(_next_weekday(today, 5, 3))
            extra["dimanche"] = _fr_date(_next_weekday(today, 6, 10))
            extra["month"] = _MONTHS[(today + timedelta(days=30)).month - 1]
            for platform in spec.where:
                source, persona = accounts[platform]
                text = spec.insta if platform == "instagram" and spec.insta else spec.text
                text = self.fill(text, extra)
                offset = {"mastodon": 0, "police": 0, "facebook": 3, "instagram": 21}[platform]
                media: tuple[Media, ...] = ()
                if spec.image:
                    media = (Media("image", f"{MEDIA_HOST}/{spec.key}.jpg", spec.image),)
                likes = int(spec.engagement * scale[platform] * rng.randint(18, 95))
                shares = 0
                if platform != "instagram":
                    shares = int(spec.engagement * scale[platform] * rng.randint(2, 24))
                label = self.label(
                    "announcement", ItemKind.POST, topic=spec.topic, group=spec.group
                )
                post = self.add(
                    source,
                    ItemKind.POST,
                    text,
                    when + timedelta(minutes=offset),
                    persona,
                    "fr",
                    label,
                    likes=likes,
                    shares=shares,
                    media=media,
                )
                post.subjects = _SUBJECTS.get(spec.key, ())
                source.posts[spec.key] = post
                source.weights[post.pid] = spec.engagement

    def town_threads(self, source: _Source) -> tuple[list[_Draft], list[float]]:
        """The town's posts on ``source`` and how much each draws comments."""
        posts = [d for d in source.drafts if d.kind == ItemKind.POST and d.who.persona.town]
        return posts, [source.weights.get(p.pid, 1.0) for p in posts]

    def comments(
        self,
        source: _Source,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """Comments of the categories in ``deck`` under the town's posts of ``source``."""
        rng = self.rng
        posts, post_weights = self.town_threads(source)
        for category, lang in self.cards(deck, weights):
            post = rng.choices(posts, weights=post_weights)[0]
            subjects = post.subjects or (("police",) if source is self.police else ())
            text, lang, tag = self.write(category, lang, topic=post.label.topic, subjects=subjects)
            topic, target = self.tags(category, tag)
            media: tuple[Media, ...] = ()
            if category == "request" and rng.random() < 0.3:
                photo = _token(f"{source.name}:{source.seq}:photo", 12)
                media = (Media("image", f"https://media.demo.invalid/u/{photo}.jpg"),)
            self.add(
                source,
                ItemKind.COMMENT,
                text,
                self.after(post.created_at),
                self.pick_person(category, lang, _head(tag)),
                lang,
                self.label(category, ItemKind.COMMENT, topic=topic, target=target),
                parent=post,
                likes=self.likes(category, source.platform),
                media=media,
            )

    def shuffled(self, deck: Mapping[str, int]) -> list[str]:
        cards = [category for category, count in deck.items() for _ in range(count)]
        self.rng.shuffle(cards)
        return cards

    @staticmethod
    def tags(category: str, tag: str | None) -> tuple[str | None, str | None]:
        """The label's topic and target for a template's tag."""
        if category in ("question", "request"):
            return _head(tag) or "other", None
        if category in ("insult", "threat", "hate"):
            return None, _head(tag)
        return None, None

    def replies(
        self,
        source: _Source,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """Replies under the citizens' comments: the town's answers (``answer``) and others."""
        rng = self.rng
        for category in self.shuffled(deck):
            candidates = [
                d
                for d in source.drafts
                if d.kind == ItemKind.COMMENT
                and not d.who.persona.town
                and d.label.group is None
                and d.label.category not in _TOXIC
            ]
            if category == "answer":
                wanted = [
                    d
                    for d in candidates
                    if d.label.category in ("question", "request") and d.children == 0
                ]
                self.answer(source, rng.choice(wanted), ItemKind.REPLY)
                continue
            if category == "insult":
                wanted = [d for d in candidates if d.label.category in ("criticism", "praise")]
            elif category in ("praise", "criticism"):
                wanted = [d for d in candidates if d.label.category in ("criticism", "praise")]
            else:
                wanted = [
                    d
                    for d in candidates
                    if d.label.category in ("criticism", "praise", "question", "neutral")
                ]
            parent = rng.choice(wanted)
            self.reply(source, parent, category, weights)

    def reply(
        self,
        source: _Source,
        parent: _Draft,
        category: str,
        weights: tuple[float, float, float],
    ) -> _Draft:
        """Someone answers ``parent``: agrees, disagrees, chats or insults its author."""
        rng = self.rng
        lang = parent.lang if rng.random() < 0.7 else self.pick_lang(weights)
        target = None
        if category == "insult":
            text, lang, tag = self.write("insult", lang, head="citizen")
            target = _head(tag)
        elif category in ("neutral", "praise", "criticism"):
            text, lang, _ = self.write(category, lang, pool=f"reply_{category}")
        else:
            text, lang, tag = self.write(category, lang)
            target = self.tags(category, tag)[1]
        kind = ItemKind.REPLY if parent.kind != ItemKind.POST else ItemKind.COMMENT
        return self.add(
            source,
            kind,
            text,
            self.after(parent.created_at, "reply"),
            self.pick_person(category, lang),
            lang,
            self.label(category, kind, target=target),
            parent=parent,
            likes=self.likes(category, source.platform),
        )

    def answer(
        self,
        source: _Source,
        parent: _Draft,
        kind: ItemKind,
        template: str | None = None,
        group: str | None = None,
    ) -> _Draft:
        """The town's answer to ``parent``, in English when asked in English."""
        assert source.account is not None
        topic = parent.label.topic or "other"
        lang = "en" if parent.lang == "en" and template is None else "fr"
        if template is None:
            template = _answer(parent.text, lang)
        first = parent.who.persona.first_name
        text = self.fill(template, {"prenom": first})
        if not first:
            text = text.replace("Bonjour , ", "Bonjour, ").replace("Hello , ", "Hello, ")
        label = self.label("neutral", kind, topic=topic, group=group)
        to = parent.who.persona if kind == ItemKind.MESSAGE else None
        return self.add(
            source,
            kind,
            text,
            self.after(parent.created_at, "answer"),
            source.account,
            lang,
            label,
            parent=parent,
            likes=self.rng.randint(0, 6),
            to=to,
        )

    def messages(
        self,
        source: _Source,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
        answered: int,
    ) -> None:
        """Private messages to the town, ``answered`` of the questions answered by it."""
        rng = self.rng
        assert source.account is not None
        asked: list[_Draft] = []
        for category, lang in self.cards(deck, weights):
            pool = None
            if category in ("question", "request") and lang == "fr" and rng.random() < 0.45:
                pool = f"message_{category}"
            text, lang, tag = self.write(category, lang, pool=pool)
            topic, target = self.tags(category, tag)
            message = self.add(
                source,
                ItemKind.MESSAGE,
                text,
                self.random_moment(1, 41),
                self.pick_person(category, lang, _head(tag)),
                lang,
                self.label(category, ItemKind.MESSAGE, topic=topic, target=target),
                to=source.account,
            )
            if category in ("question", "request"):
                asked.append(message)
        for message in rng.sample(asked, min(answered, len(asked))):
            self.answer(source, message, ItemKind.MESSAGE)

    def mentions(
        self,
        source: _Source,
        deck: Mapping[str, int],
        weights: tuple[float, float, float],
        answered: int = 0,
    ) -> None:
        """Public posts that mention the account of ``source``."""
        rng = self.rng
        assert source.account is not None
        handle = "@" + source.account.handle
        asked: list[_Draft] = []
        for category, lang in self.cards(deck, weights):
            head = rng.choice(("mayor", "agents")) if category in ("insult", "threat") else None
            text, lang, tag = self.write(category, lang, head=head)
            topic, target = self.tags(category, tag)
            mention = self.add(
                source,
                ItemKind.MENTION,
                f"{handle} {text}",
                self.random_moment(1, 41),
                self.pick_person(category, lang, _head(tag)),
                lang,
                self.label(category, ItemKind.MENTION, topic=topic, target=target),
                likes=self.likes(category, source.platform),
                shares=rng.randint(0, 3),
            )
            if category in ("question", "request"):
                asked.append(mention)
        for mention in rng.sample(asked, min(answered, len(asked))):
            self.answer(source, mention, ItemKind.REPLY)

    def watch_posts(
        self,
        deck: Mapping[str, int],
        replies: Mapping[str, int],
        weights: tuple[float, float, float],
    ) -> None:
        """What the Bluesky watch catches: people talking about the town, not to it."""
        rng = self.rng
        source = self.bluesky
        roots: list[_Draft] = []
        for category, lang in self.cards(deck, weights, watch=True):
            head = rng.choice(("mayor", "agents")) if category in ("insult", "threat") else None
            pool = "watch_neutral" if category == "neutral" else None
            text, lang, tag = self.write(category, lang, head=head, pool=pool)
            if category not in ("spam", "scam") and not re.search("Saint-Aubin|Dumas", text):
                if lang == "ar":
                    text = f"{text} #سان_أوبان"
                elif lang == "en" or category in ("question", "request") or rng.random() < 0.5:
                    text = f"{text} #SaintAubinSurLoire"
                else:
                    text = f"Saint-Aubin-sur-Loire : {_lower_first(text)}"
            topic, target = self.tags(category, tag)
            roots.append(
                self.add(
                    source,
                    ItemKind.POST,
                    text,
                    self.random_moment(1, 41),
                    self.pick_person(category, lang, _head(tag)),
                    lang,
                    self.label(category, ItemKind.POST, topic=topic, target=target),
                    likes=self.likes(category, "bluesky"),
                    shares=rng.randint(0, 6),
                )
            )
        for category in self.shuffled(replies):
            fitting = ("criticism", "praise") if category != "neutral" else ("neutral",)
            parent = rng.choice([r for r in roots if r.label.category in fitting])
            self.reply(source, parent, category, weights)

    def mayor_posts(self) -> None:
        rng = self.rng
        for days_ago, hour, minute, text in _MAYOR_POSTS:
            self.add(
                self.bluesky,
                ItemKind.POST,
                text,
                self.at(days_ago, hour, minute),
                self.mayor,
                "fr",
                self.label("announcement", ItemKind.POST, topic="other"),
                likes=rng.randint(40, 160),
                shares=rng.randint(5, 30),
            )
        self.reply(self.bluesky, self.bluesky.drafts[-1], "criticism", (1.0, 0.0, 0.0))

    def hoax(self) -> None:
        """The tap-water rumour: born on Bluesky, it spreads for a week, then fades."""
        rng = self.rng
        per_day = {12: 2, 11: 6, 10: 9, 9: 7, 8: 4, 7: 2, 6: 1}
        strength = {12: 0.35, 11: 0.8, 10: 1.0, 9: 0.7, 8: 0.4, 7: 0.2, 6: 0.1}
        languages = {4: "en", 9: "ar", 13: "en", 18: "ar", 22: "en"}
        debunk = self.facebook.posts["dementi-eau"].created_at
        posts: list[_Draft] = []
        phrasings = list(_HOAX_FR[1:])
        rng.shuffle(phrasings)
        phrasings.insert(0, _HOAX_FR[0])  # the message that starts it all
        foreign = {"en": list(_HOAX_EN) * 2, "ar": list(_HOAX_AR) * 2}
        index = 0
        for days_ago, count in per_day.items():
            moments = sorted(self.random_moment(days_ago, days_ago) for _ in range(count))
            if index == 0:
                moments[0] = self.at(days_ago, 17, 42)
            for moment in moments:
                lang = languages.get(index, "fr")
                power = strength[days_ago]
                if index == 0:
                    channel = "post"
                else:
                    channel = rng.choices(
                        ("post", "quote", "echo", "facebook", "instagram", "mastodon"),
                        weights=(5, 3, 3, 4, 1, 1),
                    )[0]
                if lang != "fr" and channel in ("echo", "quote"):
                    channel = "post"
                earlier = [p for p in posts if p.created_at < moment]
                quotable = [p for p in earlier if p.lang == "fr" and "«" not in p.text]
                if (channel == "echo" and not earlier) or (channel == "quote" and not quotable):
                    channel = "post"
                label = self.label("hoax", ItemKind.POST, group=HOAX_ID)
                if channel in ("post", "quote"):
                    if lang != "fr":
                        text = foreign[lang].pop(0)
                    elif channel == "quote":
                        quoted = rng.choice(quotable).text
                        snippet = quoted if len(quoted) < 140 else quoted[:137].rstrip() + "…"
                        text = f"{rng.choice(_HOAX_QUOTE_PREFIXES)}\n\n« {snippet} »"
                    else:
                        # Nobody can call the denial a lie before it is published.
                        valid = [p for p in phrasings if moment > debunk or "démenti" not in p]
                        text = valid[0] if valid else rng.choice(_HOAX_FR[:7])
                        if text in phrasings:
                            phrasings.remove(text)
                    shares = int(power * rng.randint(120, 640))
                    if index == 0:
                        shares = rng.randint(380, 520)
                    person = rng.choice(
                        self.en if lang == "en" else self.ar if lang == "ar" else self.fr
                    )
                    post = self.add(
                        self.bluesky,
                        ItemKind.POST,
                        text,
                        moment,
                        person,
                        lang,
                        label,
                        likes=int(shares * rng.uniform(0.6, 1.8)),
                        shares=shares,
                    )
                    posts.append(post)
                elif channel == "echo":
                    parent = rng.choice(earlier)
                    text = rng.choice(_HOAX_ECHOES)
                    if text.casefold() in self.seen:
                        text = self.dress(
                            text + " " + rng.choice(("😡", "🙏", "!!", "😱")), "", "fr"
                        )
                    self.seen.add(text.casefold())
                    self.add(
                        self.bluesky,
                        ItemKind.COMMENT,
                        text,
                        self.clamp(parent.created_at, moment),
                        rng.choice(self.fr),
                        "fr",
                        self.label("hoax", ItemKind.COMMENT, group=HOAX_ID),
                        parent=parent,
                        likes=int(power * rng.randint(5, 40)),
                        shares=int(power * rng.randint(0, 30)),
                    )
                else:
                    source = {
                        "facebook": self.facebook,
                        "instagram": self.instagram,
                        "mastodon": self.mastodon,
                    }[channel]
                    key = "dementi-eau" if moment > debunk + timedelta(minutes=30) else None
                    if key is None or key not in source.posts:
                        key = "travaux-reseau-eau" if channel != "instagram" else "fleurissement"
                    parent = source.posts[key]
                    if lang == "fr":
                        options = [
                            t
                            for t in _HOAX_FR + _HOAX_ECHOES
                            if moment > debunk or "démenti" not in t
                        ]
                        text = rng.choice(options)
                        if text.casefold() in self.seen:
                            text = self.dress(text, "neutral", "fr")
                    else:
                        text = foreign[lang].pop(0)
                    self.seen.add(text.casefold())
                    self.add(
                        source,
                        ItemKind.COMMENT,
                        text,
                        self.clamp(parent.created_at, moment),
                        rng.choice(
                            self.en if lang == "en" else self.ar if lang == "ar" else self.fr
                        ),
                        lang,
                        self.label("hoax", ItemKind.COMMENT, group=HOAX_ID),
                        parent=parent,
                        likes=int(power * rng.randint(3, 30)),
                    )
                index += 1

        # People ask whether it is true; a few push back; the town answers.
        first_post = posts[0]
        peak = [p for p in posts if p.created_at.date() == self.at(10, 12, 0).date()] or posts
        lang, text = _HOAX_QUESTIONS[2]
        self.add(
            self.bluesky,
            ItemKind.COMMENT,
            text,
            self.after(first_post.created_at, "reply"),
            rng.choice(self.fr),
            lang,
            self.label("question", ItemKind.COMMENT, topic="other", group=HOAX_ID),
            parent=first_post,
            likes=rng.randint(2, 12),
        )
        for skeptic in _HOAX_SKEPTICS:
            parent = rng.choice(peak)
            moment = self.after(parent.created_at, "reply")
            if "démenti" in skeptic:
                moment = self.clamp(parent.created_at, max(moment, debunk + timedelta(minutes=25)))
            self.add(
                self.bluesky,
                ItemKind.COMMENT,
                skeptic,
                moment,
                rng.choice(self.fr),
                "fr",
                self.label("neutral", ItemKind.COMMENT, group=HOAX_ID),
                parent=parent,
                likes=rng.randint(4, 30),
            )
        for (lang, text), days_ago, source in (
            (_HOAX_QUESTIONS[0], 11, self.facebook),
            (_HOAX_QUESTIONS[3], 10, self.facebook),
        ):
            message = self.add(
                source,
                ItemKind.MESSAGE,
                text,
                self.at(days_ago, 7 + rng.randrange(4), rng.randrange(60)),
                rng.choice(self.ar if lang == "ar" else self.fr),
                lang,
                self.label("question", ItemKind.MESSAGE, topic="other", group=HOAX_ID),
                to=source.account,
            )
            self.answer(source, message, ItemKind.MESSAGE, _HOAX_ANSWER, group=HOAX_ID)
        lang, text = _HOAX_QUESTIONS[1]
        mention = self.add(
            self.mastodon,
            ItemKind.MENTION,
            f"@{self.town_mastodon.handle} {text}",
            self.at(11, 18, 12),
            rng.choice(self.fr),
            lang,
            self.label("question", ItemKind.MENTION, topic="other", group=HOAX_ID),
            likes=rng.randint(3, 15),
            shares=rng.randint(1, 8),
        )
        self.answer(self.mastodon, mention, ItemKind.REPLY, _HOAX_ANSWER, group=HOAX_ID)

    def campaign(self) -> None:
        """The same message from sixteen accounts in under fifty minutes."""
        rng = self.rng
        start = self.at(18, 19, 52)
        offsets = sorted(rng.sample(range(0, 48 * 60), len(self.campaigners)))
        for i, (persona, offset) in enumerate(zip(self.campaigners, offsets, strict=True)):
            text = _CAMPAIGN_TEXT
            for old, new in rng.sample(_CAMPAIGN_SWAPS, rng.randint(0, 2)):
                text = text.replace(old, new)
            if rng.random() < 0.3:
                text = text.replace(" !", "!!!", 1)
            if rng.random() < 0.2:
                text = text.replace(" #SauvonsLaPlaceDuMarché", "")
            text = rng.choice(_CAMPAIGN_PREFIXES) + text + rng.choice(_CAMPAIGN_SUFFIXES)
            source = self.mastodon if i in (5, 11) else self.facebook
            parent = source.posts["place-du-marche"]
            self.add(
                source,
                ItemKind.COMMENT,
                text,
                start + timedelta(seconds=offset),
                persona,
                "fr",
                self.label("campaign", ItemKind.COMMENT, group=CAMPAIGN_ID),
                parent=parent,
                likes=self.likes("campaign", source.platform),
            )

    def impersonation(self) -> None:
        """A fake « Claire Dumas - Maire » promises 250 € and asks for bank details."""
        rng = self.rng
        fake = self.impostor

        def label(category: str, kind: ItemKind, topic: str | None = None) -> DemoLabel:
            return self.label(category, kind, topic=topic, group=IMPERSONATION_ID)

        first, second, third = (
            self.add(
                self.bluesky,
                ItemKind.POST,
                text,
                self.at(days_ago, hour, minute),
                fake,
                "fr",
                label("impersonation", ItemKind.POST),
                likes=rng.randint(8, 40),
                shares=rng.randint(20, 90),
            )
            for text, (days_ago, hour, minute) in zip(
                _IMPOSTOR_POSTS, ((6, 16, 5), (5, 6, 20), (5, 19, 0)), strict=True
            )
        )
        doubt = self.add(
            self.bluesky,
            ItemKind.COMMENT,
            _IMPERSONATION_QUESTIONS["bluesky"],
            self.at(6, 17, 31),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.COMMENT, "other"),
            parent=first,
            likes=rng.randint(3, 12),
        )
        self.add(
            self.bluesky,
            ItemKind.REPLY,
            _IMPOSTOR_COMMENTS["bluesky_reply"],
            self.at(6, 18, 2),
            fake,
            "fr",
            label("impersonation", ItemKind.REPLY),
            parent=doubt,
            likes=1,
        )
        self.add(
            self.bluesky,
            ItemKind.COMMENT,
            _IMPERSONATION_WARNINGS[0],
            self.at(5, 11, 48),
            rng.choice(self.fr),
            "fr",
            label("neutral", ItemKind.COMMENT),
            parent=second,
            likes=rng.randint(10, 35),
        )
        del third

        post = self.facebook.posts["elagage-quai"]
        fake_comment = self.add(
            self.facebook,
            ItemKind.COMMENT,
            _IMPOSTOR_COMMENTS["facebook"],
            self.clamp(post.created_at, self.at(6, 16, 40)),
            fake,
            "fr",
            label("impersonation", ItemKind.COMMENT),
            parent=post,
            likes=rng.randint(2, 9),
        )
        citizen = rng.choice(self.fr)
        question = self.add(
            self.facebook,
            ItemKind.REPLY,
            _IMPERSONATION_QUESTIONS["facebook_reply"],
            self.at(6, 17, 55),
            citizen,
            "fr",
            label("question", ItemKind.REPLY, "other"),
            parent=fake_comment,
            likes=rng.randint(0, 4),
        )
        self.add(
            self.facebook,
            ItemKind.REPLY,
            self.fill(_IMPOSTOR_COMMENTS["facebook_reply"], {"prenom": citizen.first_name}),
            self.at(6, 18, 20),
            fake,
            "fr",
            label("impersonation", ItemKind.REPLY),
            parent=question,
        )
        warning = self.facebook.posts["faux-compte-maire"].created_at
        self.answer(
            self.facebook, question, ItemKind.REPLY, _IMPERSONATION_ANSWER, IMPERSONATION_ID
        )
        for key, (days_ago, hour, minute) in (
            ("facebook_message", (5, 7, 41)),
            ("facebook_message_2", (4, 15, 3)),
        ):
            message = self.add(
                self.facebook,
                ItemKind.MESSAGE,
                _IMPERSONATION_QUESTIONS[key],
                self.at(days_ago, hour, minute),
                rng.choice(self.fr),
                "fr",
                label("question", ItemKind.MESSAGE, "other"),
                to=self.town_facebook,
            )
            self.answer(
                self.facebook, message, ItemKind.MESSAGE, _IMPERSONATION_ANSWER, IMPERSONATION_ID
            )
        assert warning > self.at(6, 23, 0)

        post = self.instagram.posts["retour-marche-nocturne"]
        fake_comment = self.add(
            self.instagram,
            ItemKind.COMMENT,
            _IMPOSTOR_COMMENTS["instagram"],
            self.clamp(post.created_at, self.at(5, 8, 10)),
            fake,
            "fr",
            label("impersonation", ItemKind.COMMENT),
            parent=post,
            likes=rng.randint(1, 5),
        )
        self.add(
            self.instagram,
            ItemKind.REPLY,
            _IMPERSONATION_QUESTIONS["instagram"],
            self.at(5, 9, 2),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.REPLY, "other"),
            parent=fake_comment,
        )
        mention = self.add(
            self.mastodon,
            ItemKind.MENTION,
            f"@{self.town_mastodon.handle} {_IMPERSONATION_QUESTIONS['mastodon']}",
            self.at(5, 7, 5),
            rng.choice(self.fr),
            "fr",
            label("question", ItemKind.MENTION, "other"),
            likes=rng.randint(2, 8),
            shares=rng.randint(3, 12),
        )
        self.answer(self.mastodon, mention, ItemKind.REPLY, _IMPERSONATION_ANSWER, IMPERSONATION_ID)

    # --- output -----------------------------------------------------------------------------

    def build(self) -> DemoTown:
        self.town_posts()
        self.mayor_posts()
        self.hoax()
        self.campaign()
        self.impersonation()
        # How many items of each category each place gets, and the odds of French, English and
        # Arabic: Facebook is the busiest place, Instagram the most international.
        # fmt: off
        fb, masto, police, insta = (.8, .08, .12), (.84, .13, .03), (.94, .06, 0.), (.7, .22, .08)
        self.comments(self.facebook, {
            "question": 20, "request": 7, "praise": 12, "criticism": 15, "insult": 4,
            "threat": 3, "hate": 5, "spam": 3, "scam": 2, "neutral": 8,
        }, fb)
        self.replies(self.facebook, {
            "answer": 9, "criticism": 3, "praise": 2, "neutral": 2, "insult": 3, "hate": 1,
        }, fb)
        self.messages(self.facebook, {
            "question": 9, "request": 5, "insult": 1, "threat": 2, "scam": 3, "criticism": 1,
        }, fb, answered=6)

        self.comments(self.mastodon, {
            "question": 8, "request": 3, "praise": 5, "criticism": 7, "insult": 2, "threat": 1,
            "hate": 2, "spam": 2, "neutral": 2,
        }, masto)
        self.replies(self.mastodon, {"answer": 4, "criticism": 2, "neutral": 2}, masto)
        self.mentions(self.mastodon, {
            "question": 4, "request": 3, "criticism": 2, "praise": 1, "hate": 1, "spam": 1,
        }, masto, answered=2)
        self.messages(self.mastodon, {"question": 3, "request": 2, "threat": 1}, masto, 2)

        self.comments(self.police, {
            "insult": 3, "threat": 2, "criticism": 4, "praise": 4, "question": 2, "request": 1,
            "neutral": 1, "hate": 1,
        }, police)
        self.replies(self.police, {"answer": 2, "insult": 1}, police)
        self.mentions(self.police, {"request": 2, "insult": 1}, police)

        self.comments(self.instagram, {
            "praise": 10, "question": 6, "neutral": 6, "criticism": 3, "spam": 4, "scam": 3,
            "insult": 1, "hate": 1, "request": 1,
        }, insta)
        self.replies(self.instagram, {"answer": 3, "neutral": 2}, insta)
        self.messages(self.instagram, {"question": 3, "request": 1, "scam": 2, "spam": 1}, insta, 2)

        self.watch_posts({
            "neutral": 8, "criticism": 5, "praise": 3, "question": 2, "hate": 2, "spam": 2,
            "scam": 3, "insult": 2, "threat": 2,
        }, {"neutral": 2, "criticism": 2, "insult": 1, "praise": 1}, (0.77, 0.17, 0.06))
        # fmt: on
        return self.town()

    def town(self) -> DemoTown:
        sources: list[DemoSource] = []
        labels: dict[tuple[str, str], DemoLabel] = {}
        for source in (self.mastodon, self.police, self.facebook, self.instagram, self.bluesky):
            drafts = sorted(source.drafts, key=lambda d: (d.created_at, d.pid))
            items = [self.item(source, d) for d in drafts]
            for draft in drafts:
                labels[(source.name, draft.pid)] = draft.label
            sources.append(
                DemoSource(source.name, source.platform, source.kind, dict(source.settings), items)
            )
        return DemoTown(TOWN_SLUG, TOWN_NAME, "town_hall", "fr", sources, labels, self.identities())

    def identities(self) -> list[DemoIdentity]:
        def handles(*keys: str) -> tuple[str, ...]:
            return tuple(sorted(who.handle for (_, key), who in self.whos.items() if key in keys))

        town_keys = ("town-mastodon", "town-facebook", "town-instagram")
        return [
            DemoIdentity(TOWN_NAME, "organization", handles(*town_keys)),
            DemoIdentity(self.town_police.display, "service", handles("town-police")),
            DemoIdentity(MAYOR, "person", handles("mayor")),
        ]

    def item(self, source: _Source, draft: _Draft) -> NormalizedItem:
        metrics: dict[str, int] = {}
        if draft.kind != ItemKind.MESSAGE:
            metrics = {"likes": draft.likes, "shares": draft.shares, "replies": draft.children}
        raw = self.raw(source, draft)
        raw["beffroi_demo_label"] = draft.label.as_dict()
        return NormalizedItem(
            platform_id=draft.pid,
            kind=draft.kind,
            text=draft.text,
            created_at=draft.created_at,
            author=draft.who.author(),
            thread_id=draft.thread_id,
            parent_id=draft.parent_id,
            url=draft.url,
            urls=_urls(draft.text),
            media=draft.media,
            metrics=metrics,
            language=draft.lang,
            raw=raw,
        )

    def raw(self, source: _Source, d: _Draft) -> dict[str, Any]:
        """A payload shaped like the platform's API answer for this item."""
        parent = source.by_id[d.parent_id] if d.parent_id is not None else None
        if source.platform == "mastodon":
            return self._raw_mastodon(d, parent)
        if source.platform == "facebook":
            return self._raw_facebook(source, d, parent)
        if source.platform == "instagram":
            return self._raw_instagram(source, d, parent)
        return self._raw_bluesky(source, d, parent)

    @staticmethod
    def _raw_mastodon(d: _Draft, parent: _Draft | None) -> dict[str, Any]:
        persona = d.who.persona
        username = d.who.handle.split("@")[0]
        home = d.who.url.split("/")[2]
        body = "<br>".join(html.escape(line) for line in d.text.split("\n"))
        return {
            "id": d.pid,
            "created_at": _iso_z(d.created_at),
            "in_reply_to_id": parent.pid if parent is not None else None,
            "in_reply_to_account_id": parent.who.platform_id if parent is not None else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "direct" if d.kind == ItemKind.MESSAGE else "public",
            "language": d.lang,
            "uri": f"https://{home}/users/{username}/statuses/{d.pid}",
            "url": d.url,
            "replies_count": d.children,
            "reblogs_count": d.shares,
            "favourites_count": d.likes,
            "content": f"<p>{body}</p>",
            "account": {
                "id": d.who.platform_id,
                "username": username,
                "acct": d.who.handle,
                "display_name": d.who.display,
                "url": d.who.url,
                "followers_count": persona.followers,
                "created_at": d.who.created,
                "bot": False,
            },
            "media_attachments": [
                {"type": m.kind, "url": m.url, "description": m.description or None}
                for m in d.media
            ],
            "mentions": [{"acct": acct} for acct in _MENTION_RE.findall(d.text)],
            "tags": [{"name": tag.lower()} for tag in _TAG_RE.findall(d.text)],
        }

    @staticmethod
    def _raw_facebook(source: _Source, d: _Draft, parent: _Draft | None) -> dict[str, Any]:
        sender = {"id": d.who.platform_id, "name": d.who.display}
        if d.kind == ItemKind.MESSAGE:
            other = d.to
            assert other is not None
            return {
                "id": d.pid,
                "message": d.text,
                "created_time": _iso_fb(d.created_at),
                "from": sender,
                "to": {"data": [{"id": other.platform_id, "name": other.display}]},
                "thread_id": "t_" + _number(f"facebook-thread:{d.thread_id}", 16),
            }
        attachments = [
            {"type": "photo", "media": {"image": {"src": m.url}}, "description": m.description}
            for m in d.media
        ]
        if d.kind == ItemKind.POST:
            return {
                "id": d.pid,
                "message": d.text,
                "created_time": _iso_fb(d.created_at),
                "from": sender,
                "permalink_url": d.url,
                "shares": {"count": d.shares},
                "reactions": {"summary": {"total_count": d.likes}},
                "comments": {"summary": {"total_count": d.children}},
                "attachments": {"data": attachments},
            }
        payload: dict[str, Any] = {
            "id": d.pid,
            "message": d.text,
            "created_time": _iso_fb(d.created_at),
            "from": sender,
            "permalink_url": d.url,
            "like_count": d.likes,
            "comment_count": d.children,
            "object": {"id": d.thread_id},
        }
        if d.kind == ItemKind.REPLY and parent is not None:
            payload["parent"] = {"id": parent.pid}
        if attachments:
            payload["attachment"] = attachments[0]
        return payload

    @staticmethod
    def _raw_instagram(source: _Source, d: _Draft, parent: _Draft | None) -> dict[str, Any]:
        if d.kind == ItemKind.MESSAGE:
            other = d.to
            assert other is not None
            return {
                "id": d.pid,
                "message": d.text,
                "created_time": _iso_fb(d.created_at),
                "from": {"id": d.who.platform_id, "username": d.who.handle},
                "to": {"data": [{"id": other.platform_id, "username": other.handle}]},
            }
        if d.kind == ItemKind.POST:
            return {
                "id": d.pid,
                "caption": d.text,
                "timestamp": _iso_fb(d.created_at),
                "media_type": "IMAGE",
                "media_url": d.media[0].url if d.media else "",
                "permalink": d.url,
                "username": d.who.handle,
                "like_count": d.likes,
                "comments_count": d.children,
            }
        payload: dict[str, Any] = {
            "id": d.pid,
            "text": d.text,
            "timestamp": _iso_fb(d.created_at),
            "username": d.who.handle,
            "from": {"id": d.who.platform_id, "username": d.who.handle},
            "like_count": d.likes,
            "media": {"id": d.thread_id},
        }
        if d.kind == ItemKind.REPLY and parent is not None:
            payload["parent_id"] = parent.pid
        return payload

    @staticmethod
    def _raw_bluesky(source: _Source, d: _Draft, parent: _Draft | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": d.text,
            "createdAt": _iso_z(d.created_at),
            "langs": [d.lang],
        }
        if parent is not None:
            root = source.by_id[d.thread_id]
            record["reply"] = {
                "root": {"uri": root.pid, "cid": root.ref},
                "parent": {"uri": parent.pid, "cid": parent.ref},
            }
        return {
            "uri": d.pid,
            "cid": d.ref,
            "author": {
                "did": d.who.platform_id,
                "handle": d.who.handle,
                "displayName": d.who.display,
                "followersCount": d.who.persona.followers,
                "createdAt": d.who.created,
            },
            "record": record,
            "replyCount": d.children,
            "repostCount": d.shares,
            "likeCount": d.likes,
            "quoteCount": 0,
            "indexedAt": _iso_z(d.created_at),
        }


def build_demo_town(now: datetime, *, seed: int = DEMO_SEED) -> DemoTown:
    """Saint-Aubin-sur-Loire and its labelled items over the six weeks before ``now``.

    A naive ``now`` is taken as UTC. The result is the same, byte for byte, for the same
    ``now`` and ``seed``; every item is older than ``now`` and younger than six weeks.
    """
    return _Builder(now, seed).build()
