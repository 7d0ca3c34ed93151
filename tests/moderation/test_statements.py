"""DSA statements of reasons built from decisions validate against the Transparency
Database's field names and allowed values; an export checks each one, leaves out those the
database would refuse, says which and why, and is written to the audit trail."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.charter.dsa import validate_statement
from beffroi.items.models import Author, Item
from beffroi.moderation.models import Decision
from beffroi.moderation.statements import (
    CSV_FIELDS,
    csv_row,
    export_statements,
    statement,
    statements,
)

HATE = {
    "slug": "hate",
    "name": "Hate speech",
    "clause": "Comments inciting hatred against a group are removed.",
    "legal_reference": "Loi du 29 juillet 1881, art. 24",
    "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "dsa_specifications": ["KEYWORD_HATE_SPEECH"],
}
OFF_TOPIC = {
    "slug": "off_topic",
    "name": "Off-topic",
    "clause": "Comments unrelated to the post may be hidden.",
    "legal_reference": "",
    "dsa_category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "dsa_specifications": [],
}


def _item(org: Any, source: Any, n: int, language: str = "fr") -> Item:
    author, _ = Author.objects.get_or_create(
        organization=org, platform="file", platform_id="a1", defaults={"handle": "a1"}
    )
    return Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id=str(n),
        kind="comment",
        author=author,
        text=f"comment {n}",
        language=language,
        created_at=timezone.now(),
    )


@pytest.mark.django_db
def test_statements_validate_for_illegal_and_incompatible_grounds(
    org: Any, source: Any, make_user: Any
) -> None:
    agent = make_user("agent", org=org, role="moderator")
    automated = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 1),
        action="hide",
        category="hate",
        automated=True,
        detectors={"rules": "abc", "classifier": "def"},
        charter_snapshot=HATE,
    )
    confirmed = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 2, language=""),
        action="delete",
        category="hate",
        automated=False,
        actor=agent,
        confirmed_by=agent,
        detectors={"rules": "abc"},
        charter_snapshot=HATE,
        note="Appel à la haine",
    )
    by_hand = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 3),
        action="hide",
        category="off_topic",
        actor=agent,
        charter_snapshot=OFF_TOPIC,
    )
    bodies = {body["puid"]: body for body in statements(org)}
    assert len(bodies) == 3
    for body in bodies.values():
        assert validate_statement(body) == [], body
    first = statement(automated)
    assert first["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert first["illegal_content_legal_ground"] == HATE["legal_reference"]
    assert first["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert first["automated_detection"] == "Yes"
    assert first["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert first["content_language"] == "FR"
    second = statement(confirmed)
    assert second["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert second["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert "content_language" not in second
    third = statement(by_hand)
    assert third["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert third["automated_detection"] == "No"
    assert third["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"


@pytest.mark.django_db
def test_keep_and_proposals_are_not_statements(org: Any, source: Any) -> None:
    Decision.objects.create(organization=org, item=_item(org, source, 1), action="keep")
    Decision.objects.create(
        organization=org, item=_item(org, source, 2), action="hide", status="shadow"
    )
    Decision.objects.create(
        organization=org, item=_item(org, source, 3), action="queue", status="proposed"
    )
    assert list(statements(org)) == []


@pytest.mark.django_db
def test_validator_catches_a_broken_statement(org: Any, source: Any) -> None:
    decision = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 1),
        action="hide",
        charter_snapshot=HATE,
    )
    body = statement(decision)
    body["category"] = "STATEMENT_CATEGORY_NOT_A_CATEGORY"
    del body["illegal_content_explanation"]
    problems = validate_statement(body)
    assert any("category" in problem for problem in problems)
    assert any("illegal_content_explanation" in problem for problem in problems)


#: A charter category mapped to a value the Transparency Database does not know (an old
#: version 1 category): its statements would be refused.
UNKNOWN_CATEGORY = {**HATE, "dsa_category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}


def invalid_decisions(org: Any, source: Any) -> tuple[Decision, Decision, Decision]:
    """A valid restriction, one whose category the database does not know, and one about a
    comment dated before 2000 (a bad date in an imported file)."""
    valid = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 1),
        action="hide",
        charter_snapshot=HATE,
    )
    unknown = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 2),
        action="delete",
        charter_snapshot=UNKNOWN_CATEGORY,
    )
    old_item = _item(org, source, 3)
    Item.objects.filter(pk=old_item.pk).update(created_at=datetime(1999, 6, 1, tzinfo=UTC))
    too_old = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=old_item,
        action="hide",
        charter_snapshot=OFF_TOPIC,
    )
    return valid, unknown, too_old


@pytest.mark.django_db
def test_an_export_leaves_out_invalid_statements_and_says_why(org: Any, source: Any) -> None:
    valid, unknown, too_old = invalid_decisions(org, source)
    export = export_statements(Actor.system("test"), org, "json")
    assert export.count == 1
    bodies = list(export.bodies())
    assert [body["puid"] for body in bodies] == [statement(valid)["puid"]]
    assert all(validate_statement(body) == [] for body in bodies)
    left_out = {entry.decision_id: entry for entry in export.left_out}
    assert set(left_out) == {unknown.pk, too_old.pk}
    assert left_out[unknown.pk].puid == statement(unknown)["puid"]
    assert any(
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE" in problem
        for problem in left_out[unknown.pk].problems
    )
    assert any("content_date" in problem for problem in left_out[too_old.pk].problems)
    assert left_out[unknown.pk].as_dict()["decision"] == unknown.pk
    event = AuditEvent.objects.get(action="moderation.statements.exported")
    assert event.organization == org and event.after is not None
    assert event.after["format"] == "json" and event.after["statements"] == 1
    assert event.after["left_out"] == 2
    assert sorted(event.after["left_out_decisions"]) == sorted([unknown.pk, too_old.pk])


@pytest.mark.django_db
def test_an_export_between_dates_is_audited_with_them(org: Any, source: Any) -> None:
    Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 1),
        action="hide",
        charter_snapshot=HATE,
    )
    # The dates are the organization's days (the current time zone), as the filter reads them.
    today = timezone.localdate()
    export = export_statements(Actor.system("test"), org, "csv", date_from=today, date_to=today)
    assert export.count == 1 and export.left_out == []
    after = AuditEvent.objects.get(action="moderation.statements.exported").after
    assert after == {
        "format": "csv",
        "date_from": today.isoformat(),
        "date_to": today.isoformat(),
        "statements": 1,
        "left_out": 0,
        "not_in_effect": 0,
        "left_out_decisions": [],
    }


@pytest.mark.django_db
def test_only_restrictions_that_took_effect_are_statements(org: Any, source: Any) -> None:
    """A hide the platform refused, still waits for, or cannot do restricted nothing: no
    statement of reasons is issued for it, and the export counts it apart."""
    made = {
        status: Decision.objects.create(
            organization=org,
            item=_item(org, source, n),
            action="hide",
            charter_snapshot=HATE,
            platform_status=status,
        )
        for n, status in enumerate(["done", "failed", "pending", "unsupported"], start=1)
    }
    simulated = Decision.objects.create(
        organization=org,
        item=_item(org, source, 9),
        action="delete",
        charter_snapshot=HATE,
        platform_status="done",
        platform_result={"simulated": True},
    )
    puids = [body["puid"] for body in statements(org)]
    assert puids == [statement(made["done"])["puid"], statement(simulated)["puid"]]
    # A demo source's simulated action says so in its facts.
    assert "Simulated on a demo source" in statement(simulated)["decision_facts"]
    assert "Simulated" not in statement(made["done"])["decision_facts"]
    export = export_statements(Actor.system("test"), org, "json")
    assert export.count == 2 and export.not_in_effect == 3
    after = AuditEvent.objects.get(action="moderation.statements.exported").after
    assert after["statements"] == 2 and after["not_in_effect"] == 3


@pytest.mark.django_db
def test_csv_rows_follow_the_header(org: Any, source: Any) -> None:
    decision = Decision.objects.create(
        organization=org,
        platform_status="done",
        item=_item(org, source, 1),
        action="hide",
        charter_snapshot=HATE,
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    writer.writerow(csv_row(statement(decision)))
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert rows[0]["category_specification"] == "KEYWORD_HATE_SPEECH"
    assert rows[0]["decision_visibility"] == "DECISION_VISIBILITY_CONTENT_DISABLED"
