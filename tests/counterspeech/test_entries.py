"""The library's rules: who writes and who approves (never the same person), approval bound
to what the entry says, versions with who/when/why, validity dates, uses, the audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.counterspeech import services
from beffroi.counterspeech.models import Entry, EntryText, EntryUse, EntryVersion
from beffroi.counterspeech.services import LibraryError
from beffroi.counterspeech.validation import SourceData
from beffroi.jobs.models import Job
from tests.counterspeech.conftest import entry_data

pytestmark = pytest.mark.django_db

State = Entry.State


def _approved(desk: Any, **overrides: Any) -> Entry:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=True)
    return services.approve(desk.ctx(desk.approver), entry, seen_hash=entry.content_hash)


def _item(org: Any, source: Any) -> Any:
    from beffroi.items.models import Author, Item

    author = Author.objects.create(organization=org, platform="file", platform_id="a1", handle="a1")
    return Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id="c1",
        kind="comment",
        author=author,
        text="Un commentaire haineux",
        created_at=timezone.now(),
    )


def _actions(entry: Entry) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="counterspeech.entry", object_id=str(entry.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_new_entry_is_a_draft_of_its_writer_with_its_texts_and_first_version(desk: Any) -> None:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(), reason="first draft")
    assert entry.state == State.DRAFT and entry.author == desk.writer
    assert dict(entry.texts.values_list("language", "text"))["en"].startswith("Tap water")
    assert list(entry.sources.values_list("url", flat=True)) == [
        "https://www.example.org/qualite-eau"
    ]
    version = EntryVersion.objects.get(entry=entry)
    assert (version.number, version.author, version.reason) == (1, desk.writer, "first draft")
    assert version.snapshot["texts"]["fr"].startswith("L'eau du robinet")
    assert version.snapshot["strategy"] == "facts" and version.snapshot["topics"] == [
        "eau",
        "santé",
    ]
    assert entry.content_hash == version.content_hash and len(entry.content_hash) == 64
    # Its source is read in the background.
    assert Job.objects.filter(name="counterspeech.snapshot_source").count() == 1
    assert _actions(entry) == ["counter_speech.create"]


def test_no_one_approves_an_entry_they_wrote(desk: Any) -> None:
    # An administrator holds every capability, and still may not approve their own entry.
    entry = services.create_entry(desk.ctx(desk.admin), entry_data(), submit=True)
    with pytest.raises(LibraryError, match="No one approves an entry they wrote"):
        services.approve(desk.ctx(desk.admin), entry)
    with pytest.raises(LibraryError, match="No one approves an entry they wrote"):
        services.send_back(desk.ctx(desk.admin), entry, "Relire")
    entry.refresh_from_db()
    assert entry.state == State.IN_REVIEW and entry.approver is None and not entry.approved_hash
    assert "counter_speech.approve" not in _actions(entry)


def test_whoever_wrote_a_version_since_the_approval_may_not_approve_it(desk: Any) -> None:
    entry = _approved(desk)
    # The administrator rewrites the text: it goes back to review, and they cannot approve
    # their own words, though they did not write the entry first.
    entry = services.update_entry(
        desk.ctx(desk.admin),
        entry,
        entry_data(texts=[("fr", "L'eau est contrôlée chaque jour.")]),
        reason="fréquence corrigée",
    )
    assert entry.state == State.IN_REVIEW
    with pytest.raises(LibraryError, match="they wrote"):
        services.approve(desk.ctx(desk.admin), entry)
    entry = services.approve(desk.ctx(desk.approver), entry)
    assert entry.state == State.APPROVED and entry.approver == desk.approver


def test_the_approval_is_bound_to_the_content_seen(desk: Any) -> None:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(), submit=True)
    seen = entry.content_hash
    services.update_entry(
        desk.ctx(desk.writer), entry, entry_data(strategy="empathy"), reason="plus humain"
    )
    with pytest.raises(LibraryError, match="changed since you opened it") as refused:
        services.approve(desk.ctx(desk.approver), entry, seen_hash=seen)
    assert refused.value.code == "changed"
    entry.refresh_from_db()
    assert entry.state == State.IN_REVIEW and not entry.approved_hash


@pytest.mark.parametrize(
    "change",
    [
        {"texts": [("fr", "Un autre texte.")]},
        {"sources": [SourceData("https://www.example.org/autre", "Autre")]},
        {"strategy": "question"},
    ],
    ids=["text", "source", "strategy"],
)
def test_editing_an_approved_entry_sends_it_back_to_review(desk: Any, change: Any) -> None:
    entry = _approved(desk)
    assert entry.approval_current
    entry = services.update_entry(desk.ctx(desk.writer), entry, entry_data(**change))
    assert entry.state == State.IN_REVIEW and not entry.approval_current
    assert entry.approver is None and entry.version == 2
    assert _actions(entry)[-2:] == ["counter_speech.edit", "counter_speech.back_to_review"]
    assert not services.visible_entries(desk.org).suggestible().filter(pk=entry.pk).exists()


def test_filing_an_approved_entry_keeps_its_approval(desk: Any) -> None:
    entry = _approved(desk)
    entry = services.update_entry(
        desk.ctx(desk.writer), entry, entry_data(title="Eau (rumeur d'août)", topics=["eau"])
    )
    assert entry.state == State.APPROVED and entry.approval_current and entry.version == 2


def test_every_change_is_a_version_with_who_when_and_why(desk: Any) -> None:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data())
    services.update_entry(
        desk.ctx(desk.moderator),
        entry,
        entry_data(texts=[("fr", "Texte revu.")]),
        reason="anglais retiré",
    )
    # A save that changes nothing is no version.
    services.update_entry(
        desk.ctx(desk.moderator), entry, entry_data(texts=[("fr", "Texte revu.")])
    )
    versions = list(EntryVersion.objects.filter(entry=entry).order_by("number"))
    assert [(v.number, v.author, v.reason) for v in versions] == [
        (1, desk.writer, "created"),
        (2, desk.moderator, "anglais retiré"),
    ]
    assert versions[0].snapshot["texts"].keys() == {"fr", "en"}
    assert versions[1].snapshot["texts"] == {"fr": "Texte revu."}
    assert versions[1].created_at >= versions[0].created_at
    assert list(EntryText.objects.filter(entry=entry).values_list("language", flat=True)) == ["fr"]
    entry.refresh_from_db()
    assert entry.version == 2


def test_who_may_do_what(desk: Any) -> None:
    # The approver role approves and writes nothing; the viewer only reads.
    with pytest.raises(PermissionDenied):
        services.create_entry(desk.ctx(desk.approver), entry_data())
    with pytest.raises(PermissionDenied):
        services.create_entry(desk.ctx(desk.viewer), entry_data())
    entry = services.create_entry(desk.ctx(desk.moderator), entry_data(), submit=True)
    # Those who answer do not approve.
    with pytest.raises(PermissionDenied):
        services.approve(desk.ctx(desk.writer), entry)
    with pytest.raises(PermissionDenied):
        services.retire(desk.ctx(desk.writer), entry)
    # Importing and sharing are the administrators'.
    with pytest.raises(PermissionDenied):
        services.import_entries(desk.ctx(desk.writer), b"strategy,text_fr\nfacts,x\n", "csv")
    with pytest.raises(PermissionDenied):
        services.publish_library(desk.ctx(desk.approver), "Bibliothèque")
    assert Entry.objects.count() == 1


def test_sending_back_and_retiring(desk: Any) -> None:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(), submit=True)
    with pytest.raises(LibraryError, match="Say what the entry needs"):
        services.send_back(desk.ctx(desk.approver), entry, "  ")
    entry = services.send_back(desk.ctx(desk.approver), entry, "Sources à préciser")
    assert entry.state == State.DRAFT and entry.state_reason == "Sources à préciser"
    with pytest.raises(LibraryError, match="Only a draft"):
        services.submit(desk.ctx(desk.writer), services.submit(desk.ctx(desk.writer), entry))
    entry = services.approve(desk.ctx(desk.approver), entry)
    entry = services.retire(desk.ctx(desk.approver), entry, "Chiffres de 2025")
    assert entry.state == State.RETIRED
    with pytest.raises(LibraryError, match="retired entry does not change"):
        services.update_entry(desk.ctx(desk.writer), entry, entry_data(title="x"))
    assert not Entry.objects.suggestible().exists()
    assert _actions(entry) == [
        "counter_speech.create",
        "counter_speech.submit",
        "counter_speech.send_back",
        "counter_speech.submit",
        "counter_speech.approve",
        "counter_speech.retire",
    ]
    event = AuditEvent.objects.get(action="counter_speech.approve")
    assert event.actor == desk.approver and event.organization == desk.org
    assert event.after["content_hash"] == entry.content_hash


def test_an_entry_out_of_its_dates_is_not_suggested(desk: Any) -> None:
    today = timezone.localdate()
    current = _approved(desk, title="Courant")
    expired = _approved(desk, title="Périmé", valid_until=today - timedelta(days=1))
    future = _approved(desk, title="À venir", valid_from=today + timedelta(days=1))
    last_day = _approved(desk, title="Dernier jour", valid_from=today, valid_until=today)
    draft = services.create_entry(desk.ctx(desk.writer), entry_data(title="Brouillon"))

    suggestible = set(Entry.objects.for_org(desk.org).suggestible())
    assert suggestible == {current, last_day}
    assert set(Entry.objects.suggestible(today + timedelta(days=1))) == {current, future}
    assert set(Entry.objects.suggestible(date(2000, 1, 1))) == {current, expired}
    assert not expired.valid_at() and last_day.valid_at()
    # Its own members still see every entry, whatever its state or dates.
    assert set(services.visible_entries(desk.org)) == {current, expired, future, last_day, draft}


def test_bad_data_is_refused_with_every_problem_by_field(desk: Any) -> None:
    bad = entry_data(
        strategy="insult",
        targets=["martians"],
        texts=[("fr", "Bonjour"), ("FR", "Encore"), ("xx", "?")],
        sources=[SourceData("javascript:alert(1)")],
        valid_from=date(2026, 5, 1),
        valid_until=date(2026, 4, 1),
    )
    with pytest.raises(LibraryError) as refused:
        services.create_entry(desk.ctx(desk.writer), bad)
    fields = {problem.field for problem in refused.value.problems}
    assert fields == {"strategy", "targets", "text_fr", "text_xx", "sources", "valid_until"}
    assert "'insult' is not a strategy" in str(refused.value)
    assert "The language fr is given twice." in str(refused.value)
    assert not Entry.objects.exists()


def test_narratives_and_claims_of_another_organization_are_refused(desk: Any, cell: Any) -> None:
    from beffroi.veille.models import CheckedClaim, Narrative

    ours = CheckedClaim.objects.create(
        organization=desk.org, key="a", statement="L'eau est polluée"
    )
    theirs = CheckedClaim.objects.create(organization=cell.org, key="b", statement="Autre")
    narrative = Narrative.objects.create(organization=cell.org, key="n")
    with pytest.raises(LibraryError) as refused:
        services.create_entry(
            desk.ctx(desk.writer), entry_data(claims=[ours, theirs], narratives=[narrative])
        )
    assert {p.field for p in refused.value.problems} == {"claims", "narratives"}
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(claims=[ours]))
    assert list(ours.counter_speech_entries.all()) == [entry]


def test_another_organizations_entry_is_read_only(desk: Any, cell: Any) -> None:
    theirs = _approved(cell)
    for write in (
        lambda: services.update_entry(desk.ctx(desk.admin), theirs, entry_data(title="x")),
        lambda: services.submit(desk.ctx(desk.admin), theirs),
        lambda: services.approve(desk.ctx(desk.admin), theirs),
        lambda: services.send_back(desk.ctx(desk.admin), theirs, "non"),
        lambda: services.retire(desk.ctx(desk.admin), theirs),
    ):
        with pytest.raises(LibraryError, match="read-only") as refused:
            write()
        assert refused.value.code == "read_only"
    theirs.refresh_from_db()
    assert theirs.state == State.APPROVED and theirs.version == 1
    # Not subscribed: not visible either.
    assert not services.visible_entries(desk.org).filter(pk=theirs.pk).exists()


def test_uses_are_counted_on_the_entry(desk: Any, source: Any) -> None:
    entry = _approved(desk)
    item = _item(desk.org, source)
    services.record_use(entry, desk.org, item=item, user=desk.writer)
    services.record_use(entry, desk.org)
    entry.refresh_from_db()
    assert entry.use_count == 2 and entry.last_used_at is not None
    assert EntryUse.objects.for_org(desk.org).filter(item=item, user=desk.writer).count() == 1


def test_a_use_of_an_unrelated_entry_or_item_is_refused(desk: Any, cell: Any, source: Any) -> None:
    theirs = _approved(cell)
    with pytest.raises(LibraryError, match="not in a library the organization reads"):
        services.record_use(theirs, desk.org)
    item = _item(desk.org, source)
    with pytest.raises(LibraryError, match="not one of the organization's"):
        services.record_use(theirs, cell.org, item=item)
    theirs.refresh_from_db()
    assert theirs.use_count == 0 and not EntryUse.objects.exists()
