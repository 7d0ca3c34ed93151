"""Language switch (French first, English second) and CSRF protection of every form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_pages_are_in_french_by_default(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="fr">' in html
    assert "Connexion" in html or "Se connecter" in html
    assert "Nom d’utilisateur" in html or "Nom d'utilisateur" in html


def test_switch_to_english_and_back(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    client = verified_client(make_user("alice", org=org, role="viewer"))
    french = client.get("/o/ville-test/inbox/").content.decode()
    assert '<html lang="fr">' in french and "Boîte de réception" in french

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/o/ville-test/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/o/ville-test/inbox/"
    english = client.get("/o/ville-test/inbox/").content.decode()
    assert '<html lang="en">' in english
    assert ">Inbox<" in english and "Boîte de réception" not in english

    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert '<html lang="fr">' in client.get("/o/ville-test/inbox/").content.decode()


def test_language_switcher_is_a_post_form_with_csrf(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    start = html.index('action="/i18n/setlang/"')
    form = html[html.rindex("<form", 0, start) : html.index("</form>", start)]
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    assert 'value="fr"' in form and 'value="en"' in form


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/tokens/new/",
        "/o/ville-test/settings/members/invite/",
        "/o/ville-test/settings/",
        "/i18n/setlang/",
    ],
)
def test_post_without_csrf_token_is_refused(
    path: str, org: Any, make_user: Callable[..., Any]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = make_user("boss", org=org, role="admin")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    response = client.post(path, {"username": "boss", "password": PASSWORD, "name": "x"})
    assert response.status_code == 403


def test_post_with_csrf_token_is_accepted(make_user: Callable[..., Any]) -> None:
    make_user("alice")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
