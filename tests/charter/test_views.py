"""Charter pages: lists, forms with errors at their fields, uploads, CSRF, the public page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.charter import services
from beffroi.charter.models import CharterVersion, RuleEntry
from beffroi.charter.yaml_io import MAX_YAML_BYTES

ACTOR = Actor.system("test")
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org: Any, make_user: Any, verified_client: Any) -> Client:
    client: Client = verified_client(make_user("maire", org=org, role="admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages read in English
    return client


@pytest.fixture
def draft(org: Any) -> CharterVersion:
    services.ensure_default_charter(org)
    return services.create_draft(ACTOR, org)


def url(name: str, org: Any, *args: Any) -> str:
    return reverse(f"charter:{name}", args=[org.slug, *args])


def field_errors(html: str, field_id: str) -> str:
    """The error list tied to a field, checking that the field points at it."""
    tag = re.search(rf'<(input|textarea|select)[^>]*id="{field_id}"[^>]*>', html)
    assert tag is not None, field_id
    assert f"{field_id}_error" in tag.group(0), tag.group(0)
    assert 'aria-invalid="true"' in tag.group(0)
    errors = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    assert errors is not None
    return errors.group(1)


def test_index_shows_versions_and_the_live_categories(admin: Client, draft: Any, org: Any) -> None:
    html = admin.get(url("index", org)).content.decode()
    assert "Version 1" in html and "Version 2" in html
    assert "badge-ok" in html and "badge-info" in html
    assert "Terrorist content and apology of terrorism" in html or "Contenus terroristes" in html
    assert reverse("charter_public:page", args=[org.slug]) in html


def test_version_page_offers_the_actions_of_its_status(admin: Client, draft: Any, org: Any) -> None:
    html = admin.get(url("version", org, draft.pk)).content.decode()
    for action in ("shadow", "publish", "discard", "version_edit", "category_create"):
        assert url(action, org, draft.pk) in html, action
    live = services.live_version(org)
    assert live is not None
    html = admin.get(url("version", org, live.pk)).content.decode()
    assert url("retire", org, live.pk) in html
    assert url("publish", org, live.pk) not in html
    assert url("category_create", org, live.pk) not in html


def test_editing_a_category_saves_and_audits(admin: Client, draft: Any, org: Any) -> None:
    insult = draft.categories.get(slug="insult")
    page = admin.get(url("category_edit", org, insult.pk))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("id_clause_fr", "id_hide_at", "id_dsa_category", "id_dsa_category_specification"):
        assert f'<label for="{name}"' in html, name
    data = {
        **{k: v for k, v in insult.as_data().items() if not isinstance(v, dict)},
        "name_fr": "Injures et grossièretés",
        "name_en": "Insults",
        "clause_fr": insult.clause_fr,
        "clause_en": insult.clause_en,
        "hide_at": "0.97",
        "review_at": "0.6",
        "shadow": "on",
        "enabled": "on",
        "dsa_decision_ground": insult.dsa_decision_ground,
        "dsa_category": insult.dsa_category,
        "dsa_category_specification": ["KEYWORD_OTHER"],
        "dsa_category_specification_other": "Insult",
    }
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    response = admin.post(url("category_edit", org, insult.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    insult.refresh_from_db()
    assert (insult.name_fr, insult.hide_at, insult.shadow) == (
        "Injures et grossièretés",
        0.97,
        True,
    )
    assert AuditEvent.objects.filter(action="charter.category_update", channel="ui").exists()


def test_category_errors_are_tied_to_their_fields(admin: Client, draft: Any, org: Any) -> None:
    insult = draft.categories.get(slug="insult")
    response = admin.post(
        url("category_edit", org, insult.pk),
        {
            "slug": "insult",
            "name_fr": "Injures",
            "name_en": "Insults",
            "clause_fr": "x",
            "clause_en": "",
            "legal_reference": "",
            "severity": "2",
            "hide_at": "0.3",
            "review_at": "0.6",
            "dsa_decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "dsa_category_specification": ["KEYWORD_TERRORIST_CONTENT"],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "required" in field_errors(html, "id_clause_en")
    assert "below the review threshold" in field_errors(html, "id_hide_at")
    assert "must cite its legal ground" in field_errors(html, "id_legal_reference")
    assert "does not belong to the DSA category" in field_errors(
        html, "id_dsa_category_specification"
    )
    insult.refresh_from_db()
    assert insult.hide_at == 0.95


def test_a_live_version_is_not_edited_in_place(admin: Client, draft: Any, org: Any) -> None:
    live = services.live_version(org)
    assert live is not None
    insult = live.categories.get(slug="insult")
    response = admin.get(url("category_edit", org, insult.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("version", org, live.pk)
    assert "Make a new draft from it" in response.content.decode()
    response = admin.post(url("rule_create", org, live.pk), {"pattern": "x"})
    assert response.status_code == 302
    assert not live.rules.exists()


def test_rules_add_filter_edit_and_delete(admin: Client, draft: Any, org: Any) -> None:
    bad = admin.post(
        url("rule_create", org, draft.pk),
        {"category": "hate", "language": "fr", "kind": "regex", "pattern": "[a-", "weight": "1"},
    )
    assert bad.status_code == 400
    assert "Invalid regular expression" in field_errors(bad.content.decode(), "id_pattern")
    ok = admin.post(
        url("rule_create", org, draft.pk),
        {"category": "hate", "language": "fr", "kind": "keyword", "pattern": "vermine",
         "weight": "0.9", "enabled": "on"},
    )  # fmt: skip
    assert ok.status_code == 302
    bulk = admin.post(
        url("rule_bulk", org, draft.pk),
        {"category": "spam", "language": "*", "kind": "domain", "weight": "1",
         "patterns": "arnaque.example\ncadeau-gratuit.example\n"},
    )  # fmt: skip
    assert bulk.status_code == 302
    assert draft.rules.count() == 3
    listing = admin.get(
        url("rules", org, draft.pk), {"kind": "domain"}, headers={"HX-Request": "true"}
    )
    html = listing.content.decode()
    assert "<html" not in html  # the htmx partial
    assert "arnaque.example" in html and "vermine" not in html
    rule = draft.rules.get(pattern="vermine")
    edited = admin.post(
        url("rule_edit", org, rule.pk),
        {"category": "hate", "language": "fr", "kind": "keyword", "pattern": "vermine",
         "weight": "0.5", "note": "déshumanisant"},
    )  # fmt: skip
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert (rule.weight, rule.enabled, rule.note) == (0.5, False, "déshumanisant")
    assert admin.post(url("rule_delete", org, rule.pk)).status_code == 302
    assert not RuleEntry.objects.filter(pk=rule.pk).exists()


def test_a_bad_line_in_a_pasted_list_is_shown(admin: Client, draft: Any, org: Any) -> None:
    response = admin.post(
        url("rule_bulk", org, draft.pk),
        {"category": "insult", "language": "fr", "kind": "keyword", "weight": "1",
         "patterns": "goujat\ndeux mots\n"},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 2 (deux mots)" in html
    assert "nothing was added" in field_errors(html, "id_patterns")
    assert not draft.rules.exists()


def test_lifecycle_buttons(admin: Client, draft: Any, org: Any) -> None:
    assert admin.post(url("shadow", org, draft.pk)).status_code == 302
    assert services.shadow_version(org) == draft
    assert admin.post(url("publish", org, draft.pk)).status_code == 302
    assert services.live_version(org) == draft
    response = admin.post(url("publish", org, draft.pk), follow=True)
    assert "Only a draft or a version in shadow can be published" in response.content.decode()
    new = admin.post(url("draft_create", org), {"source": draft.pk})
    created = CharterVersion.objects.get(organization=org, number=3)
    assert new["Location"] == url("version", org, created.pk)
    assert created.based_on == draft
    assert admin.post(url("discard", org, created.pk)).status_code == 302
    assert admin.post(url("retire", org, draft.pk)).status_code == 302
    assert services.live_version(org) is None


def test_forms_need_the_csrf_token(org: Any, draft: Any, make_user: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = make_user("strict", org=org, role="admin")
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert client.post(url("publish", org, draft.pk)).status_code == 403
    page = client.get(url("version", org, draft.pk)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(url("publish", org, draft.pk), {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert services.live_version(org) == draft


def test_export_then_import_through_the_pages(admin: Client, draft: Any, org: Any) -> None:
    exported = admin.get(url("export", org, draft.pk))
    assert exported["Content-Type"].startswith("application/yaml")
    assert f"charter-{org.slug}-v2.yaml" in exported["Content-Disposition"]
    upload = SimpleUploadedFile("charte.yaml", exported.content, "application/yaml")
    response = admin.post(url("import", org), {"file": upload})
    imported = CharterVersion.objects.get(organization=org, number=3)
    assert response["Location"] == url("version", org, imported.pk)
    assert services.diff_versions(draft, imported).is_empty


def test_an_invalid_upload_lists_its_problems(admin: Client, org: Any) -> None:
    text = b"format: beffroi-charter/1\ncategories:\n  - slug: BAD SLUG\n"
    response = admin.post(url("import", org), {"file": SimpleUploadedFile("c.yaml", text)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 3, category 1 (BAD SLUG): slug:" in html
    assert "name is required" in html
    assert "not a valid charter" in field_errors(html, "id_file")
    wrong_type = admin.post(url("import", org), {"file": SimpleUploadedFile("c.txt", b"x")})
    assert "Unsupported file type" in field_errors(wrong_type.content.decode(), "id_file")
    big = SimpleUploadedFile("c.yaml", b"#" * (MAX_YAML_BYTES + 1))
    assert admin.post(url("import", org), {"file": big}).status_code in {400, 413}
    assert not CharterVersion.objects.filter(organization=org).exists()


def test_diff_page(admin: Client, draft: Any, org: Any) -> None:
    services.save_category(ACTOR, draft, draft.categories.get(slug="spam"), review_at=0.65)
    html = admin.get(url("diff", org), {"old": 1, "new": 2}).content.decode()
    assert "Changed: spam" in html
    assert "0.7" in html and "0.65" in html
    assert admin.get(url("diff", org), {"old": 1, "new": 9}).status_code == 200


# --- the public page ----------------------------------------------------------------------


def test_the_public_page_needs_no_login_and_hides_internal_data(org: Any, draft: Any) -> None:
    services.save_rule(ACTOR, draft, None, category="insult", language="fr",
                       kind="keyword", pattern="malotru")  # fmt: skip
    services.save_category(ACTOR, draft, draft.categories.get(slug="spam"), enabled=False)
    services.publish(ACTOR, draft)
    page = Client().get(reverse("charter_public:page", args=[org.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert org.name in html
    assert "Code pénal, art. 421-2-5" in html
    assert '<html lang="fr">' in html
    assert "Sont interdits les messages qui provoquent à commettre des actes de terrorisme" in html
    assert "malotru" not in html  # the rules stay internal
    assert "hide_at" not in html and "0.95" not in html  # so do the thresholds
    assert "STATEMENT_CATEGORY" not in html
    assert "Spam" not in html  # a disabled category is not published
    assert "csrfmiddlewaretoken" not in html
    english = Client().get(reverse("charter_public:page", args=[org.slug]), {"lang": "en"})
    html = english.content.decode()
    assert '<html lang="en">' in html
    assert "Messages that incite acts of terrorism" in html
    assert english["Content-Language"] == "en"


def test_the_public_page_answers_404_without_a_live_charter(org: Any) -> None:
    public = reverse("charter_public:page", args=[org.slug])
    assert Client().get(public).status_code == 404
    services.create_draft(ACTOR, org)
    assert Client().get(public).status_code == 404
    assert Client().get(reverse("charter_public:page", args=["nowhere"])).status_code == 404
