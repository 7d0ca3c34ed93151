"""The veille's rebuttals merged into the library: the migration that moves each claim's reply
into an approved entry (and back), the rebuttal written from the organization's own post that
ends on the library's prefilled form, the prefill's links fetched among the organization's own,
the veille's pages and exports without a reply, a file's replies left out, and the demo's."""

from __future__ import annotations

import csv
import importlib
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.counterspeech.conftest import Desk

MIGRATION = "beffroi.counterspeech.migrations.0003_rebuttals"
#: The last state in which the claims have their reply (``veille.0007`` drops it).
WITH_REPLIES = [("veille", "0006_claimmatch_evidence"), ("counterspeech", "0003_rebuttals")]
WATER = "L'eau du robinet de Saint-Aubin est contaminée"
DENIAL = "C'est faux : l'eau du robinet de Saint-Aubin est potable, les analyses sont publiques."


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Bring the database to ``targets``; returns the models as they were there."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_reply_into_an_approved_rebuttal_entry_and_back() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module(MIGRATION)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        # The schema the migration runs on; its functions are called as migrate calls them
        # (a migration back and forth through the whole graph is slow).
        apps = _migrate(WITH_REPLIES)
        Organization = apps.get_model("organizations", "Organization")
        User = apps.get_model("auth", "User")
        Claim = apps.get_model("veille", "CheckedClaim")
        Entry = apps.get_model("counterspeech", "Entry")
        town = Organization.objects.create(slug="ville", name="Ville")
        other = Organization.objects.create(slug="autre", name="Autre")
        alice = User.objects.create(username="alice")
        checked = Claim.objects.create(
            organization=town,
            key="k" * 40,
            statement=f"{WATER}   (bactérie,\n travaux) " + "et encore " * 30,
            verdict="Faux",
            url="https://factcheck.example/eau",
            title="Eau du robinet : l'intox",
            language="fr-FR",
            reply=DENIAL,
            created_by=alice,
        )
        Claim.objects.create(
            organization=town, key="b" * 40, statement="La maire a vendu la mairie", reply="Non."
        )
        Claim.objects.create(organization=town, key="s" * 40, statement="Sans réponse", reply="")
        theirs = Claim.objects.create(
            organization=other, key="k" * 40, statement=WATER, reply="Their reply", language="en"
        )

        migration.move_rebuttals(apps, None)
        assert Entry.objects.count() == 3  # the claim without a reply has none
        entry = Entry.objects.get(organization_id=town.pk, key=f"rebuttal-{'k' * 40}")
        assert (entry.origin, entry.strategy, entry.tone, entry.state) == (
            "rebuttal",
            "facts",
            "calm",
            "approved",
        )
        assert entry.title.startswith(f"{WATER} (bactérie, travaux) et encore")
        assert len(entry.title) == 200 and entry.title.endswith("…")
        assert (entry.licence, entry.approver_id, entry.author_id) == (
            "all-rights-reserved",
            None,
            alice.pk,
        )
        assert entry.state_reason == "moved from the veille" and entry.approved_version == 1
        assert entry.approved_hash == entry.content_hash != ""
        assert list(entry.texts.values_list("language", "text")) == [("fr", DENIAL)]
        assert list(entry.sources.values_list("url", "title")) == [
            ("https://factcheck.example/eau", "Eau du robinet : l'intox")
        ]
        assert list(entry.claims.values_list("pk", flat=True)) == [checked.pk]
        version = entry.versions.get()
        assert (version.number, version.reason, version.content_hash) == (
            1,
            "moved from the veille",
            entry.content_hash,
        )
        assert version.snapshot["claims"] == [checked.pk]
        plain = Entry.objects.get(key=f"rebuttal-{'b' * 40}")
        assert list(plain.texts.values_list("language", "text")) == [("fr", "Non.")]
        assert not plain.sources.exists()
        foreign = Entry.objects.get(organization_id=other.pk)
        assert list(foreign.claims.values_list("pk", flat=True)) == [theirs.pk]
        assert list(foreign.texts.values_list("language", flat=True)) == ["en"]

        migration.move_rebuttals(apps, None)  # again: nothing more
        assert Entry.objects.count() == 3

        # Backwards (the reply column comes back empty): the texts return, the entries go.
        Claim.objects.update(reply="")
        migration.move_back(apps, None)
        assert not Entry.objects.exists()
        assert dict(Claim.objects.filter(organization_id=town.pk).values_list("key", "reply")) == {
            "k" * 40: DENIAL,
            "b" * 40: "Non.",
            "s" * 40: "",
        }
        migration.move_rebuttals(apps, None)
    finally:
        _migrate(latest)

    # Today's models, the reply dropped: the approval holds by today's hash; it is suggested.
    from beffroi.counterspeech import approval
    from beffroi.counterspeech.models import Entry as Current
    from beffroi.veille.models import CheckedClaim

    moved = Current.objects.get(organization_id=town.pk, key=f"rebuttal-{'k' * 40}")
    assert approval.content_hash(moved) == moved.approved_hash and moved.approval_current
    assert Current.objects.for_org(town.pk).suggestible().count() == 2
    assert not hasattr(CheckedClaim(), "reply")


# --- the rebuttal written from the organization's own post ------------------------------------


@pytest.fixture
def denial(desk: Desk, source: Any) -> Any:
    from tests.web.factories import make_author, make_item

    mairie = make_author(desk.org, "mairie")
    return make_item(
        source, mairie, "denial", kind="post", text=DENIAL, url="https://social.example/denial"
    )


def _veille(desk: Desk, name: str, **kwargs: Any) -> str:
    return reverse(f"veille:{name}", kwargs={"org_slug": desk.org.slug, **kwargs})


def _create(desk: Desk) -> str:
    return reverse("counterspeech:create", kwargs={"org_slug": desk.org.slug})


def test_a_rebuttal_from_the_towns_post_ends_on_the_prefilled_entry_form(
    desk: Desk, denial: Any, verified_client: Any
) -> None:
    from beffroi.counterspeech.models import Entry
    from beffroi.veille.models import CheckedClaim

    client = verified_client(desk.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.post(
        _veille(desk, "claim_create") + f"?item={denial.pk}",
        {"statement": WATER, "verdict": "Faux"},
        follow=True,
    )
    claim = CheckedClaim.objects.get()
    assert (claim.origin, claim.item_id, claim.url) == ("rebuttal", denial.pk, denial.url)
    assert page.redirect_chain == [(f"{_create(desk)}?claim={claim.pk}&item={denial.pk}", 302)]
    assert page.status_code == 200
    html = page.content.decode()
    assert "Now write the reply the counter-speech library will suggest" in html
    assert "C&#x27;est faux : l&#x27;eau du robinet" in html  # the post, escaped
    form, texts = page.context["form"], page.context["texts"]
    assert form.initial["title"] == WATER and form.initial["strategy"] == "facts"
    assert form.initial["claims"] == [claim]
    assert form.initial["sources"] == f"{denial.url} {desk.org.name}"
    assert texts.initial == [{"language": "fr", "text": DENIAL}]

    # Sent as it was prefilled: a draft linked to the claim, with the post's text.
    sent = {
        "title": form.initial["title"],
        "strategy": form.initial["strategy"],
        "tone": "calm",
        "licence": "all-rights-reserved",
        "sources": form.initial["sources"],
        "claims": [claim.pk],
        "texts-TOTAL_FORMS": "2",
        "texts-INITIAL_FORMS": "0",
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "30",
        "texts-0-language": "fr",
        "texts-0-text": DENIAL,
        "texts-1-language": "",
        "texts-1-text": "",
    }
    assert client.post(_create(desk), sent).status_code == 302
    entry = Entry.objects.get()
    assert list(entry.claims.all()) == [claim] and entry.state == "draft"
    assert list(entry.texts.values_list("language", "text")) == [("fr", DENIAL)]
    assert list(entry.sources.values_list("url", flat=True)) == [denial.url]


def test_who_may_not_write_in_the_library_goes_back_to_the_claims(
    desk: Desk, denial: Any, make_user: Any, verified_client: Any
) -> None:
    analyst = make_user("town-analyst", org=desk.org, role="analyst")
    response = verified_client(analyst).post(
        _veille(desk, "claim_create") + f"?item={denial.pk}",
        {"statement": WATER, "verdict": "Faux"},
    )
    assert response.status_code == 302 and response["Location"] == _veille(desk, "claims")


def test_the_prefill_links_a_narrative_and_reads_only_the_organizations_own(
    desk: Desk, denial: Any, other_org: Any, verified_client: Any
) -> None:
    from beffroi.sources.models import Source
    from beffroi.veille.models import CheckedClaim, Narrative
    from tests.web.factories import make_author, make_item

    narrative = Narrative.objects.create(organization=desk.org, key="n", name="Eau")
    claim = CheckedClaim.objects.create(organization=desk.org, key="c", statement=WATER)
    client = verified_client(desk.writer)
    page = client.get(f"{_create(desk)}?narrative={narrative.pk}&claim={claim.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["narratives"] == [narrative]
    assert "sources" not in page.context["form"].initial  # the claim has no address
    assert page.context["texts"].initial is None  # no item: nothing to reword

    theirs = Source.objects.create(organization=other_org, name="I", platform="file", kind="import")
    foreign = {
        "claim": CheckedClaim.objects.create(organization=other_org, key="c", statement=WATER),
        "narrative": Narrative.objects.create(organization=other_org, key="n"),
        "item": make_item(theirs, make_author(other_org, "x"), "x", text="Leur texte"),
    }
    for name, found in foreign.items():
        assert client.get(f"{_create(desk)}?{name}={found.pk}").status_code == 404, name
    assert client.get(f"{_create(desk)}?claim=abc").status_code == 200  # not an id: ignored


# --- the veille without a reply ---------------------------------------------------------------


def test_the_veille_pages_exports_and_api_no_longer_carry_a_reply(
    desk: Desk, source: Any, make_user: Any, verified_client: Any
) -> None:
    from beffroi.accounts.models import ApiToken
    from beffroi.counterspeech import services
    from beffroi.veille.models import Alert, CheckedClaim, ClaimMatch
    from tests.counterspeech.conftest import entry_data
    from tests.web.factories import make_author, make_item

    claim = CheckedClaim.objects.create(
        organization=desk.org, key="c", statement=WATER, verdict="Faux", url="https://f.example/1"
    )
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(claims=[claim]), submit=True)
    services.approve(desk.ctx(desk.approver), entry)
    hoax = make_item(source, make_author(desk.org, "echo"), "hoax", text=f"{WATER} !!")
    ClaimMatch.objects.create(organization=desk.org, item=hoax, claim=claim, similarity=0.9)
    alert = Alert.objects.create(
        organization=desk.org,
        kind="claim",
        key="claim:x",
        series="claim:1",
        title="Eau",
        started_at=timezone.now(),
        context={"items": [hoax.pk], "claims": [claim.pk]},
    )
    # An analyst: the veille's pages, without the library's suggestions beside the item.
    analyst = make_user("town-analyst", org=desk.org, role="analyst")
    client = verified_client(analyst)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    for page_url in (
        _veille(desk, "claim_matches"),
        _veille(desk, "alert", pk=alert.pk),
        reverse("items:item", args=[desk.org.slug, hoax.pk]),
    ):
        html = client.get(page_url).content.decode()
        assert "Faux" in html, page_url
        assert "Suggested reply" not in html, page_url

    def header(name: str) -> list[str]:
        response = client.get(_veille(desk, name) + "?format=csv")
        return next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert header("claims") == [
        "claim",
        "verdict",
        "url",
        "source",
        "date",
        "language",
        "title",
        "origin",
        "matches",
    ]
    assert "suggested_reply" not in header("claim_matches")
    _token, key = ApiToken.issue(analyst, "test")
    answer = client.get(
        f"/api/v1/orgs/{desk.org.slug}/claims", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200
    (found,) = answer.json()["items"]
    assert found["statement"] == WATER and "reply" not in found


def test_a_files_replies_are_left_out_and_said(desk: Desk) -> None:
    from beffroi.analysis.claims.library import claims_from_csv
    from beffroi.counterspeech.models import Entry
    from beffroi.veille import claims

    parsed = claims_from_csv(
        "claim,verdict,reply\n"
        f"{WATER},Faux,{DENIAL.replace(',', '')}\n"
        "La maire a vendu la mairie,Faux,\n"
    )
    done = claims.add_claims(desk.org, parsed)
    assert done.created == 2
    assert any("1 suggested reply in the file was left out" in note for note in done.notes)
    assert not Entry.objects.exists()
    assert not claims.add_claims(desk.org, parsed[1:]).notes  # no reply, nothing to say


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_towns_denial_is_an_approved_entry_of_its_library(org: Any, source: Any) -> None:
    from beffroi.counterspeech.models import Entry
    from beffroi.demo.load import _demo_rebuttal, _demo_users
    from beffroi.veille import claims
    from tests.web.factories import make_author, make_item

    _demo_users(org)
    denial = make_item(source, make_author(org, "mairie"), "d", kind="post", text=DENIAL)
    claim = claims.add_rebuttal(denial, WATER, "Faux", None)
    _demo_rebuttal(org, claim, denial)
    _demo_rebuttal(org, claim, denial)  # loaded twice, one entry
    entry = Entry.objects.get()
    assert entry.key == f"rebuttal-{claim.key}" and list(entry.claims.all()) == [claim]
    assert entry.state == "approved" and entry.approval_current
    assert (entry.author.username, entry.approver.username) == ("com", "cabinet")
    assert list(entry.texts.values_list("language", "text")) == [("fr", DENIAL)]
    assert Entry.objects.suggestible().filter(pk=entry.pk).exists()
