"""The demo town's counter-speech library, the national cell's shared one, and the hateful
comments the town answered with it (``beffroi.demo.counterspeech``).

The town is loaded as ``beffroi demo`` loads it, with two shortcuts that keep this file
quick: only the hateful comments and insults are judged before the library is loaded (the
rest of the town plays no part here), and the charter's classifier is one that knows the
demo's own labels (the real one is trained for a minute on a fresh data directory; its
judgement of the demo is tested with the moderation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import pytest

from beffroi.analysis.moderation.signals import Signal

ARABIC = re.compile(r"[\u0600-\u06ff]")
#: Where the demo's sources are: official French sites, and the town's own (fictional) one.
OFFICIAL = (
    ".gouv.fr",
    ".sante.fr",
    "service-public.fr",
    "insee.fr",
    "defenseurdesdroits.fr",
    "antidiscriminations.fr",
    "clemi.fr",
)
TOWN_SITE = "www.saint-aubin-sur-loire.demo.invalid"
HOSTILE = frozenset({"hate", "insult"})


class DemoLabels:
    """A classifier that knows the demo: a text the demo labelled hateful or insulting is
    scored high enough for a person to review it, any other text not at all."""

    name = "demo-labels"
    version = "1"

    def __init__(self, hostile: dict[str, str]) -> None:
        self.hostile = hostile

    def score(self, texts: Sequence[str]) -> list[list[Signal]]:
        return [
            [Signal(self.name, self.version, self.hostile[text], 0.7)]
            if text in self.hostile
            else []
            for text in texts
        ]


def _hostile_texts(organization: Any) -> dict[str, str]:
    from beffroi.demo.counterspeech import THREAD

    labelled = {
        item.text: item.raw["beffroi_demo_label"]["category"]
        for item in organization.items.all()
        if item.raw.get("beffroi_demo_label", {}).get("category") in HOSTILE
    }
    return labelled | {reply.text: reply.category for reply in THREAD if reply.category in HOSTILE}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    from django.core.management import call_command

    from beffroi.counterspeech.suggesting import forget_indexes
    from beffroi.demo.counterspeech import load_demo_counter_speech
    from beffroi.demo.desk import load_demo_desk
    from beffroi.demo.load import load_demo
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.moderation import services as moderation

    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        organization = load_demo().organization
        labels = DemoLabels(_hostile_texts(organization))
        patch.setattr(moderation, "model_detectors", lambda organization: [labels])
        moderation.moderate_items(
            organization.items.filter(text__in=list(labels.hostile)).select_related(
                "source", "author"
            )
        )
        load_demo_desk(organization)
        load_demo_publishing(organization)
        forget_indexes(on_disk=True)
        yield load_demo_counter_speech(organization)
        forget_indexes(on_disk=True)
        call_command("flush", interactive=False, verbosity=0)


# --- the file ---------------------------------------------------------------------------------


def test_the_demo_library_is_a_library_file_that_imports_as_it_is() -> None:
    from beffroi.counterspeech import io
    from beffroi.counterspeech.models import Strategy, Target, Tone
    from beffroi.demo.counterspeech import CELL_NAME, LIBRARY_FILE

    data = resources.files("beffroi.demo").joinpath(LIBRARY_FILE).read_bytes()
    rows, problems = io.read_entries(data, io.JSON)
    assert not problems
    raw = json.loads(data)["entries"]
    assert len(rows) == len(raw) and 45 <= len(raw) <= 55
    assert len({row.data.key for row in rows}) == len(rows)
    assert {entry.get("library", "") for entry in raw} == {"", CELL_NAME}
    town = [row.data for row, entry in zip(rows, raw, strict=True) if not entry.get("library")]
    assert 38 <= len(town) <= 45
    assert {data.licence for data in town} == {"etalab-2.0"}
    assert set(Strategy.values) - {data.strategy for data in town} == {"other"}
    assert set(Target.values) - {t for data in town for t in data.targets} == {"other"}
    assert {Tone.CALM, Tone.WARM, Tone.FIRM} <= {data.tone for data in town}
    languages = [dict(data.texts) for data in town]
    assert all("fr" in texts for texts in languages)
    assert sum("en" in texts for texts in languages) >= 0.75 * len(town)
    arabic = [texts["ar"] for texts in languages if "ar" in texts]
    assert 6 <= len(arabic) <= 12 and all(ARABIC.search(text) for text in arabic)
    for data in (row.data for row in rows):
        for source in data.sources:
            parts = urlsplit(source.url)
            assert parts.scheme == "https", source.url
            assert parts.hostname == TOWN_SITE or parts.hostname.endswith(OFFICIAL), source.url


# --- the town's library -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_town_library_written_by_com_and_approved_by_the_cabinet(demo: Any) -> None:
    from beffroi.counterspeech.models import Entry

    entries = Entry.objects.filter(organization=demo.organization)
    approved = entries.filter(state=Entry.State.APPROVED)
    assert approved.count() >= 35
    assert len(set(approved.values_list("strategy", flat=True))) >= 6
    languages = set(approved.values_list("texts__language", flat=True))
    assert {"fr", "en", "ar"} <= languages
    mine = approved.filter(key__in=demo.entries)
    assert set(mine.values_list("author__username", "approver__username")) == {("com", "cabinet")}
    assert not approved.filter(approver=None).exists()
    for entry in approved.exclude(author=None):
        assert entry.approver_id != entry.author_id
    # Some wait for the cabinet: two in review, one sent back to its author with why.
    waiting = entries.exclude(state=Entry.State.APPROVED)
    assert set(waiting.values_list("state", flat=True)) == {"in_review", "draft"}
    assert waiting.filter(state="in_review").count() == 2
    assert waiting.get(state="draft").state_reason


@pytest.mark.django_db
def test_an_out_of_date_figure_stays_in_the_library_and_is_never_suggested(demo: Any) -> None:
    from beffroi.counterspeech.suggesting import suggest, suggestible
    from beffroi.items.models import Item

    dated = demo.entries["demo-eau-bilan-2023"]
    assert dated.state == "approved" and not dated.valid_at()
    assert not suggestible(demo.organization).filter(pk=dated.pk).exists()
    asking = Item.objects.filter(
        organization=demo.organization, text__icontains="eau", kind=Item.Kind.COMMENT
    )[:5]
    assert asking
    for item in asking:
        assert dated.key not in {s.entry.key for s in suggest(demo.organization, item)}


@pytest.mark.django_db
def test_the_water_entries_answer_the_towns_checked_claim(demo: Any) -> None:
    from beffroi.veille.models import CheckedClaim

    denied = CheckedClaim.objects.get(
        organization=demo.organization, statement__startswith="L'eau du robinet de Saint-Aubin est"
    )
    assert denied in demo.water_claims
    water = [entry for entry in demo.entries.values() if "eau du robinet" in entry.topics]
    assert len(water) >= 5
    for entry in water:
        assert denied in entry.claims.all()
    assert not demo.entries["demo-migrants-empathie"].claims.exists()
    scam = demo.entries["demo-arnaque-250"].claims.get()
    assert "250 €" in scam.statement


@pytest.mark.django_db
def test_the_water_narrative_is_the_one_that_clearly_gathers_the_rumour(demo: Any) -> None:
    """The veille did not run here: the entries are filed under no narrative, and the one
    they would be filed under is the narrative holding most of the rumour's items."""
    from beffroi.demo.counterspeech import _narrative
    from beffroi.items.models import Item
    from beffroi.veille.models import ClaimMatch, Narrative, NarrativeItem

    town, claims = demo.organization, demo.water_claims
    assert not demo.entries["demo-eau-analyses"].narratives.exists()
    assert _narrative(town, claims) is None
    rumour = list(Item.objects.filter(organization=town, text__icontains="eau est")[:4])
    assert len(rumour) == 4
    for item in rumour:
        ClaimMatch.objects.create(organization=town, item=item, claim=claims[0], similarity=0.9)
    water, other = (Narrative.objects.create(organization=town, key=key) for key in "wo")
    for item, narrative in zip(rumour, (water, other, water, other), strict=True):
        NarrativeItem.objects.create(narrative=narrative, item=item)
    assert _narrative(town, claims) is None  # as many in each: not clear
    NarrativeItem.objects.filter(item=rumour[1]).update(narrative=water)
    assert _narrative(town, claims) == water


@pytest.mark.django_db
def test_the_sources_are_not_read_and_say_so(demo: Any) -> None:
    from beffroi.counterspeech import services
    from beffroi.counterspeech.models import EntrySource
    from beffroi.demo.counterspeech import NOT_READ
    from beffroi.jobs.models import Job

    sources = EntrySource.objects.filter(
        entry__organization__in=[demo.organization, demo.cell],
        entry__key__in=[*demo.entries, *demo.cell_entries],
    )
    assert sources.count() >= 40
    assert set(sources.values_list("last_error", flat=True)) == {NOT_READ}
    assert not sources.filter(last_attempt_at=None).exists()
    assert not sources.exclude(fetched_at=None).exists()
    assert not Job.objects.filter(name=services.SNAPSHOT_TASK).exists()
    # Nor does the weekly check read them as soon as a server starts.
    assert services.snapshots_due() == 0


# --- the national cell ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_national_cell_shares_its_library_and_the_town_reads_it(demo: Any) -> None:
    from beffroi.counterspeech import services
    from beffroi.counterspeech.models import Entry
    from beffroi.organizations.models import Membership

    cell, town = demo.cell, demo.organization
    assert (cell.slug, cell.kind) == ("cellule-nationale", "ministry")
    assert services.library_of(cell).published
    assert services.subscribed_publishers(town).filter(publisher_id=cell.pk).exists()
    shared = Entry.objects.filter(organization=cell, state=Entry.State.APPROVED)
    assert 5 <= shared.count() <= 8
    assert set(shared.values_list("approver__username", flat=True)) == {"cellule"}
    assert not shared.exclude(author=None).exists()  # loaded by the operator
    seen = services.visible_entries(town)
    assert set(shared) <= set(seen)
    assert not seen.filter(organization=cell).exclude(state=Entry.State.APPROVED).exists()
    assert Entry.objects.filter(organization=cell, state=Entry.State.DRAFT).exists()
    for entry in shared:
        assert not services.is_own(town, entry)  # read-only in the town
    # The cell is apart: its one account is not the town's, and no one of the town is its.
    assert set(
        Membership.objects.filter(organization=cell).values_list("user__username", "role")
    ) == {("cellule", "admin")}
    assert not Membership.objects.filter(organization=town, user=demo.cell_admin).exists()
    assert demo.cell_admin.check_password("beffroi-demo")
    assert demo.cell_admin.totpdevice_set.filter(confirmed=True).exists()
    assert [username for username, _role in demo.logins] == ["cellule"]


@pytest.mark.django_db
def test_suggestions_for_the_towns_hateful_comments(demo: Any) -> None:
    from beffroi.counterspeech.suggesting import suggest
    from beffroi.items.models import Item

    for reply in demo.answers:
        suggestions = suggest(demo.organization, reply.item)
        assert len(suggestions) >= 3
        assert all(s.entry.state == "approved" for s in suggestions)
    hateful = Item.objects.filter(
        organization=demo.organization, raw__beffroi_demo_label__category__in=["hate", "insult"]
    ).exclude(analysis={})
    offered = {
        s.entry.organization_id for item in hateful for s in suggest(demo.organization, item)
    }
    assert demo.cell.pk in offered  # the cell's entries are suggested too


# --- the answers and what followed ------------------------------------------------------------


@pytest.mark.django_db
def test_the_answers_went_out_from_the_desk_and_counted_their_uses(demo: Any) -> None:
    from beffroi.counterspeech.models import EntryUse

    assert 3 <= len(demo.answers) <= 4
    for reply in demo.answers:
        assert reply.state == "simulated" and reply.author.username == "com"
        kind, _colon, key = reply.drafted_from.partition(":")
        entry = demo.entries[key]
        assert kind == "counter-speech"
        assert reply.item.analysis["category"] in ("hate", "insult")
        use = EntryUse.objects.get(entry=entry, item=reply.item)
        assert use.used_at == reply.sent_at < reply.item.created_at + timedelta(hours=4)
        entry.refresh_from_db()
        assert entry.use_count == 1 and entry.last_used_at == use.used_at
    assert EntryUse.objects.filter(organization=demo.organization).count() == len(demo.answers)


@pytest.mark.django_db
def test_one_comment_deleted_by_its_author_another_drew_fewer_hateful_replies(demo: Any) -> None:
    from django.utils import timezone

    from beffroi.counterspeech import outcomes

    answered = outcomes.answers_of(demo.organization, timezone.now() - timedelta(days=60))
    assert {a.item.pk for a in answered} == {reply.item_id for reply in demo.answers}
    found = {o.item.pk: o for o in outcomes.outcomes_for_items(demo.organization, answered)}
    first, second = (found[reply.item_id] for reply in demo.answers[:2])
    trend = first.hateful_replies
    assert trend.status == outcomes.Status.MEASURED
    assert trend.before is not None and trend.after is not None
    assert trend.before.count >= 3 > trend.after.count >= 1
    assert trend.change is not None and trend.change < 0
    assert second.removal == outcomes.Removal.NOT_BY_ORGANIZATION and second.author_removed
    assert [o.removal for o in found.values()].count(outcomes.Removal.NOT_BY_ORGANIZATION) == 1


# --- twice, and the command line --------------------------------------------------------------


@pytest.mark.django_db
def test_loading_it_again_adds_nothing(demo: Any) -> None:
    from django.contrib.auth import get_user_model

    from beffroi.audit.models import AuditEvent
    from beffroi.conversations.models import Conversation, Reply
    from beffroi.counterspeech.models import (
        Entry,
        EntrySource,
        EntryUse,
        EntryVersion,
        LibrarySubscription,
    )
    from beffroi.demo.counterspeech import load_demo_counter_speech
    from beffroi.items.models import Item
    from beffroi.jobs.models import Job
    from beffroi.organizations.models import Membership, Organization

    models = (
        Entry,
        EntrySource,
        EntryUse,
        EntryVersion,
        LibrarySubscription,
        Reply,
        Item,
        Conversation,
        AuditEvent,
        Job,
        Organization,
        Membership,
        get_user_model(),
    )
    before = {model: model.objects.count() for model in models}
    again = load_demo_counter_speech(demo.organization)
    assert {model: model.objects.count() for model in models} == before
    assert set(again.entries) == set(demo.entries)
    assert [reply.pk for reply in again.answers] == [reply.pk for reply in demo.answers]


@pytest.mark.django_db
def test_stats_count_the_towns_library(demo: Any) -> None:
    from click.testing import CliRunner

    from beffroi.cli import main

    result = CliRunner().invoke(main, ["stats", "--org", demo.organization.slug, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counter_speech_entries"]["approved"] >= 35


@pytest.mark.django_db
def test_the_cell_brief_about_the_water_rumour_reaches_the_town_and_counts_its_answer(
    demo: Any,
) -> None:
    from beffroi.briefs import services
    from beffroi.briefs.models import Brief, BriefDelivery, BriefResponse
    from beffroi.demo.briefs import BRIEF_TITLE, load_demo_brief
    from beffroi.veille.claims import match_items

    town, cell = demo.organization, demo.cell
    match_items(town)  # what the demo's scan does before: the rumour's posts found
    brief = load_demo_brief(demo)
    assert brief is not None and brief.organization == cell and brief.title == BRIEF_TITLE
    posts = list(brief.posts.all())
    assert 1 <= len(posts) <= 4
    # Each repeats the water claim, in any language (the veille matched them).
    from beffroi.veille.models import ClaimMatch

    repeating = set(
        ClaimMatch.objects.filter(organization=town, claim__in=demo.water_claims).values_list(
            "item__platform_id", flat=True
        )
    )
    assert {post.platform_id for post in posts} <= repeating
    assert {entry.key for entry in brief.entries.all()} >= {"cellule-alerte-sanitaire"}
    assert brief.dos and brief.donts
    delivery = services.received(town).get(brief=brief)
    assert delivery.state == BriefDelivery.State.ACKNOWLEDGED
    # The town's own inbox holds the same posts: its desk links them.
    assert set(services.matching_items(town, posts)) == {post.pk for post in posts}
    (response,) = services.responses_of(brief)
    assert response.delivery.organization == town
    counts = (Brief.objects.count(), BriefDelivery.objects.count(), BriefResponse.objects.count())
    assert load_demo_brief(demo).pk == brief.pk
    assert (
        Brief.objects.count(),
        BriefDelivery.objects.count(),
        BriefResponse.objects.count(),
    ) == counts
