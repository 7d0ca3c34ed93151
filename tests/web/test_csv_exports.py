"""Every CSV export of the application, downloaded whole on the demo town, in both dialects.

The demo town is loaded, judged and scanned once (as ``make run`` does); every page that
offers an export is rendered, and every CSV link found on it is followed to the end of the
stream: an error half-way (a date the writer cannot format) would truncate the download.
A template that offers an export and is not visited here fails the test.
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from beffroi.core.exports import csv_cell, write_csv

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "beffroi" / "templates"
CSV_LINK = re.compile(r'href="([^"]*format=csv[^"]*)"')


@pytest.fixture(scope="module")
def demo_town(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from beffroi.demo.load import load_demo
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.moderation.services import moderate_items
    from beffroi.veille.scan import scan

    with django_db_blocker.unblock():
        summary = load_demo()
        org = summary.organization
        items = list(org.items.select_related("source", "author").order_by("id"))
        moderate_items(items)
        # The platform actions the charter asked for, as the server's background runs them
        # (simulated: demo sources), so that the restrictions took effect.
        from beffroi.jobs.engine import run_job
        from beffroi.jobs.models import Job

        for job_id in Job.objects.filter(name="moderation.platform_action").values_list(
            "pk", flat=True
        ):
            run_job(job_id, "test")
        scan(org)
        # The publishing desk's posts: some out, some coming, around today.
        load_demo_publishing(org)
        yield org
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def _library_entry(org: Any) -> None:
    """An entry in the town's counter-speech library (the demo has none yet), with a source
    and two languages, so that its export has a row."""
    from beffroi.counterspeech import services
    from beffroi.counterspeech.validation import EntryData, SourceData
    from beffroi.organizations.context import OrgContext

    if services.visible_entries(org).exists():
        return
    data = EntryData(
        strategy="facts",
        title="Eau du robinet",
        texts=[("fr", "L'eau est contrôlée ; chaque semaine."), ("en", "=Water is tested.")],
        topics=["eau", "santé"],
        sources=[SourceData("https://www.example.org/eau", "Qualité de l'eau")],
    )
    services.create_entry(OrgContext.for_command_line(org, "test"), data)


def _answered_item(org: Any) -> None:
    """A comment of the town answered with a library entry (the outcomes' export has a row)."""
    from beffroi.counterspeech import services
    from beffroi.counterspeech.models import EntryUse
    from beffroi.items.models import Item

    if EntryUse.objects.filter(organization=org, item__isnull=False).exists():
        return
    entry = services.visible_entries(org).first()
    comment = Item.objects.filter(organization=org, kind=Item.Kind.COMMENT).first()
    services.record_use(entry, org, item=comment)


def _answered_brief(org: Any) -> Any:
    """A response brief of the town sent to a partner that answered it (the demo has none),
    so that the export of its answers has a row."""
    from beffroi.briefs import services
    from tests.briefs import factories

    found = services.sent_briefs(org).filter(deliveries__responses__isnull=False).first()
    if found is not None:
        return found
    partner = factories.accepted_partner(org)
    brief, delivery = factories.sent_brief(org, partner, title="Rumeur ; =compteurs")
    services.declare_response(
        factories.system(partner), delivery, brief.posts.get(), "https://x.example/=1"
    )
    return brief


def _export_pages(org: Any) -> dict[str, str]:
    """Every page that offers a CSV export, by the template that offers it."""
    from beffroi.veille.models import Campaign, Narrative, Watch

    slug = org.slug
    watch = Watch.objects.filter(organization=org).first()
    narrative = Narrative.objects.filter(organization=org).first()
    campaign = Campaign.objects.filter(organization=org).first()
    assert watch and narrative and campaign, "the demo town has watches, narratives, campaigns"
    _library_entry(org)
    _answered_item(org)

    def url(name: str, obj: Any = None) -> str:
        return reverse(name, args=[slug] if obj is None else [slug, obj.pk])

    return {
        "items/_results.html": url("items:inbox"),
        "moderation/_decisions_results.html": url("moderation:decisions"),
        "audit/log.html": url("organizations:audit"),
        "veille/alerts.html": url("veille:alerts"),
        "veille/watches.html": url("veille:watches"),
        "veille/watch.html": url("veille:watch", watch),
        "veille/narratives.html": url("veille:narratives"),
        "veille/narrative.html": url("veille:narrative", narrative),
        "veille/claims.html": url("veille:claims"),
        "veille/claim_matches.html": url("veille:claim_matches"),
        "veille/campaigns.html": url("veille:campaigns"),
        "veille/campaign.html": url("veille:campaign", campaign),
        "veille/impersonators.html": url("veille:impersonators"),
        "publishing/list.html": url("publishing:list"),
        # The month around today: the demo has posts from a week ago to two weeks ahead.
        "publishing/calendar.html": url("publishing:calendar"),
        "counterspeech/library.html": url("counterspeech:library"),
        "counterspeech/outcomes.html": url("counterspeech:outcomes"),
        "briefs/detail.html": url("briefs:detail", _answered_brief(org)),
    }


def _download(client: Any, url: str) -> tuple[str, list[list[str]]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/csv"), url
    body = b"".join(response.streaming_content).decode("utf-8")
    delimiter = ";" if "sep=semicolon" in url else ","
    if delimiter == ";":
        assert body.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
        body = body[1:]
    rows = list(csv.reader(io.StringIO(body), delimiter=delimiter))
    return body, rows


@pytest.mark.django_db
def test_every_csv_export_of_the_demo_town_downloads_whole(
    demo_town: Any, verified_client: Any
) -> None:
    admin = demo_town.memberships.get(role="admin").user
    client = verified_client(admin)
    pages = _export_pages(demo_town)
    offering = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "includes/csv_export.html" in path.read_text(encoding="utf-8")
    }
    assert offering == set(pages), "a page offering a CSV export is not visited by this test"

    downloaded: dict[str, list[list[str]]] = {}
    for template, page in pages.items():
        response = client.get(page)
        assert response.status_code == 200, page
        links = {unescape(link) for link in CSV_LINK.findall(response.content.decode())}
        assert len(links) == 2, f"{template}: both dialects offered ({links})"
        for link in sorted(links):
            url = page + link if link.startswith("?") else link
            _body, rows = _download(client, url)
            assert rows, f"{url}: no header"
            width = len(rows[0])
            assert all(len(row) == width for row in rows), f"{url}: a row was cut"
            downloaded[url] = rows
    # The demo town has something in each list, dated claims and decisions included.
    empty = [url for url, rows in downloaded.items() if len(rows) < 2]
    assert not empty, f"exports with no rows on the demo town: {empty}"
    claims = [rows for url, rows in downloaded.items() if "/claims/" in url and "match" not in url]
    assert claims and any(re.match(r"\d{4}-\d\d-\d\d", cell) for cell in claims[0][1])


@pytest.mark.django_db
def test_dsa_statements_csv_in_both_dialects(demo_town: Any, verified_client: Any) -> None:
    admin = demo_town.memberships.get(role="admin").user
    client = verified_client(admin)
    url = reverse("moderation:statements_csv", args=[demo_town.slug])
    _, comma = _download(client, url)
    _, semicolon = _download(client, url + "?sep=semicolon")
    assert len(comma) > 1 and comma == semicolon


def test_formula_prefix_defused_at_the_start_and_after_every_separator() -> None:
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("x;=1+1") == "x;'=1+1"
    assert csv_cell("a, +33 6 12") == "a, '+33 6 12"
    assert csv_cell("x\t@SUM(A1)") == "x\t'@SUM(A1)"
    assert csv_cell("Bonjour, ça va ?") == "Bonjour, ça va ?"


def test_every_cell_is_quoted_so_no_separator_splits_it() -> None:
    handle = io.StringIO()
    write_csv(handle, ["text"], [["x;=1+1"], ["a,b"]], delimiter=",")
    lines = handle.getvalue().splitlines()
    assert lines == ['"text"', '"x;\'=1+1"', '"a,b"']
    # Read by a spreadsheet set to the other dialect, the cell is still one cell.
    assert next(csv.reader([lines[1]], delimiter=";")) == ["x;'=1+1"]
    # The semicolon dialect is for Excel: it needs the byte order mark to read UTF-8.
    handle = io.StringIO()
    write_csv(handle, ["texte"], [["ça"]], delimiter=";")
    assert handle.getvalue() == '\ufeff"texte"\r\n"ça"\r\n'


def test_dates_and_times_are_written() -> None:
    from datetime import UTC, date, datetime

    assert csv_cell(date(2024, 5, 1)) == "2024-05-01"
    assert csv_cell(datetime(2024, 5, 1, 10, 0, tzinfo=UTC)).startswith("2024-05-01T12:00:00")
