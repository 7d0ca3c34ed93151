"""The DSA vocabulary shown to a person: every code has its label, no raw code on the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from beffroi.audit.services import Actor
from beffroi.charter import dsa, dsa_labels, services
from beffroi.charter.forms import specification_choices


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (dsa.DECISION_GROUNDS, dsa_labels.DECISION_GROUNDS),
        (dsa.STATEMENT_CATEGORIES, dsa_labels.STATEMENT_CATEGORIES),
        (dsa.CATEGORY_SPECIFICATIONS, dsa_labels.CATEGORY_SPECIFICATIONS),
    ],
)
def test_every_code_has_the_database_label_as_its_msgid(
    codes: dict[str, str], labels: dict[str, Any]
) -> None:
    # In English the label is the Transparency Database's own; French comes from the catalogue.
    assert {code: str(label) for code, label in labels.items()} == codes


def test_the_keyword_choices_show_labels_not_codes() -> None:
    for group, choices in specification_choices():
        assert not str(group).startswith("STATEMENT_CATEGORY_")
        for code, label in choices:
            assert code.startswith("KEYWORD_")
            assert "KEYWORD_" not in str(label), label


@pytest.mark.django_db
def test_the_charter_pages_show_no_raw_dsa_code(
    org: Any, make_user: Any, verified_client: Any
) -> None:
    services.ensure_default_charter(org)
    draft = services.create_draft(Actor.system("test"), org)
    category = draft.categories.get(slug="insult")
    client: Client = verified_client(make_user("maire", org=org, role="admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url in (
        reverse("charter:index", args=[org.slug]),
        reverse("charter:version", args=[org.slug, draft.pk]),
        reverse("charter:category_edit", args=[org.slug, category.pk]),
    ):
        html = client.get(url).content.decode()
        shown = html.replace('value="STATEMENT_CATEGORY_', "").replace('value="KEYWORD_', "")
        shown = shown.replace('value="DECISION_GROUND_', "")
        assert "STATEMENT_CATEGORY_" not in shown, url
        assert "KEYWORD_" not in shown, url
    assert category.get_dsa_category_display() == dsa.STATEMENT_CATEGORIES[category.dsa_category]
