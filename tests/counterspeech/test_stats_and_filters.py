"""``beffroi stats`` counts the library by state; the library list's filters."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from django.test import RequestFactory
from django.utils import timezone

from beffroi.cli import main
from beffroi.counterspeech import services
from beffroi.counterspeech.filtersets import EntryFilter
from beffroi.counterspeech.models import Entry
from tests.counterspeech.conftest import entry_data

pytestmark = pytest.mark.django_db


def test_stats_count_the_librarys_entries_by_state(desk: Any, cell: Any) -> None:
    services.create_entry(desk.ctx(desk.writer), entry_data())
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(), submit=True)
    services.approve(desk.ctx(desk.approver), entry)
    services.create_entry(cell.ctx(cell.writer), entry_data())  # another organization's
    result = CliRunner().invoke(main, ["stats", "--org", desk.org.slug, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counter_speech_entries"] == {
        "draft": 1,
        "in_review": 0,
        "approved": 1,
        "retired": 0,
    }


def _filtered(desk: Any, **query: str) -> set[str]:
    request = RequestFactory().get("/", query)
    request.organization = desk.org  # type: ignore[attr-defined]
    found = EntryFilter(query, queryset=services.visible_entries(desk.org), request=request).qs
    return set(found.values_list("title", flat=True))


def test_the_list_filters_by_group_topic_language_library_and_dates(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    shared = services.create_entry(
        cell.ctx(cell.writer),
        entry_data(title="Partagée", targets=["jews"], topics=["Mémoire"]),
        submit=True,
    )
    services.approve(cell.ctx(cell.approver), shared)
    services.create_entry(
        desk.ctx(desk.writer),
        entry_data(title="Femmes", targets=["women", "migrants"], texts=[("ar", "نص")]),
    )
    services.create_entry(
        desk.ctx(desk.writer),
        entry_data(
            title="Périmée", targets=[], valid_until=timezone.localdate() - timedelta(days=2)
        ),
    )
    assert _filtered(desk, target="women") == {"Femmes"}
    assert _filtered(desk, target="migrants") == {"Femmes"}
    assert _filtered(desk, target="jews") == {"Partagée"}
    assert _filtered(desk, topic="mémoire") == {"Partagée"}
    assert _filtered(desk, language="ar") == {"Femmes"}
    assert _filtered(desk, library="shared") == {"Partagée"}
    assert _filtered(desk, library="own") == {"Femmes", "Périmée"}
    assert _filtered(desk, valid_now="true") == {"Partagée", "Femmes"}
    assert _filtered(desk, state="approved") == {"Partagée"}
    assert _filtered(desk, q="robinet") == {"Partagée", "Périmée"}
    assert Entry.objects.count() == 3
