"""The demo town's counter-speech library, the national cell that shares one with it, and the
hateful comments the town answered with it.

The entries are data (``counter_speech.json``, in the library's own file format: it imports as
it is): the town's are written by its communication officer ("com") and approved by the
cabinet, each through the library's services as people would, a few left waiting for the
cabinet or sent back to their author; the cell's are loaded by the operator and approved by
the cell's administrator, who shares the library, to which the town's mayor subscribes. The
entries answering the town's own stories (the water rumour, the fake €250 grant) are filed
under its checked claims and, when the veille made one, their narrative.

The sources are official pages that the demo never reads: their reading is marked as not
done, said on each source, and left to the weekly check of a server that can reach them.

Then "com" answers a few hateful comments from the desk with an entry (a use counted on it),
dated a few hours after each comment as the demo replays the past: one comment was later
deleted by its author, another drew hateful replies before the answer and fewer after.
Running it twice adds nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from beffroi.audit.actions import AuditAction
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor, record
from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem
from beffroi.conversations import sending
from beffroi.conversations import services as desk
from beffroi.conversations.models import Conversation, Reply
from beffroi.counterspeech import io
from beffroi.counterspeech import services as library
from beffroi.counterspeech.models import Entry, EntrySource, EntryUse
from beffroi.counterspeech.panels import DRAFT_KIND
from beffroi.counterspeech.suggesting import ANSWERED_CATEGORIES
from beffroi.counterspeech.validation import EntryData
from beffroi.demo.formats import digits, iso_fb
from beffroi.demo.load import DEMO_PASSWORD, DEMO_TOTP_SECRET_HEX
from beffroi.items.ingest import ingest
from beffroi.items.models import Item
from beffroi.jobs.models import Job
from beffroi.moderation.services import moderate_items
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Role
from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative, NarrativeItem

LIBRARY_FILE = "counter_speech.json"

CELL_SLUG = "cellule-nationale"
CELL_NAME = "Cellule nationale de contre-discours"
CELL_DESCRIPTION = (
    "Réponses validées par la cellule nationale pour les collectivités et les services de "
    "l'État : haine en ligne, rumeurs sanitaires, menaces envers les élus. Licence Ouverte."
)
#: The cell's one account (an administrator: it shares the library), and its full name.
CELL_USER = ("cellule", "Nadia Ferrand")
CELL_LOGIN_ROLE = f"admin ({CELL_SLUG}; same two-factor secret)"

#: What the cabinet wrote when it sent an entry back to its author.
SENT_BACK = {
    "demo-femmes-casseroles": (
        "Trop ironique pour une réponse de la mairie à une attaque sexiste : reformuler sans "
        "moquerie, ou utiliser plutôt « Critiquer une élue, pas son genre »."
    ),
}

#: The checked claims an entry of a topic answers: those whose statement holds all the words.
CLAIM_WORDS = {
    "eau du robinet": ("eau du robinet", "contamin"),
    "aide de 250 €": ("250 €",),
}

#: Why a source of the demo has no reading (shown on the entry as the reason it is unread).
NOT_READ = (
    "the demo does not reach the internet: the weekly check reads the page once the server "
    "can reach it."
)


@dataclass(frozen=True)
class Answer:
    """A reply the town gave to a hateful comment of ``target`` (the demo's label) that says
    ``word`` (any when empty), adapted from the entry ``entry``."""

    target: str
    word: str
    entry: str
    text: str


#: In this order, one comment per targeted group, four at most: the first drew hateful
#: replies, the second was deleted by its author afterwards.
ANSWERS = (
    Answer(
        "origin",
        "",
        "demo-migrants-empathie",
        "Bonjour, ces familles sont nos voisins : leurs enfants vont à l'école avec les "
        "nôtres, elles font leurs courses au marché du samedi, certains travaillent à "
        "l'hôpital. On peut débattre de tout, mais pas rejeter des gens pour ce qu'ils sont.",
    ),
    Answer(
        "gender",
        "",
        "demo-femmes-denonce",
        "Ce n'est pas une critique, c'est du sexisme. Vous pouvez contester les décisions de la "
        "maire et de ses adjointes point par point, nous vous répondrons ; pas leur dénier le "
        "droit d'exercer leur mandat parce que ce sont des femmes.",
    ),
    Answer(
        "disability",
        "places",
        "demo-handicap-stationnement",
        "Bonjour, les places réservées sont imposées par la loi (au moins 2 % des places d'un "
        "parking public) et servent aux titulaires de la carte mobilité inclusion : des "
        "habitants qui travaillent, font leurs courses et voient leurs proches, comme vous.",
    ),
    Answer(
        "disability",
        "",
        "demo-handicap-empathie",
        "Les résidents du foyer des Coteaux viennent au marché comme tout le monde, et beaucoup "
        "de commerçants les appellent par leur prénom. Ils sont d'ici, et ils y ont leur place.",
    ),
    Answer(
        "sexual_orientation",
        "médiathèque",
        "demo-mediatheque-question",
        "Bonjour, qu'avez-vous vu exactement à la médiathèque ? Les livres y sont choisis par "
        "des bibliothécaires, pour chaque âge. Si un ouvrage vous pose question, l'équipe de la "
        "médiathèque Colette vous reçoit volontiers pour en parler.",
    ),
    Answer(
        "sexual_orientation",
        "",
        "demo-lgbt-empathie",
        "Derrière « ces gens-là », il y a des jeunes de Saint-Aubin qui lisent ces "
        "commentaires. Ils ne sont pas malades : ils ont le droit de vivre ici en sécurité, "
        "comme tout le monde.",
    ),
    Answer(
        "religion",
        "",
        "demo-musulmans-laicite",
        "La laïcité ne vise aucune religion : elle garantit la liberté de croire ou de ne pas "
        "croire, et le libre exercice des cultes. Une association qui demande une salle le fait "
        "aux mêmes conditions que toutes les autres.",
    ),
)
MAX_ANSWERED = 4
#: How long after the comment the town answered.
ANSWER_DELAY = timedelta(hours=3)
#: A comment answered is old enough for what followed to be read (the outcomes' window of a
#: day after the answer is over).
ANSWERED_BEFORE = timedelta(days=2)
#: The desk replies' keys begin with it.
ANSWER_KEY = "demo-counter-speech-"


@dataclass(frozen=True)
class ThreadReply:
    """Someone who replied under the first answered comment, ``minutes`` after the town's
    answer (negative: before it), with the demo's label (``category``, ``target``)."""

    minutes: int
    handle: str
    name: str
    category: str
    target: str | None
    text: str


#: Three hateful replies before the answer, one after (and a person on each side who is not).
THREAD = (
    ThreadReply(
        -140,
        "gerard.pichon",
        "Gérard Pichon",
        "hate",
        "origin",
        "Exactement. Dehors, qu'ils retournent dans leur pays ces parasites",
    ),
    ThreadReply(
        -110,
        "camille.renaud",
        "Camille Renaud",
        "neutral",
        None,
        "Ma fille est à l'école avec leurs enfants, ce sont des familles adorables.",
    ),
    ThreadReply(
        -90,
        "steph_lemaire85",
        "Steph Lemaire",
        "insult",
        "citizen",
        "Ferme-la toi, espèce de bobo débile",
    ),
    ThreadReply(
        -60,
        "patriote_ligerien",
        "Patriote Ligérien",
        "hate",
        "origin",
        "Bande de profiteurs, rentrez chez vous, on veut plus de vous ici",
    ),
    ThreadReply(
        120,
        "odile.marchand",
        "Odile Marchand",
        "praise",
        None,
        "Merci à la mairie de répondre calmement, ça fait du bien de lire ça.",
    ),
    ThreadReply(
        360,
        "steph_lemaire85",
        "Steph Lemaire",
        "hate",
        "origin",
        "Ces gens-là n'ont rien à faire chez nous, dehors les étrangers",
    ),
)


@dataclass
class DemoCounterSpeech:
    """What the loader made: the hook a response brief of the cell is added to."""

    organization: Organization
    cell: Organization
    cell_admin: Any
    #: The entries of the town and of the cell, by key.
    entries: dict[str, Entry] = field(default_factory=dict)
    cell_entries: dict[str, Entry] = field(default_factory=dict)
    #: The town's checked claims of the water rumour (what a brief about it is about).
    water_claims: list[CheckedClaim] = field(default_factory=list)
    answers: list[Reply] = field(default_factory=list)
    #: For the demo's logins: (username, role).
    logins: list[tuple[str, str]] = field(default_factory=list)


def library_rows() -> list[tuple[dict[str, Any], EntryData]]:
    """The demo's entries as the library's import reads them, each with its raw fields
    (``state`` and ``library`` say whose and where it stands)."""
    data = resources.files("beffroi.demo").joinpath(LIBRARY_FILE).read_bytes()
    rows, problems = io.read_entries(data, io.JSON)
    if problems:
        raise ValueError("; ".join(problem.sentence for problem in problems))
    raw = json.loads(data)["entries"]
    return [(raw[row.number - 1], row.data) for row in rows]


def load_demo_counter_speech(organization: Organization) -> DemoCounterSpeech:
    """Load the demo town's library, the national cell's and the town's answers once (a
    second call changes nothing); returns what they are."""
    cell, cell_admin = _cell()
    made = DemoCounterSpeech(organization, cell, cell_admin)
    made.logins.append((cell_admin.get_username(), CELL_LOGIN_ROLE))
    made.water_claims = _claims(organization, CLAIM_WORDS["eau du robinet"])
    rows = library_rows()
    town_rows = [(raw, data) for raw, data in rows if not raw.get("library")]
    cell_rows = [(raw, data) for raw, data in rows if raw.get("library")]
    made.entries = _write_entries(
        organization, _member(organization, "com"), _member(organization, "cabinet"), town_rows
    )
    operator = OrgContext.for_command_line(cell, "cli:demo")
    cellule = _member(cell, cell_admin.get_username())
    made.cell_entries = _write_entries(cell, operator, cellule, cell_rows)
    shared = library.library_of(cell)
    if shared is None or not shared.published:
        library.publish_library(cellule, CELL_NAME, CELL_DESCRIPTION)
    if not library.subscribed_publishers(organization).filter(publisher_id=cell.pk).exists():
        library.subscribe(_member(organization, "maire"), cell)
    made.answers = _answer(organization, made.entries)
    return made


# --- the national cell ------------------------------------------------------------------------


def _cell() -> tuple[Organization, Any]:
    """The national cell and its administrator (the demo's password and two-factor secret),
    apart from the town: no member of one is a member of the other."""
    cell, created = Organization.objects.get_or_create(
        slug=CELL_SLUG,
        defaults={"name": CELL_NAME, "kind": Organization.Kind.MINISTRY, "language": "fr"},
    )
    if created:
        record(
            Actor(None, AuditEvent.Channel.CLI, "cli:demo"),
            AuditAction.DEMO_LOAD,
            organization=cell,
            obj=cell,
            after={"slug": cell.slug},
        )
    username, full_name = CELL_USER
    first, _, last = full_name.partition(" ")
    user, made = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last}
    )
    if made:
        user.set_password(DEMO_PASSWORD)
        user.save()
    Membership.objects.get_or_create(user=user, organization=cell, defaults={"role": Role.ADMIN})
    # An administrator enters a two-factor code: the same secret as the town's mayor.
    if not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_SECRET_HEX, confirmed=True)
    return cell, user


def _member(organization: Organization, username: str) -> OrgContext:
    membership = Membership.objects.select_related("user", "organization").get(
        organization=organization, user__username=username
    )
    return OrgContext.for_member(membership, AuditEvent.Channel.CLI)


# --- the entries ------------------------------------------------------------------------------


def _claims(organization: Organization, words: Sequence[str]) -> list[CheckedClaim]:
    claims = CheckedClaim.objects.for_org(organization)
    for word in words:
        claims = claims.filter(statement__icontains=word)
    return list(claims.order_by("id"))


def _narrative(organization: Organization, claims: Sequence[CheckedClaim]) -> Narrative | None:
    """The narrative that clearly gathers the items repeating ``claims`` (more of them than
    any other, two at least), if the veille made one."""
    items = ClaimMatch.objects.for_org(organization).filter(claim__in=claims).values("item_id")
    found = Counter(
        NarrativeItem.objects.filter(item_id__in=items).values_list("narrative_id", flat=True)
    ).most_common(2)
    if not found or found[0][1] < 2 or (len(found) == 2 and found[1][1] == found[0][1]):
        return None
    return Narrative.objects.for_org(organization).filter(pk=found[0][0]).first()


def _filed(organization: Organization, data: EntryData) -> EntryData:
    """``data`` filed under the town's checked claims and narrative its topics answer."""
    claims: list[CheckedClaim] = []
    for topic, words in CLAIM_WORDS.items():
        if topic in data.topics:
            claims += _claims(organization, words)
    if not claims:
        return data
    narrative = _narrative(organization, claims)
    return replace(data, claims=claims, narratives=[narrative] if narrative else [])


def _write_entries(
    organization: Organization,
    writer: OrgContext,
    approver: OrgContext,
    rows: Sequence[tuple[dict[str, Any], EntryData]],
) -> dict[str, Entry]:
    """Each entry written (those already there are kept as they are), submitted and approved,
    or left in review, or sent back, as the file's ``state`` says."""
    entries: dict[str, Entry] = {}
    written: list[Entry] = []
    for raw, data in rows:
        existing = Entry.objects.for_org(organization).filter(key=data.key).first()
        if existing is not None:
            entries[data.key] = existing
            continue
        state = raw.get("state", Entry.State.APPROVED)
        waits = state != Entry.State.DRAFT or data.key in SENT_BACK
        entry = library.create_entry(
            writer, _filed(organization, data), submit=waits, reason="written for the demo"
        )
        if data.key in SENT_BACK:
            entry = library.send_back(approver, entry, SENT_BACK[data.key])
        elif state == Entry.State.APPROVED:
            entry = library.approve(approver, entry, seen_hash=entry.content_hash)
        entries[data.key] = entry
        written.append(entry)
    _leave_unread(written)
    return entries


def _leave_unread(entries: Sequence[Entry]) -> None:
    """The sources just written are not read: their reading, asked for by the library, is
    taken off the queue, and each source says why it has none. Marked as attempted now, the
    weekly check reads them a week later on a server that can reach them."""
    sources = EntrySource.objects.filter(entry__in=entries, last_attempt_at__isnull=True)
    keys = [f"{library.SNAPSHOT_TASK}:{pk}" for pk in sources.values_list("pk", flat=True)]
    Job.objects.filter(
        name=library.SNAPSHOT_TASK, dedupe_key__in=keys, state=Job.State.PENDING
    ).delete()
    sources.update(last_error=NOT_READ, last_attempt_at=timezone.now())


# --- the answers ------------------------------------------------------------------------------


def _label(item: Item) -> dict[str, Any]:
    raw = item.raw if isinstance(item.raw, dict) else {}
    label = raw.get("beffroi_demo_label")
    return label if isinstance(label, dict) else {}


def _answerable(organization: Organization) -> list[tuple[Item, Conversation]]:
    """The hateful comments on the town's Facebook page that open a conversation of the desk,
    still visible and old enough, oldest first."""
    conversations = (
        Conversation.objects.for_org(organization)
        .filter(
            root__platform="facebook",
            root__kind=Item.Kind.COMMENT,
            root__visibility=Item.Visibility.VISIBLE,
            root__analysis__category__in=ANSWERED_CATEGORIES,
            root__created_at__lt=timezone.now() - ANSWERED_BEFORE,
        )
        .select_related("root__source", "root__author")
        .order_by("root__created_at", "root_id")
    )
    return [
        (conversation.root, conversation)
        for conversation in conversations
        if _label(conversation.root).get("category") == "hate"
    ]


def _chosen(organization: Organization) -> list[tuple[Answer, Item, Conversation]]:
    chosen: list[tuple[Answer, Item, Conversation]] = []
    targets: set[str] = set()
    candidates = _answerable(organization)
    for answer in ANSWERS:
        if answer.target in targets or len(chosen) == MAX_ANSWERED:
            continue
        for item, conversation in candidates:
            if _label(item).get("target") == answer.target and answer.word in item.text:
                chosen.append((answer, item, conversation))
                targets.add(answer.target)
                break
    return chosen


def _answer(organization: Organization, entries: dict[str, Entry]) -> list[Reply]:
    """The town's answers, once: sent through the desk as "com" would (simulated: demo
    sources), dated a few hours after their comment, and what followed them."""
    done = Reply.objects.for_org(organization).filter(key__startswith=ANSWER_KEY)
    if done.exists():
        return list(done.order_by("id"))
    com = _member(organization, "com")
    answers: list[Reply] = []
    for number, (answer, item, conversation) in enumerate(_chosen(organization)):
        entry = entries[answer.entry]
        reply = desk.send_reply(
            com.actor,
            conversation,
            answer.text,
            key=f"{ANSWER_KEY}{item.pk}",
            drafted_from=f"{DRAFT_KIND}:{entry.key}",
        )
        sending.send(reply.pk)
        answered_at = item.created_at + ANSWER_DELAY
        _dated(reply, entry, answered_at)
        if number == 0:
            _thread_replies(item, answered_at)
        elif number == 1:
            # Its author deleted it: the platform's sync marks it so (no decision of the town).
            Item.objects.filter(pk=item.pk).update(visibility=Item.Visibility.DELETED)
        reply.refresh_from_db()
        answers.append(reply)
    desk.attach_new_items(organization)
    return answers


def _dated(reply: Reply, entry: Entry, at: datetime) -> None:
    """The answer dated as if it went out at ``at`` (the demo replays the past now): the
    reply, the conversation's response times and the use counted on the entry."""
    reply.refresh_from_db()
    sent = reply.sent_at
    Reply.objects.filter(pk=reply.pk).update(created_at=at, sent_at=at if sent else None)
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    times = {
        name: at
        for name in ("first_response_at", "last_response_at")
        if sent is not None and getattr(conversation, name) == sent
    }
    if times:
        Conversation.objects.filter(pk=conversation.pk).update(**times)
    EntryUse.objects.filter(
        entry=entry, organization=reply.organization_id, item=reply.item_id
    ).update(used_at=at)
    used = EntryUse.objects.filter(entry=entry).aggregate(last=Max("used_at"))["last"]
    Entry.objects.filter(pk=entry.pk).update(last_used_at=used)


def _thread_replies(comment: Item, answered_at: datetime) -> None:
    """Others replied under the comment: hateful replies before the town's answer, fewer
    after. Ingested as the platform's sync would, then judged by the town's charter."""
    post = comment.platform_id.split("_", 1)[0]
    items = []
    for number, written in enumerate(THREAD):
        key = digits(f"counter-speech-thread:{comment.platform_id}:{number}", 16)
        platform_id = f"{post}_{key}"
        user_id = digits(f"facebook-user:{written.handle}", 15)
        author = NormalizedAuthor(
            platform_id=user_id,
            handle=written.handle,
            display_name=written.name,
            url=f"https://facebook.demo.invalid/{user_id}",
        )
        at = answered_at + timedelta(minutes=written.minutes)
        url = f"{comment.url}&reply_comment_id={key}"
        hostile = written.category in ("hate", "insult")
        label = {
            "category": written.category,
            "topic": None,
            "target": written.target,
            "group": None,
            "expected_action": "hide" if hostile else "keep",
        }
        items.append(
            NormalizedItem(
                platform_id=platform_id,
                kind=ItemKind.REPLY,
                text=written.text,
                created_at=at,
                author=author,
                thread_id=comment.thread_id,
                parent_id=comment.platform_id,
                url=url,
                metrics={"likes": 0, "shares": 0, "replies": 0},
                language="fr",
                # Shaped as the Graph API answers for a reply to a comment.
                raw={
                    "id": platform_id,
                    "message": written.text,
                    "created_time": iso_fb(at),
                    "from": {"id": user_id, "name": written.name},
                    "permalink_url": url,
                    "like_count": 0,
                    "comment_count": 0,
                    "object": {"id": comment.thread_id},
                    "parent": {"id": comment.platform_id},
                    "beffroi_demo_label": label,
                },
            )
        )
    ingest(comment.source, items)
    moderate_items(
        Item.objects.filter(
            source=comment.source,
            platform_id__in=[item.platform_id for item in items],
            state=Item.State.NEW,
        ).select_related("source", "author")
    )
