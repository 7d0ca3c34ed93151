"""The veille of the demo town in a real browser, from the keyboard: the menu, the hoax's
spike alert with the posts behind it, acknowledging it; a watch created with a mistake in
its query, corrected; the campaign's network picture."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.test_accessibility import page, town  # noqa: F401 (fixtures)
from tests.browser.test_inbox_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]


def test_veille_from_the_keyboard(page: tuple[Any, str], town: dict[str, Any]) -> None:  # noqa: F811
    from beffroi.veille.models import Alert, Watch
    from beffroi.veille.scan import scan

    org = town["org"]
    scan(org)
    context, base = page
    context.add_cookies([{"name": "sessionid", "value": town["session"], "url": base}])
    tab = context.new_page()
    tab.goto(base + reverse("overview:dashboard", args=[org.slug]))
    # The menu names the veille with its count of new alerts.
    veille_link = tab.get_by_role("link", name="Veille")
    # Findings grouped into another alert are counted with it (one alert per event).
    count = Alert.objects.filter(
        organization=org, acknowledged_at__isnull=True, grouped_into__isnull=True
    ).count()
    assert str(count) in veille_link.inner_text()
    veille_link.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/veille/")
    # The hoax's spike: the water watch's alert, grouped with the other signals about the same
    # posts into one alert, reached and opened from the keyboard.
    watch_spike = Alert.objects.get(
        organization=org, series__startswith="watch:", title="Eau du robinet"
    )
    group = watch_spike.grouped_into or watch_spike
    spike = tab.locator(f'a[href$="/veille/alerts/{group.pk}/"]').first
    spike.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/veille/alerts/*/")
    assert "contaminée" in tab.content() or "contaminated" in tab.content()
    acknowledge = tab.get_by_role("button", name="Prendre en compte")
    acknowledge.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/veille/alerts/")
    alert = Alert.objects.get(organization=org, series__startswith="watch:", title="Eau du robinet")
    assert alert.acknowledged_at is not None
    # A watch: a query with an unclosed quote is refused in place, then corrected.
    tab.goto(base + reverse("veille:watch_create", args=[org.slug]))
    tab.get_by_label("Nom").fill("Piscine")
    query = tab.get_by_label("Requête")
    query.fill('piscine OR "centre aquatique')
    save = tab.get_by_role("button", name="Enregistrer")
    save.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_load_state()
    assert tab.locator(".errorlist").inner_text().startswith("Ce guillemet n’est jamais fermé")
    tab.get_by_label("Requête").fill('piscine OR "centre aquatique"')
    tab.get_by_role("button", name="Enregistrer").focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(r".*/veille/watches/\d+/$"))
    assert Watch.objects.filter(organization=org, name="Piscine").exists()
    # The campaign's page draws its accounts.
    tab.goto(base + reverse("veille:campaigns", args=[org.slug]))
    tab.get_by_role("link", name="Copies reformulées").last.click()
    assert tab.locator("svg.network circle").count() >= 16
