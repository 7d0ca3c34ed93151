"""One maximal comment (4 MiB of text, an import's row limit) cannot take the server down:
judging reads its head and tail with bounded memory and time, the pages say so, the PDF
dossier stays small and quick, and the evidence keeps the full text under its seal."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import pytest
from django.utils import timezone

from beffroi.analysis.moderation import embedding
from beffroi.analysis.text_bound import LIMIT
from beffroi.audit.services import Actor
from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem
from beffroi.connectors.fileimport import DEFAULT_MAX_ROW_BYTES
from beffroi.items.ingest import ingest
from beffroi.items.models import Item
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation import services
from beffroi.moderation.detectors import forget
from beffroi.moderation.dossier import dossier, dossier_pdf
from beffroi.moderation.models import Case, Evidence

#: An invented word the organization's own rule sends to review (see the charter fixture).
DOUBT = "bidulon"
FILLER = "La piscine rouvre lundi a 9 h. "  # ASCII: one byte per character


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter import services as charter_services

    actor = Actor.system("test")
    charter_services.ensure_default_charter(org)
    draft = charter_services.create_draft(actor, org)
    charter_services.save_rule(
        actor, draft, category="insult", language="fr", kind="keyword", pattern=DOUBT, weight=0.7
    )
    forget()
    return charter_services.publish(actor, draft)


def _comment(source: Any, platform_id: str, text: str) -> Item:
    author = NormalizedAuthor(platform_id="u1", handle="citoyen")
    item = NormalizedItem(
        platform_id=platform_id,
        kind=ItemKind.COMMENT,
        author=author,
        text=text,
        created_at=timezone.now(),
        language="fr",
    )
    ingest(source, [item])
    return Item.objects.select_related("source", "author").get(
        source=source, platform_id=platform_id
    )


def _maximal_text() -> str:
    """4 MiB of text whose only doubtful word is in its last characters."""
    ending = f" Quel {DOUBT} ce conseil."
    size = DEFAULT_MAX_ROW_BYTES - len(ending)
    return (FILLER * (size // len(FILLER) + 1))[:size] + ending


@pytest.fixture
def encoder_inputs(monkeypatch: Any) -> list[int]:
    """Lengths of the texts the sentence encoder is given; one beyond the bound is refused
    before the encoder allocates gigabytes for it."""
    seen: list[int] = []
    real = embedding._encoder()

    class Guarded:
        def encode(self, texts: Sequence[str]) -> Any:
            seen.extend(len(text) for text in texts)
            too_long = [len(text) for text in texts if len(text) > LIMIT]
            assert not too_long, f"the encoder was given {too_long} characters"
            return real.encode(texts)

    monkeypatch.setattr(embedding, "_encoder", Guarded)
    return seen


@pytest.mark.django_db
def test_judging_a_maximal_item_is_bounded_in_memory_and_time(
    org: Any, source: Any, charter: Any, encoder_inputs: list[int]
) -> None:
    services.moderate_items([_comment(source, "warm-up", "Merci pour les travaux")])  # loads models
    text = _maximal_text()
    assert len(text.encode("utf-8")) == DEFAULT_MAX_ROW_BYTES
    item = _comment(source, "maximal", text)

    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = services.moderate_items([item])
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Read whole, the encoder alone would need about 13 GB and minutes for this text.
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    assert elapsed < 20, f"{elapsed:.1f} s"
    assert max(encoder_inputs) == LIMIT
    # The tail was read: the doubtful word in the last characters sent the item to review.
    assert outcome.queued == 1
    item.refresh_from_db()
    assert item.state == Item.State.IN_REVIEW and item.analysis["category"] == "insult"
    assert item.text == text  # the stored text is untouched


@pytest.mark.django_db
def test_pages_say_only_head_and_tail_were_analysed_and_evidence_keeps_everything(
    org: Any, source: Any, charter: Any, make_user: Any, verified_client: Any
) -> None:
    text = _maximal_text()
    item = _comment(source, "maximal", text)
    services.moderate_items([item])
    case = Case.objects.get(item=item)
    moderator = make_user("alice", org=org, role="moderator")
    client = verified_client(moderator)
    note = "only its first 8,000 and last 2,000 characters were analysed"
    for page in (f"/o/{org.slug}/items/{item.pk}/", f"/o/{org.slug}/moderation/cases/{case.pk}/"):
        response = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert note in response.content.decode(), page
    short = _comment(source, "short", "Merci pour les travaux")
    page = client.get(f"/o/{org.slug}/items/{short.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "data-analysed-part" not in page.content.decode()
    # The API says it too, beside the whole text.
    from beffroi.accounts.models import ApiToken

    _, key = ApiToken.issue(moderator, "test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    body = client.get(f"/api/v1/orgs/{org.slug}/items/{item.pk}", **auth).json()
    assert body["analysed_part"] == {"head": 8000, "tail": 2000, "length": len(text)}
    assert body["text"] == text
    body = client.get(f"/api/v1/orgs/{org.slug}/items/{short.pk}", **auth).json()
    assert body["analysed_part"] is None

    services.decide(Actor(moderator, "ui"), item, "hide")
    preserved = Evidence.objects.get(item=item)
    assert preserved.bundle["item"]["text"] == text
    assert evidence_store.verify(preserved)
    assert dossier(item)["item"]["item"]["text"] == text


@pytest.mark.django_db
def test_the_pdf_dossier_of_a_maximal_item_is_small_and_quick(org: Any, source: Any) -> None:
    item = _comment(source, "maximal", _maximal_text())
    evidence_store.preserve(item)
    started = time.perf_counter()
    pdf = dossier_pdf(item)
    elapsed = time.perf_counter() - started
    assert pdf.startswith(b"%PDF")
    # Printed whole, the text took about 9 minutes and hundreds of pages.
    assert len(pdf) < 300_000, f"{len(pdf)} bytes"
    assert elapsed < 10, f"{elapsed:.1f} s"
