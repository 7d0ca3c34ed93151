"""The registry of audit actions: ``record()`` writes only what it lists, and every action
reads as a sentence in French and in English on the audit page."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from beffroi.audit.actions import AuditAction
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor, record


@pytest.mark.django_db
def test_record_refuses_an_action_not_in_the_registry(org: Any) -> None:
    with pytest.raises(ValueError, match=r"source\.wipe"):
        record(Actor.system(), "source.wipe", organization=org)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_record_stores_a_registered_action_by_its_value(org: Any) -> None:
    event = record(Actor.system(), AuditAction.SOURCE_CREATE, organization=org)
    event.refresh_from_db()
    assert event.action == "source.create"
    with translation.override("en"):
        assert event.sentence == "Added a source"


def test_every_action_has_a_french_sentence() -> None:
    with translation.override("en"):
        english = {action: str(action.label) for action in AuditAction}
    with translation.override("fr"):
        french = {action: str(action.label) for action in AuditAction}
    untranslated = sorted(
        action.value for action in AuditAction if french[action] == english[action]
    )
    assert not untranslated, f"No French sentence in locale/fr for: {untranslated}"
