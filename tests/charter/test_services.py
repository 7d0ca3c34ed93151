"""The charter's lifecycle: one live version, shadow runs, drafts for every change, audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.charter import services
from beffroi.charter.models import Category, CharterVersion, RuleEntry

ACTOR = Actor.system("test")
Status = CharterVersion.Status

pytestmark = pytest.mark.django_db


def actions(org: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(organization=org, action__startswith="charter.")
        .order_by("id")
        .values_list("action", flat=True)
    )


def statuses(org: Any) -> dict[int, str]:
    return dict(CharterVersion.objects.filter(organization=org).values_list("number", "status"))


def test_the_default_charter_is_created_once(org: Any) -> None:
    first = services.ensure_default_charter(org)
    again = services.ensure_default_charter(org)
    assert first.pk == again.pk
    assert (first.number, first.status) == (1, Status.LIVE)
    assert first.published_at is not None
    assert first.categories.count() == 11
    assert actions(org) == ["charter.create_default"]


def test_an_organization_with_versions_is_left_alone(org: Any) -> None:
    live = services.ensure_default_charter(org)
    services.retire(ACTOR, live)
    assert services.ensure_default_charter(org).pk == live.pk
    assert CharterVersion.objects.filter(organization=org).count() == 1


def test_at_most_one_live_and_one_shadow_version_per_organization(org: Any, other_org: Any) -> None:
    services.ensure_default_charter(org)
    services.ensure_default_charter(other_org)  # another organization has its own live version
    with pytest.raises(IntegrityError), transaction.atomic():
        CharterVersion.objects.create(organization=org, number=2, status=Status.LIVE)
    CharterVersion.objects.create(organization=org, number=3, status=Status.SHADOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        CharterVersion.objects.create(organization=org, number=4, status=Status.SHADOW)


def test_a_draft_copies_its_source(org: Any, make_user: Any) -> None:
    live = services.ensure_default_charter(org)
    services.save_rule(ACTOR, services.create_draft(ACTOR, org), None, category="hate",
                       language="fr", kind="keyword", pattern="vermine")  # fmt: skip
    person = make_user("claire", org=org, role="admin")
    draft = services.create_draft(Actor(person, "ui"), org, notes="Seuils plus stricts")
    assert (draft.number, draft.status, draft.based_on_id) == (3, Status.DRAFT, live.pk)
    assert draft.created_by == person
    assert draft.notes == "Seuils plus stricts"
    assert [c.as_data() for c in draft.categories.all()] == [
        c.as_data() for c in live.categories.all()
    ]
    assert draft.rules.count() == 0  # copied from the live version, not from the other draft
    event = AuditEvent.objects.filter(action="charter.draft").order_by("id").last()
    assert event is not None and event.actor == person and event.after["based_on"] == 1


def test_publishing_retires_the_previous_live_version(org: Any) -> None:
    v1 = services.ensure_default_charter(org)
    v2 = services.create_draft(ACTOR, org)
    services.publish(ACTOR, v2)
    assert statuses(org) == {1: Status.RETIRED, 2: Status.LIVE}
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.retired_at is not None and v2.published_at is not None
    assert services.live_version(org) == v2
    assert actions(org)[-2:] == ["charter.retire", "charter.publish"]
    publish_event = AuditEvent.objects.get(action="charter.publish")
    assert publish_event.before == {"status": "draft", "live": 1}


def test_shadow_runs_a_draft_then_it_goes_live(org: Any) -> None:
    services.ensure_default_charter(org)
    v2 = services.create_draft(ACTOR, org)
    services.start_shadow(ACTOR, v2)
    assert statuses(org) == {1: Status.LIVE, 2: Status.SHADOW}
    assert services.shadow_version(org) == v2
    v3 = services.create_draft(ACTOR, org)
    services.start_shadow(ACTOR, v3)  # replaces v2 in shadow
    assert statuses(org) == {1: Status.LIVE, 2: Status.RETIRED, 3: Status.SHADOW}
    services.publish(ACTOR, v3)
    assert statuses(org) == {1: Status.RETIRED, 2: Status.RETIRED, 3: Status.LIVE}
    assert services.shadow_version(org) is None
    assert "charter.shadow" in actions(org)


def test_only_drafts_are_edited(org: Any) -> None:
    live = services.ensure_default_charter(org)
    category = live.categories.get(slug="insult")
    with pytest.raises(ValidationError, match="only a draft can be changed"):
        services.save_category(ACTOR, live, category, hide_at=0.5)
    with pytest.raises(ValidationError):
        services.save_rule(ACTOR, live, None, category="insult", language="fr",
                           kind="keyword", pattern="malotru")  # fmt: skip
    with pytest.raises(ValidationError):
        services.update_version(ACTOR, live, notes="x")
    with pytest.raises(ValidationError):
        services.delete_category(ACTOR, category)
    with pytest.raises(ValidationError):
        services.discard_draft(ACTOR, live)
    category.refresh_from_db()
    assert category.hide_at == 0.95
    with pytest.raises(ValidationError):
        services.publish(ACTOR, live)
    with pytest.raises(ValidationError):
        services.start_shadow(ACTOR, live)


def test_a_retired_version_cannot_come_back(org: Any) -> None:
    live = services.ensure_default_charter(org)
    services.retire(ACTOR, live)
    assert services.live_version(org) is None
    with pytest.raises(ValidationError):
        services.publish(ACTOR, live)
    with pytest.raises(ValidationError):
        services.retire(ACTOR, live)


def test_category_edits_are_checked_and_audited(org: Any) -> None:
    services.ensure_default_charter(org)
    draft = services.create_draft(ACTOR, org)
    insult = draft.categories.get(slug="insult")
    with pytest.raises(ValidationError) as caught:
        services.save_category(ACTOR, draft, insult, hide_at=0.4, review_at=0.6)
    assert "hide_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.save_category(
            ACTOR, draft, insult, dsa_category_specification=["KEYWORD_TERRORIST_CONTENT"]
        )
    assert "dsa_category_specification" in caught.value.message_dict
    # Refused changes are undone on the caller's object too.
    assert insult.hide_at == 0.95
    assert insult.dsa_category_specification == ["KEYWORD_OTHER"]
    services.save_category(ACTOR, draft, insult, hide_at=None, shadow=True)
    event = AuditEvent.objects.get(action="charter.category_update")
    assert event.before["hide_at"] == 0.95 and event.after["hide_at"] is None
    assert event.after["shadow"] is True and event.after["version"] == draft.number
    # The live version is untouched.
    assert services.live_version(org).categories.get(slug="insult").hide_at == 0.95  # type: ignore[union-attr]


def test_a_new_category_and_the_identifier_that_stays(org: Any) -> None:
    draft = services.create_draft(ACTOR, org)  # no charter yet: starts from the default one
    assert draft.categories.count() == 11
    parking = services.save_category(
        ACTOR, draft, None,
        slug="parking", name_fr="Stationnement", name_en="Parking",
        clause_fr="Pas de plaques.", clause_en="No number plates.", severity=1,
        review_at=0.7, dsa_decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
        dsa_category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    )  # fmt: skip
    assert parking.position == 12
    with pytest.raises(ValidationError) as caught:
        services.save_rule(ACTOR, draft, None, category="parking", language="fr",
                           kind="regex", pattern=r"\b[A-Z]{2}-\d{3}-[A-Z]{2}\b")  # fmt: skip
    assert "the detectors know" in caught.value.message_dict["category"][0]
    with pytest.raises(ValidationError) as caught:
        services.save_category(ACTOR, draft, draft.categories.get(slug="insult"), slug="insults")
    assert "cannot change" in caught.value.message_dict["slug"][0]
    services.save_rule(ACTOR, draft, None, category="insult", language="fr",
                       kind="keyword", pattern="malotru")  # fmt: skip
    services.delete_category(ACTOR, draft.categories.get(slug="insult"))
    assert not draft.rules.exists()
    services.delete_category(ACTOR, parking)
    assert {"charter.category_create", "charter.category_delete"} <= set(actions(org))


def test_rules_are_validated(org: Any) -> None:
    draft = services.create_draft(ACTOR, org)
    with pytest.raises(ValidationError) as caught:
        services.save_rule(ACTOR, draft, None, category="hate", language="fr",
                           kind="regex", pattern="(unclosed")  # fmt: skip
    assert "Invalid regular expression" in caught.value.message_dict["pattern"][0]
    with pytest.raises(ValidationError) as caught:
        services.save_rule(ACTOR, draft, None, category="nope", language="fr",
                           kind="keyword", pattern="x")  # fmt: skip
    assert "category" in caught.value.message_dict
    rule = services.save_rule(ACTOR, draft, None, category="spam", language="*",
                              kind="domain", pattern="  Arnaque.Example ")  # fmt: skip
    assert rule.pattern == "arnaque.example"
    with pytest.raises(ValidationError):
        services.save_rule(ACTOR, draft, None, category="spam", language="*",
                           kind="domain", pattern="arnaque.example")  # fmt: skip
    services.save_rule(ACTOR, draft, rule, weight=0.5, enabled=False)
    services.delete_rule(ACTOR, rule)
    assert [a for a in actions(org) if a.startswith("charter.rule")] == [
        "charter.rule_create",
        "charter.rule_update",
        "charter.rule_delete",
    ]


def test_a_pasted_list_is_added_all_or_nothing(org: Any) -> None:
    draft = services.create_draft(ACTOR, org)
    services.save_rule(ACTOR, draft, None, category="insult", language="fr",
                       kind="keyword", pattern="malotru")  # fmt: skip
    bad = services.add_rules(ACTOR, draft, category="insult", language="fr", kind="keyword",
                             patterns=["goujat", "deux mots", "butor"])  # fmt: skip
    assert bad.errors == [
        "line 2 (deux mots): pattern: A keyword is one word: use a phrase for several words."
    ]
    assert draft.rules.count() == 1
    good = services.add_rules(
        ACTOR, draft, category="insult", language="fr", kind="keyword",
        patterns=services.split_patterns("goujat\n\nmalotru\n  butor  \ngoujat\n"), weight=0.8,
    )  # fmt: skip
    assert [r.pattern for r in good.created] == ["goujat", "butor"]
    assert good.skipped == ["malotru", "goujat"]
    assert draft.rules.filter(weight=0.8).count() == 2
    event = AuditEvent.objects.get(action="charter.rule_bulk_create")
    assert event.after["patterns"] == ["goujat", "butor"]


def test_publishing_checks_the_version(org: Any) -> None:
    services.ensure_default_charter(org)
    draft = services.create_draft(ACTOR, org)
    draft.categories.all().delete()
    with pytest.raises(ValidationError, match="without any category"):
        services.publish(ACTOR, draft)
    draft = services.create_draft(ACTOR, org)
    Category.objects.filter(version=draft, slug="hate").update(hide_at=0.1, review_at=0.5)
    RuleEntry.objects.create(version=draft, category="ghost", language="fr", pattern="boo")
    with pytest.raises(ValidationError) as caught:
        services.start_shadow(ACTOR, draft)
    text = " ".join(caught.value.messages)
    assert "hate:" in text and "ghost" in text
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_discarding_a_draft_keeps_its_content_in_the_audit(org: Any) -> None:
    draft = services.create_draft(ACTOR, org)
    services.discard_draft(ACTOR, draft)
    assert not CharterVersion.objects.filter(pk=draft.pk).exists()
    event = AuditEvent.objects.get(action="charter.discard")
    assert "format: beffroi-charter/1" in event.before["yaml"]


def test_diff_between_versions(org: Any) -> None:
    v1 = services.ensure_default_charter(org)
    v2 = services.create_draft(ACTOR, org)
    services.save_category(ACTOR, v2, v2.categories.get(slug="insult"), hide_at=0.99)
    services.delete_category(ACTOR, v2.categories.get(slug="off_topic"))
    services.update_version(ACTOR, v2, use_default_rules=False)
    rule = services.save_rule(ACTOR, v2, None, category="hate", language="fr",
                              kind="keyword", pattern="vermine")  # fmt: skip
    diff = services.diff_versions(v1, v2)
    assert diff.settings == [("use_default_rules", True, False)]
    assert [c.slug for c in diff.categories_removed] == ["off_topic"]
    assert diff.categories_added == []
    assert [(c.slug, c.fields) for c in diff.categories_changed] == [
        ("insult", [("hide_at", 0.95, 0.99)])
    ]
    assert diff.rules_added == [rule]
    reverse = services.diff_versions(v2, v1)
    assert [c.slug for c in reverse.categories_added] == ["off_topic"]
    assert reverse.rules_removed == [rule]
    assert services.diff_versions(v1, v1).is_empty


def test_rule_specs_join_the_default_lists_and_the_own_entries(org: Any) -> None:
    rules = pytest.importorskip("beffroi.analysis.moderation.rules")
    draft = services.create_draft(ACTOR, org)
    own = services.save_rule(ACTOR, draft, None, category="insult", language="fr",
                             kind="keyword", pattern="malotru", weight=0.9, note="local")  # fmt: skip
    services.save_rule(ACTOR, draft, None, category="insult", language="fr",
                       kind="keyword", pattern="butor", enabled=False)  # fmt: skip
    defaults = list(rules.load_default_rules())
    specs = services.rule_specs(draft)
    assert len(specs) == len(defaults) + 1
    mine = specs[-1]
    assert (
        mine.id,
        mine.category,
        mine.language,
        mine.kind,
        mine.pattern,
        mine.weight,
        mine.note,
    ) == (f"org:{org.slug}:{own.pk}", "insult", "fr", "keyword", "malotru", 0.9, "local")
    services.update_version(ACTOR, draft, use_default_rules=False)
    assert [s.pattern for s in services.rule_specs(draft)] == ["malotru"]
