"""The evidence dossier's PDF serves a complaint (issue 14): in the organization's language,
dated in local time with UTC beside, emoji and Arabic printed with the fonts Beffroi ships, the
post drawn as it appeared with its thread, and what the platform did said as what happened."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import translation
from pypdf import PdfReader

from beffroi.items.models import Author, Item
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation.dossier import dossier_pdf, local_time
from beffroi.moderation.models import Decision
from beffroi.sources.models import Source

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 7, 14, 20, 5, tzinfo=UTC)  # 22:05 in Paris (summer time)


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def threat(org: Any) -> Item:
    source = Source.objects.create(organization=org, name="Page", platform="facebook")
    mayor = Author.objects.create(
        organization=org,
        platform="facebook",
        platform_id="1",
        handle="mairie",
        display_name="Mairie",
    )
    author = Author.objects.create(
        organization=org,
        platform="facebook",
        platform_id="2",
        handle="corbeau42",
        display_name="Le Corbeau",
        url="https://facebook.com/corbeau42",
    )
    root = Item.objects.create(
        organization=org,
        source=source,
        platform="facebook",
        platform_id="p1",
        thread_id="p1",
        kind="post",
        author=mayor,
        text="Feu d'artifice ce soir au port.",
        created_at=datetime(2026, 7, 14, 18, 0, tzinfo=UTC),
    )
    return Item.objects.create(
        organization=org,
        source=source,
        platform="facebook",
        platform_id="p1_c1",
        thread_id="p1",
        parent=root,
        parent_platform_id="p1",
        kind="comment",
        author=author,
        text="Je sais où tu gares ta voiture 😡🔪 — سوف تدفع الثمن",
        created_at=PUBLISHED,
        url="https://facebook.com/p1?comment_id=c1",
    )


def refused_hide(item: Item) -> Decision:
    preserved = evidence_store.preserve(item)
    return Decision.objects.create(
        organization=item.organization,
        item=item,
        action=Decision.Action.HIDE,
        category="threat",
        evidence=preserved,
        platform_status=Decision.PlatformStatus.FAILED,
        platform_result={"detail": "(#10) Permission denied: pages_manage_engagement missing"},
    )


def test_in_french_dated_in_paris_with_emoji_and_the_post_as_it_appeared(threat: Item) -> None:
    threat.organization.language = "fr"
    threat.organization.save()
    decision = refused_hide(threat)
    text = pdf_text(dossier_pdf(threat))
    assert "Dossier de preuves — Ville de Test" in text
    assert "La publication telle qu’elle apparaissait" in text
    # Who, what, where, when: as it appeared, with the post it answered above it.
    assert "Le Corbeau" in text and "@corbeau42" in text
    assert "Je sais où tu gares ta voiture" in text
    assert "😡" in text and "🔪" in text  # the emoji font Beffroi ships
    assert "Feu d'artifice ce soir au port." in text
    assert "https://facebook.com/p1?comment_id=c1" in text
    assert "22:05" in text and "(2026-07-14 20:05 UTC)" in text
    # What the platform did, said as what happened, with its reason.
    assert "Refusé par Facebook" in text and "pages_manage_engagement" in text
    assert decision.evidence is not None and decision.evidence.sha256 in text.replace("\n", "")


def test_in_english_for_an_english_organization(threat: Item) -> None:
    threat.organization.language = "en"
    threat.organization.save()
    refused_hide(threat)
    text = pdf_text(dossier_pdf(threat))
    assert "Evidence dossier — Ville de Test" in text
    assert "The post as it appeared" in text
    assert "Refused by Facebook" in text


def test_local_time_keeps_utc_beside_it() -> None:
    with translation.override("fr"):
        assert local_time("2026-01-10T08:30:00+00:00") == (
            "10 janvier 2026 09:30 CET (2026-01-10 08:30 UTC)"  # Paris in winter
        )
    with translation.override("en"):
        assert local_time("2026-07-10T08:30:00+00:00").endswith("CEST (2026-07-10 08:30 UTC)")
    assert local_time(None) == "—"
