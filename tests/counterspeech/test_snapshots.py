"""The sources' snapshots: each page's body hashed by a background job through the egress
guard, a page changed since the approval recorded (and said once in the audit trail), a
page that cannot be read kept in words, an internal address never contacted."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from beffroi import egress
from beffroi.audit.models import AuditEvent
from beffroi.counterspeech import services
from beffroi.counterspeech.models import Entry, EntrySource, SourceSnapshot
from beffroi.counterspeech.validation import SourceData
from beffroi.jobs.engine import run_pending
from beffroi.jobs.models import Job
from tests.counterspeech.conftest import entry_data
from tests.counterspeech.fake_pages import PagesServer

pytestmark = pytest.mark.django_db

PAGE = b"<html><body><p>Eau potable : 100 % des analyses conformes en 2026.</p></body></html>"
CHANGED = b"<html><body><p>Eau potable : 97 % des analyses conformes en 2026.</p></body></html>"


@pytest.fixture
def site() -> Iterator[PagesServer]:
    with PagesServer() as server:
        server.pages["/qualite-eau"] = PAGE
        yield server


def _entry(desk: Any, *urls: str, submit: bool = True) -> Entry:
    return services.create_entry(
        desk.ctx(desk.writer),
        entry_data(sources=[SourceData(url, "Qualité de l'eau") for url in urls]),
        submit=submit,
    )


def _source(entry: Entry) -> EntrySource:
    return EntrySource.objects.get(entry=entry)


def test_the_job_keeps_the_hash_and_date_of_the_page(desk: Any, site: PagesServer) -> None:
    entry = _entry(desk, site.url("/qualite-eau"))
    job = Job.objects.get(name="counterspeech.snapshot_source")
    assert job.organization == desk.org
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result == {"outcome": "new"}
    source = _source(entry)
    assert source.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert source.fetched_at is not None and source.last_error == ""
    assert [s.size_bytes for s in SourceSnapshot.objects.filter(source=source)] == [len(PAGE)]
    assert site.requests[0].header("User-Agent").startswith("Beffroi")


def test_a_page_changed_since_the_approval_is_recorded_once(desk: Any, site: PagesServer) -> None:
    entry = _entry(desk, site.url("/qualite-eau"))
    source = _source(entry)
    assert services.take_snapshot(source.pk) == "new"
    entry = services.approve(desk.ctx(desk.approver), entry)
    source.refresh_from_db()
    assert source.reference_sha256 == hashlib.sha256(PAGE).hexdigest() and not source.changed
    assert services.take_snapshot(source.pk) == "same"

    site.pages["/qualite-eau"] = CHANGED
    assert services.take_snapshot(source.pk) == "changed"
    source.refresh_from_db()
    assert source.changed and source.changed_at is not None
    assert source.sha256 == hashlib.sha256(CHANGED).hexdigest()
    assert source.reference_sha256 == hashlib.sha256(PAGE).hexdigest()
    assert SourceSnapshot.objects.filter(source=source).count() == 2
    assert services.take_snapshot(source.pk) == "changed"  # still changed: said once
    events = AuditEvent.objects.filter(action="counter_speech.source_changed")
    assert events.count() == 1
    assert events.get().after["source"] == site.url("/qualite-eau")
    assert events.get().organization == desk.org and events.get().channel == "system"
    # The entry itself stays approved: a person decides what the change means.
    entry.refresh_from_db()
    assert entry.state == Entry.State.APPROVED

    # A new approval takes the page as it is now.
    site.pages["/qualite-eau"] = PAGE
    assert services.take_snapshot(source.pk) == "new"
    source.refresh_from_db()
    assert not source.changed and source.changed_at is None


def test_an_entry_approved_before_its_first_reading_rests_on_that_reading(
    desk: Any, site: PagesServer
) -> None:
    entry = services.approve(desk.ctx(desk.approver), _entry(desk, site.url("/qualite-eau")))
    source = _source(entry)
    assert source.reference_sha256 == ""
    assert services.take_snapshot(source.pk) == "new"
    source.refresh_from_db()
    assert source.reference_sha256 == source.sha256 != "" and not source.changed


def test_a_page_that_cannot_be_read_is_kept_in_words(desk: Any, site: PagesServer) -> None:
    entry = _entry(desk, site.url("/qualite-eau"), site.url("/disparue"))
    present, missing = EntrySource.objects.filter(entry=entry).order_by("position")
    assert services.take_snapshot(missing.pk) == "failed"
    missing.refresh_from_db()
    assert missing.last_error == "The page could not be read: its server answered 404."
    assert missing.sha256 == "" and missing.last_attempt_at is not None

    assert services.take_snapshot(present.pk) == "new"
    site.stop()  # the site is down: nothing answers
    assert services.take_snapshot(present.pk) == "failed"
    present.refresh_from_db()
    assert present.last_error == f"The page {egress.UNREACHABLE}."
    # The last good snapshot is kept.
    assert present.sha256 == hashlib.sha256(PAGE).hexdigest()


def test_a_moved_page_is_followed(desk: Any, site: PagesServer) -> None:
    site.moved["/ancienne"] = site.url("/qualite-eau")
    entry = _entry(desk, site.url("/ancienne"))
    assert services.take_snapshot(_source(entry).pk) == "new"
    assert _source(entry).sha256 == hashlib.sha256(PAGE).hexdigest()


def test_an_internal_address_is_never_contacted(
    desk: Any, site: PagesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written while the operator allowed the loopback, read after it stopped allowing it.
    entry = _entry(desk, site.url("/qualite-eau"))
    monkeypatch.delenv(egress.ENV_VARIABLE)
    assert services.take_snapshot(_source(entry).pk) == "failed"
    assert _source(entry).last_error == f"The page {egress.UNREACHABLE}."
    assert site.requests == []


def test_a_public_page_redirecting_inside_is_stopped(
    desk: Any, site: PagesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "localhost" stands for a public name here: allowed by name, its redirect to 127.0.0.1
    # (not allowed) is refused at the hop.
    monkeypatch.setenv(egress.ENV_VARIABLE, "localhost")
    port = site.base_url.rsplit(":", 1)[1]
    site.moved["/piege"] = site.url("/qualite-eau")
    entry = _entry(desk, f"http://localhost:{port}/piege")
    if socket.getaddrinfo("localhost", None)[0][4][0] != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    assert services.take_snapshot(_source(entry).pk) == "failed"
    assert _source(entry).last_error == f"The page {egress.UNREACHABLE}."
    assert [request.path for request in site.requests] == ["/piege"]


def test_sources_of_approved_entries_are_read_again_when_due(desk: Any, site: PagesServer) -> None:
    from datetime import timedelta

    from django.utils import timezone

    approved = services.approve(desk.ctx(desk.approver), _entry(desk, site.url("/qualite-eau")))
    _entry(desk, site.url("/brouillon"), submit=False)
    run_pending()
    Job.objects.all().delete()
    assert services.snapshots_due() == 0  # just read
    later = timezone.now() + timedelta(days=8)
    assert services.snapshots_due(now=later) == 1
    [job] = Job.objects.all()
    assert job.payload == {"source_id": _source(approved).pk}
