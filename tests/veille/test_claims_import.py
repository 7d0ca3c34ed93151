"""A fact-checker's page imported into the library: what is stored, and what the person who
uploaded it is told about the records skipped, left out or shortened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beffroi.analysis.claims.library import CheckedClaim as ImportedClaim
from beffroi.veille import claims
from beffroi.veille.models import CheckedClaim

pytestmark = pytest.mark.django_db

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "claimreview"


@pytest.fixture
def analyst(make_user: Callable[..., Any], verified_client: Callable[[Any], Any], org: Any) -> Any:
    return verified_client(make_user("sophie", org=org, role="admin"))


def test_a_long_verdict_is_cut_after_a_word_and_said(org: Any) -> None:
    verdict = "Trompeur. " + "La photo date de 2019 et montre une autre ville " * 4
    done = claims.add_claims(org, [ImportedClaim("Le pont va fermer", verdict, claimant="Un élu")])
    claim = CheckedClaim.objects.get()
    assert claim.claimant == "Un élu"
    assert len(claim.verdict) <= 120 and claim.verdict.endswith("…")
    assert verdict.startswith(claim.verdict[:-1]) and verdict[len(claim.verdict) - 1] == " "
    assert done.notes == [
        f"the verdict of 'Le pont va fermer' was longer than 120 characters; stored as "
        f"{claim.verdict!r}"
    ]
    assert claims.add_claims(org, [ImportedClaim("Le pont va fermer", verdict)]).notes == []


def test_a_real_page_is_imported_and_its_skipped_records_are_shown(org: Any, analyst: Any) -> None:
    content = (PAGE / "decodeurs_video_page.html").read_bytes()
    response = analyst.post(
        reverse("veille:claims_import", kwargs={"org_slug": org.slug}),
        {"file": SimpleUploadedFile("page.html", content)},
    )
    assert response.status_code == 302
    claim = CheckedClaim.objects.get()
    assert claim.source == "Vérif'Actu" and claim.claimant == 'Compte "InfoLibre"'
    assert claim.url == "https://verif.example.fr/2024/03/12/video-manifestation-paris/"
    assert claim.language == "fr-FR" and claim.verdict.endswith("…")
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    [warning] = [message for message in shown if "JSON-LD script 4" in message]
    assert (
        "ClaimReview 2 (https://verif.example.fr/2024/03/12/video-manifestation-paris/#second)"
        ": skipped, its claim is empty" in warning
    )
    assert "the verdict of" in warning
