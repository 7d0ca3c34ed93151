"""The moderation pages: queue, case (claim, decide, next, undo), bulk actions, appeals,
evidence dossiers, DSA exports, the decisions log, the classifier page and the item panel.

Pages are read in English (the clients send ``Accept-Language: en``) so that the assertions
hold whatever the French translation says.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.items.models import Author, Item
from beffroi.jobs.engine import run_pending
from beffroi.jobs.models import Job
from beffroi.moderation import services
from beffroi.moderation.models import Appeal, Case, ClassifierVersion, Decision, Evidence
from beffroi.moderation.statements import CSV_FIELDS

pytestmark = pytest.mark.django_db

SLUG = "ville-test"
QUEUE = f"/o/{SLUG}/moderation/queue/"


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter.services import ensure_default_charter

    return ensure_default_charter(org)


@pytest.fixture
def demo_source(org: Any) -> Any:
    """A demo town's source: no account, its platform actions are simulated."""
    from beffroi.sources.models import DEMO_SETTING, Source

    return Source.objects.create(
        organization=org, name="Demo", platform="facebook", settings={DEMO_SETTING: True}
    )


def login(user: Any) -> Client:
    """An English-speaking client past the password and the second factor."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def people(org: Any, make_user: Any) -> dict[str, Client]:
    return {
        name: login(make_user(name, org=org, role=role))
        for name, role in (
            ("alice", "moderator"),
            ("bruno", "moderator"),
            ("chef", "admin"),
            ("vera", "viewer"),
        )
    }


def make_case(
    org: Any,
    source: Any,
    n: int,
    *,
    category: str = "insult",
    text: str = "un commentaire",
    severity: int = 2,
    priority: int = 0,
    handle: str = "auteur",
    kind: str = "review",
    **item_fields: Any,
) -> Case:
    """An item the detectors found doubtful: its proposal and its review case."""
    author, _ = Author.objects.get_or_create(
        organization=org, platform="file", platform_id=handle, defaults={"handle": handle}
    )
    item = Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id=f"c{n}",
        kind="comment",
        author=author,
        text=text,
        language="fr",
        created_at=timezone.now() - timedelta(minutes=60 - n),
        state=Item.State.IN_REVIEW,
        analysis={
            "verdict": "review",
            "category": category,
            "score": 0.71,
            "scores": {category: {"rules": 0.71, "classifier": 0.64}, "spam": {"classifier": 0.1}},
            "explanation": [f"rules: keyword '{text.split()[0]}'"],
            "detectors": {"rules": "r1", "classifier": "c1"},
        },
        **item_fields,
    )
    proposal = Decision.objects.create(
        organization=org,
        item=item,
        action="queue",
        status="proposed",
        automated=True,
        category=category,
        score=0.71,
        scores=item.analysis["scores"],
        explanation=item.analysis["explanation"],
        detectors=item.analysis["detectors"],
    )
    return Case.objects.create(
        organization=org,
        item=item,
        decision=proposal,
        category=category,
        severity=severity,
        priority=priority,
        score=0.71,
        kind=kind,
    )


def case_url(case: Case, suffix: str = "") -> str:
    return f"/o/{SLUG}/moderation/cases/{case.pk}/{suffix}"


def page_messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the queue --------------------------------------------------------------------------------


def test_queue_lists_open_cases_and_blurs_hateful_ones(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    hateful = make_case(org, source, 1, category="hate", text="Texte haineux ici", severity=4)
    plain = make_case(org, source, 2, category="spam", text="Achetez des montres", severity=1)
    closed = make_case(org, source, 3, text="Déjà traité")
    Case.objects.filter(pk=closed.pk).update(state="closed")
    response = people["alice"].get(QUEUE)
    assert response.status_code == 200
    cases = [row["case"].pk for row in response.context["rows"]]
    assert cases == [hateful.pk, plain.pk]  # higher severity first; closed cases left out
    html = response.content.decode()
    # The hateful text is in the page, blurred and hidden from screen readers until revealed.
    assert (
        f'id="case-text-{hateful.pk}" class="queue-text sensitive-text" aria-hidden="true"' in html
    )
    assert f'aria-controls="case-text-{hateful.pk}"' in html and 'aria-expanded="false"' in html
    assert "Texte haineux ici" in html
    assert f'id="case-text-{plain.pk}"' not in html and "Achetez des montres" in html
    assert "moderation.css" in html and "queue.js" in html


def test_queue_filters_and_htmx_fragment(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    from beffroi.sources.models import Source

    other = Source.objects.create(organization=org, name="Autre", platform="file", kind="import")
    insult = make_case(org, source, 1, category="insult", severity=2)
    threat = make_case(org, source, 2, category="threat", severity=4)
    spam = make_case(org, other, 3, category="spam", severity=1, kind="escalation")
    client = people["alice"]

    def shown(**params: Any) -> set[int]:
        return {row["case"].pk for row in client.get(QUEUE, params).context["rows"]}

    assert shown(category="threat") == {threat.pk}
    assert shown(severity=2) == {insult.pk, threat.pk}
    assert shown(source=other.pk) == {spam.pk}
    assert shown(kind="escalation") == {spam.pk}
    assert shown(sort="oldest") == {insult.pk, threat.pk, spam.pk}
    rows = client.get(QUEUE, {"sort": "oldest"}).context["rows"]
    assert [row["case"].pk for row in rows] == [insult.pk, threat.pk, spam.pk]
    Case.objects.filter(pk=insult.pk).update(
        state="assigned", assignee=people["bruno"].user, assigned_at=timezone.now()
    )
    assert shown(assignee="nobody") == {threat.pk, spam.pk}
    assert shown(assignee="others") == {insult.pk}
    fragment = client.get(QUEUE, {"category": "threat"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content and b'hx-swap-oob="innerHTML"' in fragment.content
    assert fragment["Vary"].count("HX-Request") == 1


def test_the_queue_is_for_moderators(people: dict[str, Client], charter: Any) -> None:
    assert people["vera"].get(QUEUE).status_code == 403
    assert people["alice"].get(QUEUE).status_code == 200
    # The menu shows the queue and its count to moderators only.
    assert b"/moderation/queue/" not in people["vera"].get(f"/o/{SLUG}/inbox/").content


def test_menu_counts_open_cases(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    make_case(org, source, 1)
    make_case(org, source, 2)
    html = people["alice"].get(f"/o/{SLUG}/inbox/").content.decode()
    assert '<span class="nav-count">2<span class="visually-hidden"> open cases' in html


# --- a case -----------------------------------------------------------------------------------


def test_opening_a_case_takes_nothing_and_shows_why(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1, category="insult", text="Espèce de malotru")
    response = people["alice"].get(case_url(case))
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == "open" and case.assignee is None  # looking is not taking
    assert response.context["can_take"] and response.context["can_act"]
    why = response.context["why"]
    assert why["category"] == "insult" and why["clause"]  # the charter's clause is cited
    assert [(r.detector, r.percent) for r in why["detector_scores"]][:2] == [
        ("rules", 71),
        ("classifier", 64),
    ]
    html = response.content.decode()
    assert "keyword &#x27;Espèce&#x27;" in html  # what triggered it
    for key in ("h", "a", "x", "e", "j", "r", "t"):
        assert f'data-key="{key}"' in html, key
    assert 'data-confirm="Delete this item' in html


def test_a_case_held_by_someone_else_is_not_offered(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1)
    other = make_case(org, source, 2)
    people["alice"].post(case_url(case, "take/"))
    response = people["bruno"].get(case_url(case))
    assert response.context["held_by"] == people["alice"].user
    assert not response.context["can_act"]
    html = response.content.decode()
    assert "alice has been working on this case" in html and 'id="decide-form"' not in html
    assert "take-over/" not in html  # a moderator cannot take it over
    assert "Take the next case" in html
    # Deciding anyway is refused with a message, and nothing is decided.
    response = people["bruno"].post(case_url(case, "decide/"), {"action": "hide"}, follow=True)
    assert (
        "alice has taken this case; it is free again after 30 minutes without activity of theirs."
        in page_messages(response)
    )
    assert not Decision.objects.filter(item=case.item, action="hide").exists()
    # "Take the next case" gives Bruno the other one.
    response = people["bruno"].post(f"/o/{SLUG}/moderation/queue/next/")
    assert response["Location"] == case_url(other)


def test_hide_goes_to_the_next_case_and_undo_restores(
    org: Any, demo_source: Any, charter: Any, people: dict[str, Client]
) -> None:
    source = demo_source
    first = make_case(org, source, 1, priority=3, text="Premier commentaire")
    second = make_case(org, source, 2, text="Deuxième commentaire")
    alice = people["alice"]
    alice.get(case_url(first))
    response = alice.post(case_url(first, "decide/"), {"action": "hide", "note": "Insulte"})
    assert response.status_code == 302 and response["Location"] == case_url(second)
    item = first.item
    item.refresh_from_db()
    decision = Decision.objects.get(item=item, action="hide")
    # Decided, requested, not yet done: the item stays visible until the platform answers.
    assert item.visibility == "visible" and decision.status == "applied"
    assert decision.platform_effect == "pending"
    assert decision.actor == alice.user and decision.note == "Insulte"
    assert decision.evidence is not None and len(decision.evidence.sha256) == 64
    second.refresh_from_db()
    assert second.assignee == alice.user and second.state == "assigned"
    # The next page says what was done (for screen readers too) and offers the undo.
    page = alice.get(response["Location"])
    html = page.content.decode()
    assert 'data-announce="Hiding requested from the platform. Next case."' in html
    # The demo source simulates the platform: hidden now, said to be simulated.
    run_pending()
    item.refresh_from_db()
    decision.refresh_from_db()
    assert item.visibility == "hidden" and decision.platform_effect == "simulated"
    assert f'name="decision" value="{decision.pk}"' in html and 'data-key="u"' in html
    # u: undo the last decision. The hide came from the queue: its review opens again and
    # comes back to the moderator who undid it.
    response = alice.post(f"/o/{SLUG}/moderation/undo/", {"next": case_url(second)})
    reopened = services.open_cases(org).get(item=item, kind="review")
    assert reopened.assignee == alice.user
    assert response["Location"] == case_url(reopened)
    item.refresh_from_db()
    decision.refresh_from_db()
    assert item.visibility == "hidden" and decision.status == "undone"  # until restored
    restore = Decision.objects.get(reverses=decision)
    assert restore.action == "unhide" and restore.platform_effect == "pending"
    assert "Undone: restoring the item requested from the platform." in (
        alice.get(case_url(reopened)).content.decode()
    )
    run_pending()
    item.refresh_from_db()
    assert item.visibility == "visible"


def test_undo_of_a_keep_brings_the_case_back(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1)
    alice = people["alice"]
    response = alice.post(case_url(case, "decide/"), {"action": "keep"})
    assert response["Location"] == QUEUE  # nothing else waits
    case.refresh_from_db()
    assert case.state == "closed"
    response = alice.post(f"/o/{SLUG}/moderation/undo/")
    reopened = Case.objects.get(item=case.item, state="assigned")
    assert response["Location"] == case_url(reopened) and reopened.assignee == alice.user
    assert Decision.objects.get(item=case.item, action="keep").status == "undone"
    response = alice.post(f"/o/{SLUG}/moderation/undo/", follow=True)
    assert "Nothing to undo." in page_messages(response)


def test_moderation_errors_are_shown_not_raised(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1)
    response = people["alice"].post(
        case_url(case, "decide/"), {"action": "reply", "reply_text": "  "}, follow=True
    )
    assert response.status_code == 200
    assert "A reply needs a text." in page_messages(response)
    response = people["alice"].post(
        case_url(case, "decide/"), {"action": "reply", "reply_text": "Merci de rester courtois."}
    )
    assert response["Location"] == case_url(case)  # a reply does not settle the case
    assert Decision.objects.get(item=case.item, action="reply").platform_status == "pending"
    response = people["alice"].post(case_url(case, "decide/"), {"action": "fly"}, follow=True)
    assert any("fly" in text for text in page_messages(response))


def test_skip_previous_and_release(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    first = make_case(org, source, 1, priority=2)
    second = make_case(org, source, 2, priority=1)
    alice = people["alice"]
    alice.get(QUEUE)
    response = alice.post(f"/o/{SLUG}/moderation/queue/next/")
    assert response["Location"] == case_url(first)
    alice.get(case_url(first))
    # j: skip this case (it is let go, and not offered again until the queue is reopened).
    response = alice.post(f"/o/{SLUG}/moderation/queue/next/", {"skip": first.pk})
    assert response["Location"] == case_url(second)
    first.refresh_from_db()
    assert first.state == "open" and first.assignee is None
    # k: the previous case.
    page = alice.get(case_url(second))
    assert page.context["previous_url"] == case_url(first)
    assert 'data-key="k"' in page.content.decode()
    alice.post(case_url(second, "release/"))
    second.refresh_from_db()
    assert second.state == "open" and second.assignee is None


# --- bulk actions -----------------------------------------------------------------------------


def test_bulk_hide_skips_cases_held_by_others(
    org: Any, demo_source: Any, charter: Any, people: dict[str, Client]
) -> None:
    cases = [make_case(org, demo_source, n) for n in range(1, 4)]
    people["bruno"].post(case_url(cases[2], "take/"))  # Bruno works on the third
    response = people["alice"].post(
        f"/o/{SLUG}/moderation/queue/bulk/",
        {"action": "hide", "cases": [c.pk for c in cases], "note": "Vague d'insultes"},
        follow=True,
    )
    assert response.status_code == 200
    texts = page_messages(response)
    assert "Hide: 2 cases decided, requested from the platform." in texts
    assert "1 case is being handled by someone else: left as it is." in texts
    run_pending()  # the platform (simulated: a demo source) hides them
    visibility = {c.pk: Item.objects.get(pk=c.item_id).visibility for c in cases}
    assert visibility == {cases[0].pk: "hidden", cases[1].pk: "hidden", cases[2].pk: "visible"}
    assert Evidence.objects.filter(item_id__in=[c.item_id for c in cases]).count() == 2
    assert set(Decision.objects.filter(action="hide").values_list("note", flat=True)) == {
        "Vague d'insultes"
    }


def test_bulk_needs_a_selection_and_keeps_or_deletes(
    org: Any, demo_source: Any, charter: Any, people: dict[str, Client]
) -> None:
    source = demo_source
    keep, delete = make_case(org, source, 1), make_case(org, source, 2)
    url = f"/o/{SLUG}/moderation/queue/bulk/"
    response = people["alice"].post(url, {"action": "hide"}, follow=True)
    assert "Select at least one case." in page_messages(response)
    people["alice"].post(url, {"action": "keep", "cases": [keep.pk]})
    people["alice"].post(url, {"action": "delete", "cases": [delete.pk]})
    assert Item.objects.get(pk=delete.item_id).visibility == "visible"  # not yet done
    run_pending()
    assert Item.objects.get(pk=keep.item_id).visibility == "visible"
    assert Item.objects.get(pk=delete.item_id).visibility == "deleted"
    assert not services.open_cases(org).exists()
    # The queue's delete button asks first.
    make_case(org, source, 3)
    html = people["alice"].get(QUEUE).content.decode()
    assert 'value="delete" class="button button-danger" data-confirm=' in html


# --- appeals ----------------------------------------------------------------------------------


def test_appeal_is_recorded_and_judged_by_someone_else(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1, text="Commentaire contesté")
    alice, bruno = people["alice"], people["bruno"]
    alice.post(case_url(case, "decide/"), {"action": "hide"})
    decision = Decision.objects.get(item=case.item, action="hide")
    # The item page offers to record an appeal on the hide.
    item_page = alice.get(f"/o/{SLUG}/items/{case.item_id}/").content.decode()
    appeal_url = f"/o/{SLUG}/moderation/decisions/{decision.pk}/appeal/"
    assert appeal_url in item_page
    assert alice.get(appeal_url).status_code == 200
    response = alice.post(appeal_url, {"statement": "", "received_via": "Email"})
    assert response.status_code == 200 and response.context["form"].errors["statement"]
    response = alice.post(
        appeal_url, {"statement": "Je n'ai insulté personne.", "received_via": "Email"}
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(decision=decision)
    appeal_case = Case.objects.get(appeal=appeal)
    assert appeal_case.kind == "appeal" and appeal_case.excluded_user == alice.user
    # Alice cannot judge an appeal against her own decision: the page says so, and the
    # service's refusal is shown as a message.
    page = alice.get(case_url(appeal_case))
    assert page.context["excluded"] and "your own decision" in page.content.decode()
    response = alice.post(
        case_url(appeal_case, "appeal/"), {"outcome": "reversed", "note": "ok"}, follow=True
    )
    assert "Another person must review an appeal against your decision." in page_messages(response)
    # The queue offers it to Bruno, who reverses it with reasons.
    assert bruno.post(f"/o/{SLUG}/moderation/queue/next/")["Location"] == case_url(appeal_case)
    page = bruno.get(case_url(appeal_case)).content.decode()
    assert "Je n&#x27;ai insulté personne." in page and 'id="appeal-decide-form"' in page
    response = bruno.post(case_url(appeal_case, "appeal/"), {"outcome": "reversed", "note": ""})
    assert Appeal.objects.get(pk=appeal.pk).outcome == "pending"  # reasons are required
    bruno.post(
        case_url(appeal_case, "appeal/"),
        {"outcome": "reversed", "note": "Pas d'insulte caractérisée."},
    )
    appeal.refresh_from_db()
    decision.refresh_from_db()
    assert appeal.outcome == "reversed" and appeal.decided_by == bruno.user
    assert decision.status == "overturned"
    assert Item.objects.get(pk=case.item_id).visibility == "visible"


def test_only_a_restriction_in_force_can_be_appealed(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1)
    people["alice"].post(case_url(case, "decide/"), {"action": "keep"})
    keep = Decision.objects.get(item=case.item, action="keep")
    response = people["bruno"].post(
        f"/o/{SLUG}/moderation/decisions/{keep.pk}/appeal/", {"statement": "Je conteste"}
    )
    assert response.status_code == 200
    assert "Only a hide or a deletion in force can be appealed." in response.content.decode()
    assert not Appeal.objects.exists()


# --- evidence dossiers and DSA statements -----------------------------------------------------


def test_dossier_downloads_are_audited(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1, text="À conserver comme preuve")
    people["alice"].post(case_url(case, "decide/"), {"action": "delete"})
    evidence = Evidence.objects.get(item=case.item)
    base = f"/o/{SLUG}/moderation/items/{case.item_id}/dossier"
    response = people["alice"].get(base + ".json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-{SLUG}-{case.item_id}.json"'
    )
    data = json.loads(response.content)
    assert data["evidence"][0]["sha256"] == evidence.sha256 and data["evidence"][0]["intact"]
    assert data["item"]["item"]["text"] == "À conserver comme preuve"
    pdf = people["alice"].get(base + ".pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].startswith("attachment;")
    events = AuditEvent.objects.filter(action="moderation.dossier.exported")
    assert [event.after["format"] for event in events.order_by("id")] == ["json", "pdf"]
    assert events.first().after["evidence"] == [evidence.sha256]  # type: ignore[union-attr]
    assert people["vera"].get(base + ".json").status_code == 403


def test_statements_of_reasons_json_and_csv(
    org: Any, demo_source: Any, charter: Any, people: dict[str, Client]
) -> None:
    from beffroi.charter.dsa import validate_statement

    source = demo_source
    hidden = make_case(org, source, 1, category="insult")
    kept = make_case(org, source, 2)
    old = make_case(org, source, 3, category="hate")
    alice = people["alice"]
    alice.post(case_url(hidden, "decide/"), {"action": "hide"})
    alice.post(case_url(kept, "decide/"), {"action": "keep"})
    alice.post(case_url(old, "decide/"), {"action": "delete"})
    Decision.objects.filter(item=old.item, action="delete").update(
        created_at=timezone.now() - timedelta(days=40)
    )
    run_pending()  # statements only for restrictions that took effect
    response = alice.get(f"/o/{SLUG}/moderation/statements.json")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    body = json.loads(b"".join(response.streaming_content))
    statements = body["statements"]
    assert len(statements) == 2  # the keep needs no statement
    for statement in statements:
        assert not validate_statement(statement), statement
    assert {s["decision_visibility"][0] for s in statements} == {
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_REMOVED",
    }
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    recent = json.loads(
        b"".join(
            alice.get(
                f"/o/{SLUG}/moderation/statements.json", {"date_from": since}
            ).streaming_content
        )
    )["statements"]
    assert [s["decision_visibility"] for s in recent] == [["DECISION_VISIBILITY_CONTENT_DISABLED"]]
    response = alice.get(f"/o/{SLUG}/moderation/statements.csv", {"date_from": since})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(CSV_FIELDS) and len(rows) == 2
    assert (
        rows[1][CSV_FIELDS.index("decision_visibility")] == "DECISION_VISIBILITY_CONTENT_DISABLED"
    )
    bad = alice.get(f"/o/{SLUG}/moderation/statements.csv", {"date_from": "yesterday"})
    assert bad.status_code == 400
    assert response["X-Statements-Left-Out"] == "0"
    exports = AuditEvent.objects.filter(action="moderation.statements.exported").order_by("id")
    assert [(e.after["format"], e.after["statements"]) for e in exports] == [  # type: ignore[index]
        ("json", 2),
        ("json", 1),
        ("csv", 1),
    ]
    assert {e.actor for e in exports} == {alice.user}  # type: ignore[attr-defined]


def test_invalid_statements_are_left_out_and_the_export_says_so(
    org: Any, demo_source: Any, charter: Any, people: dict[str, Client]
) -> None:
    from beffroi.charter.dsa import validate_statement

    source = demo_source
    valid, refused = make_case(org, source, 1), make_case(org, source, 2)
    alice = people["alice"]
    alice.post(case_url(valid, "decide/"), {"action": "hide"})
    alice.post(case_url(refused, "decide/"), {"action": "delete"})
    wrong = Decision.objects.get(item=refused.item, action="delete")
    # A charter category mapped to a value the Transparency Database does not know.
    Decision.objects.filter(pk=wrong.pk).update(
        charter_snapshot={**wrong.charter_snapshot, "dsa_category": "STATEMENT_CATEGORY_WRONG"}
    )
    run_pending()
    response = alice.get(f"/o/{SLUG}/moderation/statements.json")
    assert response["X-Statements-Left-Out"] == "1"
    assert response["X-Statements-Left-Out-Decisions"] == str(wrong.pk)
    body = json.loads(b"".join(response.streaming_content))
    assert [s["puid"] for s in body["statements"]] == [
        f"beffroi-{SLUG}-{valid.item.decisions.get(action='hide').pk}"
    ]
    assert not validate_statement(body["statements"][0])
    (left_out,) = body["left_out"]
    assert left_out["decision"] == wrong.pk and left_out["puid"] == f"beffroi-{SLUG}-{wrong.pk}"
    assert any("STATEMENT_CATEGORY_WRONG" in problem for problem in left_out["problems"])
    csv_export = alice.get(f"/o/{SLUG}/moderation/statements.csv")
    rows = list(csv.reader(io.StringIO(b"".join(csv_export.streaming_content).decode())))
    assert len(rows) == 2 and csv_export["X-Statements-Left-Out"] == "1"
    # The next page says which decision was left out and why.
    shown = " ".join(page_messages(alice.get(f"/o/{SLUG}/moderation/decisions/")))
    assert "1 statement of reasons was left out of the export" in shown
    assert f"#{wrong.pk}" in shown and "STATEMENT_CATEGORY_WRONG" in shown
    event = AuditEvent.objects.filter(action="moderation.statements.exported").last()
    assert event is not None and event.after is not None
    assert event.after["left_out_decisions"] == [wrong.pk] and event.after["statements"] == 1


# --- the decisions log ------------------------------------------------------------------------


def test_decisions_log_filters_shadow_tab_and_csv(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    hidden = make_case(org, source, 1, category="insult")
    kept = make_case(org, source, 2, category="spam")
    alice = people["alice"]
    alice.post(case_url(hidden, "decide/"), {"action": "hide"})
    alice.post(case_url(kept, "decide/"), {"action": "keep"})
    shadow = Decision.objects.create(
        organization=org,
        item=kept.item,
        action="hide",
        status="shadow",
        automated=True,
        category="spam",
        score=0.93,
    )
    url = f"/o/{SLUG}/moderation/decisions/"

    def listed(**params: Any) -> set[int]:
        return {row["decision"].pk for row in alice.get(url, params).context["rows"]}

    hide = Decision.objects.get(action="hide", status="applied")
    keep = Decision.objects.get(action="keep")
    superseded = set(Decision.objects.filter(status="superseded").values_list("pk", flat=True))
    assert listed() == {hide.pk, keep.pk} | superseded  # shadow decisions have their own tab
    assert listed(action="hide") == {hide.pk}
    assert listed(category="spam", automated="no") == {keep.pk}
    assert listed(automated="yes") == superseded
    response = alice.get(url, {"status": "shadow"})
    assert [row["decision"].pk for row in response.context["rows"]] == [shadow.pk]
    assert response.context["rows"][0]["actual"] == keep  # what was really decided
    export = alice.get(url, {"action": "hide", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:3] == ["id", "created_at", "item_id"] and len(rows) == 2
    assert rows[1][rows[0].index("evidence_sha256")] == hide.evidence.sha256  # type: ignore[union-attr]


# --- the classifier ---------------------------------------------------------------------------


def test_classifier_versions_retrain_activate_and_default(
    org: Any, people: dict[str, Client]
) -> None:
    url = f"/o/{SLUG}/moderation/classifier/"
    assert people["alice"].get(url).status_code == 403  # administrators only
    chef = people["chef"]
    old = ClassifierVersion.objects.create(
        organization=org, version="v-old", trained_on=900, decisions_used=10, model=b"x"
    )
    new = ClassifierVersion.objects.create(
        organization=org,
        version="v-new",
        trained_on=950,
        decisions_used=60,
        model=b"y",
        active=True,
    )
    response = chef.get(url)
    assert response.status_code == 200 and response.context["active"] == new
    html = response.content.decode()
    assert "v-old" in html and f"/classifier/{old.pk}/activate/" in html
    chef.post(url + "retrain/")
    chef.post(url + "retrain/")  # a second click while it runs does not queue another
    jobs = Job.objects.filter(name="moderation.retrain", organization=org)
    assert jobs.count() == 1 and jobs.get().payload == {
        "organization_id": org.pk,
        "user_id": chef.user.pk,  # type: ignore[attr-defined]
    }
    asked = AuditEvent.objects.filter(action="moderation.classifier.retrain_requested")
    assert asked.count() == 2 and {e.object_id for e in asked} == {str(jobs.get().pk)}
    assert {(e.actor, e.channel) for e in asked} == {(chef.user, "ui")}  # type: ignore[attr-defined]
    assert chef.get(url).context["running"] is not None
    chef.post(url + f"{old.pk}/activate/")
    assert list(ClassifierVersion.objects.filter(active=True)) == [old]
    chef.post(url + "default/")
    assert not ClassifierVersion.objects.filter(active=True).exists()
    assert "The default model" in chef.get(url).content.decode()


# --- the item page's moderation panel ---------------------------------------------------------


def test_item_panel_read_only_for_viewers_actions_for_moderators(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1, text="Un texte douteux")
    item_url = f"/o/{SLUG}/items/{case.item_id}/"
    viewer = people["vera"].get(item_url).content.decode()
    assert 'id="moderation"' in viewer and "Score of each detector" in viewer
    assert "/moderation/items/" not in viewer  # no action, no dossier
    moderator = people["alice"].get(item_url).content.decode()
    assert f"/moderation/items/{case.item_id}/decide/" in moderator
    assert f"/moderation/items/{case.item_id}/dossier.pdf" in moderator
    assert case_url(case) in moderator  # the open case
    response = people["alice"].post(
        f"/o/{SLUG}/moderation/items/{case.item_id}/decide/", {"action": "hide"}, follow=True
    )
    # What was requested, not what happened.
    assert "Hiding requested from the platform." in page_messages(response)
    html = response.content.decode()
    decision = Decision.objects.get(item=case.item, action="hide")
    assert decision.evidence.sha256 in html  # type: ignore[union-attr]
    assert "Record an appeal" in html and "Waiting for the platform" in html
    assert "Hiding requested, waiting for" in html
    # The platform's answer is shown: a refusal in words, its own message kept.
    Decision.objects.filter(pk=decision.pk).update(
        platform_status="failed",
        platform_result={"detail": "Status not found (404)", "reason": "not_found"},
    )
    html = people["vera"].get(item_url).content.decode()
    assert "Refused by the platform" in html and "Status not found (404)" in html
    assert "Still visible on the platform." in html
    assert "/retry/" not in html  # a viewer cannot retry


def test_other_organizations_cannot_be_reached(
    org: Any, other_org: Any, source: Any, charter: Any, people: dict[str, Client], make_user: Any
) -> None:
    case = make_case(org, source, 1)
    outsider = login(make_user("outsider", org=other_org, role="admin"))
    assert outsider.get(f"/o/{other_org.slug}/moderation/cases/{case.pk}/").status_code == 404
    response = outsider.post(
        f"/o/{other_org.slug}/moderation/queue/bulk/", {"action": "hide", "cases": [case.pk]}
    )
    assert response.status_code == 302
    assert Item.objects.get(pk=case.item_id).visibility == "visible"


def test_actor_is_recorded_through_the_ui_channel(
    org: Any, source: Any, charter: Any, people: dict[str, Client]
) -> None:
    case = make_case(org, source, 1)
    people["alice"].post(case_url(case, "decide/"), {"action": "hide"})
    event = AuditEvent.objects.get(action="moderation.hide")
    assert event.channel == "ui" and event.actor == people["alice"].user
    assert services.last_undoable(Actor(people["alice"].user, "ui"), org) is not None
