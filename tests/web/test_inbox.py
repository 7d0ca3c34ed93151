"""The inbox (filters, htmx fragment, pages), the item page and the author page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.web.conftest import InboxData
from tests.web.factories import make_author, make_item

pytestmark = pytest.mark.django_db

INBOX = "/o/ville-test/inbox/"


def shown(response: Any) -> set[str]:
    return {item.platform_id for item in response.context["page_obj"].object_list}


@pytest.fixture
def viewer(member_client: Callable[..., Any]) -> Any:
    return member_client("viewer")


def test_inbox_lists_newest_first(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get(INBOX)
    assert response.status_code == 200
    ids = [item.platform_id for item in response.context["page_obj"].object_list]
    assert ids == ["e1", "m1", "c2", "c1", "p1"]
    html = response.content.decode()
    assert f'href="/o/ville-test/items/{inbox_data.reply.pk}/"' in html
    assert 'id="results"' in html and "<html" in html


def test_filter_by_kind(inbox_data: InboxData, viewer: Any) -> None:
    assert shown(viewer.get(INBOX, {"kind": "post"})) == {"p1", "e1"}
    assert shown(viewer.get(INBOX, {"kind": "message"})) == {"m1"}


def test_filter_by_language(inbox_data: InboxData, viewer: Any) -> None:
    assert shown(viewer.get(INBOX, {"language": "en"})) == {"e1"}
    response = viewer.get(INBOX)
    choices = [
        value for value, _label in response.context["filter"].form.fields["language"].choices
    ]
    assert "en" in choices and "fr" in choices


def test_search_text_and_author(inbox_data: InboxData, viewer: Any) -> None:
    assert shown(viewer.get(INBOX, {"q": "PISCINE"})) == {"p1", "c1"}
    assert shown(viewer.get(INBOX, {"q": "alice"})) == {"p1", "c2"}
    assert shown(viewer.get(INBOX, {"q": "nothing-like-this"})) == set()


def test_filter_by_source_and_state(inbox_data: InboxData, viewer: Any) -> None:
    assert shown(viewer.get(INBOX, {"source": inbox_data.other_source.pk})) == {"m1"}
    inbox_data.reply.state = "done"
    inbox_data.reply.save()
    assert shown(viewer.get(INBOX, {"state": "done"})) == {"c1"}


def test_filter_by_dates(inbox_data: InboxData, viewer: Any) -> None:
    old = make_item(
        inbox_data.source,
        inbox_data.bob,
        "old1",
        text="Vieux message",
        created_at=timezone.now() - timedelta(days=40),
    )
    cutoff = (timezone.now() - timedelta(days=10)).date().isoformat()
    assert old.platform_id not in shown(viewer.get(INBOX, {"date_from": cutoff}))
    assert shown(viewer.get(INBOX, {"date_to": cutoff})) == {"old1"}


def test_source_filter_only_offers_this_organizations_sources(
    inbox_data: InboxData, other_org: Any, viewer: Any
) -> None:
    from beffroi.sources.models import Source

    foreign = Source.objects.create(organization=other_org, name="Foreign", platform="file")
    response = viewer.get(INBOX)
    offered = {choice.pk for choice in response.context["filter"].form.fields["source"].queryset}
    assert offered == {inbox_data.source.pk, inbox_data.other_source.pk}
    # Asking for another organization's source is refused, never shown.
    response = viewer.get(INBOX, {"source": foreign.pk})
    assert response.context["filter"].form.errors["source"]
    assert "Foreign" not in response.content.decode()


def test_htmx_request_gets_the_results_fragment(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get(INBOX, {"kind": "post"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<header" not in html
    assert "inbox-table" in html
    assert 'hx-swap-oob="innerHTML"' in html  # the live result count
    assert shown(response) == {"p1", "e1"}
    assert "HX-Request" in response["Vary"]
    # A history restore (back button after a cache miss) needs the whole page.
    restore = viewer.get(
        INBOX, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def test_filter_form_works_with_and_without_javascript(inbox_data: InboxData, viewer: Any) -> None:
    html = viewer.get(INBOX).content.decode()
    assert 'method="get"' in html and 'action="/o/ville-test/inbox/"' in html
    assert 'hx-get="/o/ville-test/inbox/"' in html
    assert 'hx-target="#results"' in html and 'hx-push-url="true"' in html
    assert "keyup changed delay:400ms from:input[type=search]" in html
    for name in ("q", "source", "kind", "language", "state", "date_from", "date_to"):
        assert f'for="id_{name}"' in html, name  # every field has a label


def test_pagination(org: Any, source: Any, viewer: Any) -> None:
    author = make_author(org, "crowd")
    now = timezone.now()
    for number in range(55):
        make_item(
            source,
            author,
            f"n{number}",
            text=f"numéro {number}",
            created_at=now - timedelta(minutes=number),
        )
    first = viewer.get(INBOX)
    assert len(first.context["page_obj"].object_list) == 50
    assert "?page=2" in first.content.decode()
    second = viewer.get(INBOX, {"page": 2})
    assert shown(second) == {f"n{number}" for number in range(50, 55)}
    # Filters are kept in the page links.
    assert "kind=comment" in viewer.get(INBOX, {"kind": "comment"}).content.decode()


def test_item_page_shows_thread_author_and_raw_payload(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get(f"/o/ville-test/items/{inbox_data.reply.pk}/")
    assert response.status_code == 200
    thread = [(row["item"].platform_id, row["depth"]) for row in response.context["thread"]]
    assert thread == [("p1", 0), ("c1", 1), ("c2", 2)]
    html = response.content.decode()
    assert 'aria-current="true"' in html
    assert "Quels sont les horaires" in html
    assert "@bob" in html and f"/o/ville-test/authors/{inbox_data.bob.pk}/" in html
    assert "<details" in html

    root = viewer.get(f"/o/ville-test/items/{inbox_data.root.pk}/")
    root_html = root.content.decode()
    assert "verbatim-payload-marker" in root_html  # the raw payload, pretty JSON
    assert '"secret_sauce": "verbatim-payload-marker"' in root_html.replace("&quot;", '"')
    assert 'href="https://ville.example/piscine"' in root_html
    assert 'href="javascript:' not in root_html  # never a link to a script
    assert "Alice Martin" in root_html
    assert root.context["author_items"] == 2


def test_item_without_thread(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get(f"/o/ville-test/items/{inbox_data.message.pk}/")
    assert response.status_code == 200
    assert response.context["thread"] == []


def test_author_page(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get(f"/o/ville-test/authors/{inbox_data.alice.pk}/")
    assert response.status_code == 200
    assert shown(response) == {"p1", "c2"}
    assert "https://example.org/@alice" in response.content.decode()


def test_other_organizations_items_and_authors_are_404(
    inbox_data: InboxData, other_org: Any, viewer: Any
) -> None:
    from beffroi.sources.models import Source

    foreign_source = Source.objects.create(organization=other_org, name="Theirs", platform="file")
    stranger = make_author(other_org, "stranger")
    foreign = make_item(foreign_source, stranger, "f1", text="Pas pour vous", thread_id="p1")
    assert viewer.get(f"/o/ville-test/items/{foreign.pk}/").status_code == 404
    assert viewer.get(f"/o/ville-test/authors/{stranger.pk}/").status_code == 404
    # The foreign item shares the thread id: it must not show in our thread either.
    response = viewer.get(f"/o/ville-test/items/{inbox_data.root.pk}/")
    assert "Pas pour vous" not in response.content.decode()
    assert "Pas pour vous" not in viewer.get(INBOX).content.decode()
    # And the other organization's own pages are hidden from us.
    assert viewer.get(f"/o/{other_org.slug}/inbox/").status_code == 404
    assert viewer.get(f"/o/{other_org.slug}/items/{foreign.pk}/").status_code == 404


def test_navigation_hides_what_the_role_cannot_use(
    inbox_data: InboxData, member_client: Callable[..., Any]
) -> None:
    viewer_html = member_client("viewer").get(INBOX).content.decode()
    assert "/o/ville-test/sources/" in viewer_html
    assert "/o/ville-test/settings/members/" not in viewer_html
    assert "/o/ville-test/settings/audit/" not in viewer_html


def test_navigation_for_an_administrator(
    inbox_data: InboxData, member_client: Callable[..., Any]
) -> None:
    html = member_client("admin").get(INBOX).content.decode()
    assert "/o/ville-test/settings/members/" in html
    assert "/o/ville-test/settings/audit/" in html
    assert 'aria-current="page"' in html
    assert 'class="skip-link"' in html and 'id="main"' in html
    assert "hx-headers=" in html and "X-CSRFToken" in html
    assert "/static/beffroi/vendor/htmx.min.js" in html


def test_static_files_are_served_locally(client: Any) -> None:
    for path in ("beffroi/app.css", "beffroi/app.js", "beffroi/vendor/htmx.min.js"):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path


def test_home_redirects_to_the_dashboard(inbox_data: InboxData, viewer: Any) -> None:
    response = viewer.get("/")
    assert response.status_code == 302 and response["Location"] == "/o/ville-test/"


def test_home_lists_the_organizations_of_a_member_of_several(
    org: Any, other_org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    from beffroi.organizations.models import Membership

    user = make_user("both", org=org, role="viewer")
    Membership.objects.create(user=user, organization=other_org, role="analyst")
    client = verified_client(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/o/ville-test/inbox/" in html and "/o/autre-ville/inbox/" in html
    # Once an organization is opened, home goes back to it.
    client.get("/o/autre-ville/inbox/")
    assert client.get("/")["Location"] == "/o/autre-ville/"


def test_inbox_csv_export_follows_the_filters_and_defuses_formulas(
    org: Any, make_user: Any, verified_client: Any
) -> None:
    import csv
    import io
    from datetime import UTC, datetime

    from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem
    from beffroi.items.ingest import ingest
    from beffroi.sources.models import Source

    source = Source.objects.create(organization=org, name="Export", platform="file")
    author = NormalizedAuthor(platform_id="x1", handle="malin")
    when = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    ingest(
        source,
        [
            NormalizedItem(
                "e1", ItemKind.COMMENT, '=HYPERLINK("http://x")', when, author, language="en"
            ),
            NormalizedItem("e2", ItemKind.POST, "Bonjour la mairie", when, author, language="fr"),
        ],
    )
    client = verified_client(make_user("exporter", org=org, role="viewer"))
    response = client.get(f"/o/{org.slug}/inbox/", {"kind": "comment", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["created_at", "platform", "source", "kind"]
    assert len(rows) == 2  # the header and the one comment: the filter applies
    assert rows[1][8] == '\'=HYPERLINK("http://x")'
