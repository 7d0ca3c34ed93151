"""Badges are one set of classes: the plain ``badge`` and its tones, defined once in app.css.

Templates give a state its tone through the ``badge_tone`` filter, Python code names a tone:
no class per state (``badge-in_review``, ``badge-kind-appeal``…) and no badge rule in another
stylesheet.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "beffroi"
STATIC = SRC / "static" / "beffroi"
TONES = {"badge-info", "badge-warn", "badge-ok", "badge-error", "badge-neutral"}


def _badge_selectors(css: str) -> set[str]:
    return set(re.findall(r"\.(badge(?:-[\w-]+)?)\b", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))


def test_the_badge_rules_are_one_set_in_app_css() -> None:
    assert _badge_selectors((STATIC / "app.css").read_text()) == {"badge", *TONES}
    for sheet in STATIC.glob("*.css"):
        if sheet.name != "app.css":
            assert not _badge_selectors(sheet.read_text()), f"{sheet.name} styles badges"


def test_templates_and_code_use_only_the_set() -> None:
    unknown: list[str] = []
    for path in [*SRC.glob("templates/**/*.html"), *SRC.glob("**/*.py")]:
        text = path.read_text()
        # A class built from a state (badge-{{ … }}) is a class per state: use badge_tone.
        unknown += [f"{path.name}: {m}" for m in re.findall(r"badge-\{\{[^}]*\}\}", text)]
        unknown += [
            f"{path.name}: {name}"
            for name in re.findall(r"(?<![\w.-])(badge-[a-z_-]+)", text)
            if name not in TONES and name != "badge-tone"
        ]
    assert not unknown, unknown


@pytest.mark.parametrize(
    ("value", "tone"),
    [
        ("error", "badge-error"),
        ("auth_failed", "badge-error"),
        ("rate_limited", "badge-warn"),
        ("in_review", "badge-warn"),
        ("processed", "badge-ok"),
        ("live", "badge-ok"),
        ("appeal", "badge-info"),
        ("draft", "badge-info"),
        ("retired", "badge-neutral"),
        ("review", ""),
        ("something else", ""),
    ],
)
def test_a_state_gets_its_tone(value: str, tone: str) -> None:
    from beffroi.core.templatetags.badges import TONES as STATE_TONES
    from beffroi.core.templatetags.badges import badge_tone

    assert badge_tone(value) == tone
    assert set(STATE_TONES.values()) <= TONES


@pytest.mark.django_db
def test_a_page_shows_a_broken_source_in_the_error_tone(
    verified_client: Any, make_user: Any, org: Any
) -> None:
    from django.urls import reverse

    from beffroi.sources.models import Source

    Source.objects.create(
        organization=org, name="Flux", platform="rss", status=Source.Status.AUTH_FAILED
    )
    client = verified_client(make_user("maire", org=org, role="admin"))
    html = client.get(reverse("sources:list", args=[org.slug])).content.decode()
    assert '<span class="badge badge-error">' in html
