"""Secrets inside a source's settings are write-only, like credentials.

A private feed's key in its address used to be returned to viewers by the API and written
in the audit trail. Every face now shows settings hidden, and an edit that sends the hidden
value back keeps the stored one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from beffroi.sources.redaction import REDACTED, hidden_left, is_secret_name, redact, restore

KEY = "s3cret-feed-key-4242"
FEED = f"https://feeds.example/private.xml?lang=fr&key={KEY}"
SHOWN = f"https://feeds.example/private.xml?lang=fr&key={REDACTED}"


# --- the rule ---------------------------------------------------------------------------------


def test_addresses_lose_their_credentials_and_keys() -> None:
    settings = {
        "url": "https://user:pa55@feeds.example/x.xml?key=k1&token=t1&sig=s1&page=2#access_token=f1",
        "channels": "durov https://t.me/s/x?api_key=k2, https://h.example/?X-Amz-Signature=s2",
        "api_key": "k3",
        "extra": {"password": "p1", "list": ["https://h.example/?auth=a1"], "n": 3},
        "plain": "https://www.example.org/feed.xml?lang=fr",
    }
    shown = redact(settings)
    text = json.dumps(shown)
    for secret in ("pa55", "user", "k1", "t1", "s1", "f1", "k2", "s2", "k3", "p1", "a1"):
        assert secret not in text, secret
    assert shown["url"] == (
        f"https://{REDACTED}@feeds.example/x.xml?key={REDACTED}&token={REDACTED}"
        f"&sig={REDACTED}&page=2#access_token={REDACTED}"
    )
    assert shown["plain"] == settings["plain"]
    assert shown["extra"]["n"] == 3
    assert restore(shown, settings) == settings


def test_options_the_connector_declares_secret_are_hidden() -> None:
    assert redact({"page_id": "1", "page_token": "t"}, {"page_token"}) == {
        "page_id": "1",
        "page_token": REDACTED,
    }
    assert restore({"page_token": REDACTED}, {"page_token": "t"}, {"page_token"}) == {
        "page_token": "t"
    }


def test_an_address_edited_around_its_hidden_parts_keeps_them() -> None:
    edited = {"url": SHOWN.replace("lang=fr", "lang=en")}
    assert restore(edited, {"url": FEED}) == {"url": FEED.replace("lang=fr", "lang=en")}
    elsewhere = restore({"url": f"https://other.example/?key={REDACTED}"}, {"url": FEED})
    assert hidden_left(elsewhere)


def test_no_plain_option_of_a_connector_is_taken_for_a_secret() -> None:
    from beffroi.connectors.registry import BUILTIN, connector_class

    for platform in BUILTIN:
        for name, option in connector_class(platform).options.items():
            if not option.secret:
                assert not is_secret_name(name), (platform, name)


# --- the faces ------------------------------------------------------------------------------


@pytest.fixture
def feed(org: Any) -> Any:
    from beffroi.audit.services import Actor
    from beffroi.sources.services import create_source

    return create_source(
        Actor.system(), org, name="Private feed", platform="rss", settings={"url": FEED}
    )


def _bearer(user: Any) -> dict[str, str]:
    from beffroi.accounts.models import ApiToken

    return {"Authorization": f"Bearer {ApiToken.issue(user, 'test')[1]}"}


def _audit_text(org: Any) -> str:
    from beffroi.audit.models import AuditEvent

    events = AuditEvent.objects.filter(organization=org).values("before", "after")
    return json.dumps(list(events))


def test_the_api_hides_the_key_from_viewers_and_keeps_it_on_edit(
    feed: Any, org: Any, make_user: Callable[..., Any]
) -> None:
    client = Client()
    viewer = _bearer(make_user("viewer", org=org, role="viewer"))
    listed = client.get(f"/api/v1/orgs/{org.slug}/sources", headers=viewer)
    assert listed.status_code == 200
    assert KEY not in listed.content.decode()
    assert [s["settings"] for s in listed.json()] == [{"url": SHOWN}]

    admin = _bearer(make_user("admin", org=org, role="admin"))
    path = f"/api/v1/orgs/{org.slug}/sources/{feed.pk}"
    shown = listed.json()[0]["settings"]
    response = client.patch(
        path, {"settings": shown, "name": "Renamed"}, content_type="application/json", headers=admin
    )
    assert response.status_code == 200, response.content
    assert KEY not in response.content.decode()
    feed.refresh_from_db()
    assert (feed.name, feed.settings) == ("Renamed", {"url": FEED})

    moved = {"url": f"https://elsewhere.example/feed.xml?key={REDACTED}"}
    response = client.patch(
        path, {"settings": moved}, content_type="application/json", headers=admin
    )
    assert response.status_code == 400
    assert REDACTED in response.json()["detail"]
    feed.refresh_from_db()
    assert feed.settings == {"url": FEED}
    assert KEY not in _audit_text(org)


def test_the_api_refuses_a_body_that_is_not_an_object(
    feed: Any, org: Any, make_user: Callable[..., Any]
) -> None:
    admin = _bearer(make_user("admin", org=org, role="admin"))
    path = f"/api/v1/orgs/{org.slug}/sources/{feed.pk}"
    for body in ("[null, null]", "5", '{"nmae": "typo"}'):
        response = Client().patch(path, body, content_type="application/json", headers=admin)
        assert response.status_code == 422, (body, response.content)


def test_the_edit_page_shows_the_key_hidden_and_keeps_it(
    feed: Any, org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    client = verified_client(make_user("admin", org=org, role="admin"))
    url = f"/o/{org.slug}/sources/{feed.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert KEY not in html
    assert SHOWN.replace("&", "&amp;") in html
    form = {
        "name": feed.name,
        "kind": feed.kind,
        "enabled": "on",
        "sync_interval_minutes": "30",
        "setting_url": SHOWN,
    }
    assert client.post(url, form).status_code == 302
    feed.refresh_from_db()
    assert (feed.settings, feed.sync_interval_minutes) == ({"url": FEED}, 30)
    assert KEY not in _audit_text(org)


def test_the_audit_trail_never_holds_the_key(feed: Any, org: Any) -> None:
    from beffroi.audit.services import Actor, snapshot
    from beffroi.sources.services import update_source

    feed.cursor = {"feed": FEED, "url": FEED, "seen": ["a"]}
    feed.save(update_fields=["cursor"])
    update_source(Actor.system(), feed, settings={"url": FEED.replace("lang=fr", "lang=de")})
    text = _audit_text(org)
    assert KEY not in text
    assert REDACTED in text
    assert snapshot(feed)["cursor"]["feed"] == SHOWN


def test_the_veille_records_listened_hashtags_without_the_secrets(org: Any) -> None:
    from beffroi.sources.models import Source
    from beffroi.veille.models import Watch
    from beffroi.veille.watch_query import sync_listening

    Source.objects.create(
        organization=org,
        name="Mastodon",
        platform="mastodon",
        settings={"instance": f"https://bot:{KEY}@social.example"},
    )
    Watch.objects.create(organization=org, name="Eau", query="#eau", listen=True)
    assert sync_listening(org) == ["eau"]
    text = _audit_text(org)
    assert "eau" in text
    assert KEY not in text
