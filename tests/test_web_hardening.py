"""What a browser is told and shown: http(s)-only links, the CSP, HSTS and the proxy's scheme."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, override_settings

from beffroi.connectors.values import web_address as http_url
from tests.web.hostile import HOSTILE_URLS, store_hostile_urls, unsafe_links

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "beffroi" / "templates"


@pytest.mark.parametrize(
    "value",
    ["https://ville.example/a?b=1#c", "http://ville.example", "HTTPS://VILLE.EXAMPLE/"],
)
def test_http_url_keeps_web_addresses(value: str) -> None:
    assert http_url(value) == value
    assert http_url(f"  {value}\n") == value


@pytest.mark.parametrize(
    "value",
    [
        *HOSTILE_URLS,
        "//evil.example/x",  # no scheme: would follow the page's
        "/o/ville/items/1/",
        "https:evil.example",  # a scheme without a host
        "http://[::1",  # unparsable
        "mailto:maire@ville.example",
        "file:///etc/passwd",
        "",
        None,
        42,
        ["https://ville.example"],
    ],
)
def test_http_url_refuses_everything_else(value: Any) -> None:
    assert http_url(value) == ""


def render(source: str, **context: Any) -> str:
    return Template("{% load links %}" + source).render(Context(context))


def test_filter_and_tag_link_only_http_addresses() -> None:
    assert render('<a href="{{ u|http_url }}">', u="https://a.example/?x=1&y=2") == (
        '<a href="https://a.example/?x=1&amp;y=2">'
    )
    assert render('<a href="{{ u|http_url }}">', u="javascript:alert(1)") == '<a href="">'
    assert render("{% external_link u %}", u="https://a.example/") == (
        '<a href="https://a.example/" rel="noopener noreferrer nofollow">https://a.example/</a>'
    )
    assert render("{% external_link u 'Vérif' %}", u="https://a.example/") == (
        '<a href="https://a.example/" rel="noopener noreferrer nofollow">Vérif</a>'
    )
    # Not http(s): the text, escaped, never a link.
    assert render("{% external_link u %}", u='javascript:alert("x")') == (
        "<code>javascript:alert(&quot;x&quot;)</code>"
    )
    assert render("{% external_link u 'Vérif' %}", u="vbscript:msgbox(1)") == "Vérif"
    assert render("{% external_link u %}", u="") == "<code></code>"


@pytest.fixture
def admin_client(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> Any:
    return verified_client(make_user("maire", org=org, role="admin"))


def test_pages_never_link_a_stored_hostile_address(
    org: Any, source: Any, admin_client: Any
) -> None:
    pages = store_hostile_urls(org, source)
    problems = []
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        problems += [f"{page}: {link}" for link in unsafe_links(response.content.decode())]
    assert not problems, "\n".join(problems)
    # The addresses are still shown, as text: they are evidence.
    item_page = admin_client.get(pages[0]).content.decode()
    assert "<code>JaVaScRiPt:window.__xss=1;alert(1)</code>" in item_page
    assert "<code>vbscript:msgbox(1)</code>" in item_page


def test_unsafe_links_finds_a_script_address() -> None:
    """The check above can fail: a javascript: link in any disguise is caught."""
    assert unsafe_links('<a href="/ok">') == []
    assert unsafe_links('<a href="https://ok.example">') == []
    assert unsafe_links('<a href=" JavaScript:alert(1)">')
    assert unsafe_links('<a href="&#106;avascript:alert(1)">')  # entities are decoded
    assert unsafe_links('<img src="data:text/html,x">')


def test_templates_have_no_inline_script_or_style() -> None:
    """The CSP refuses inline scripts, inline styles and event handler attributes."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|\sstyle=|\son[a-z]+=",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in inline.finditer(path.read_text())
    ]
    assert not found, "\n".join(found)


def csp(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_every_page_sends_the_content_security_policy(admin_client: Any, org: Any) -> None:
    policy = csp(admin_client.get(f"/o/{org.slug}/items/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in json.dumps(policy) and "'unsafe-eval'" not in json.dumps(policy)
    # The login page and the API documentation too.
    assert csp(Client().get("/accounts/login/"))["script-src"] == ["'self'"]
    assert csp(Client().get("/api/v1/docs"))["script-src"] == ["'self'"]


def test_sources_page_lets_the_connect_buttons_reach_the_platform(
    admin_client: Any, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connect form's answer redirects to the platform: form-action must allow it."""
    page = f"/o/{org.slug}/sources/"
    assert csp(admin_client.get(page))["form-action"] == ["'self'"]
    monkeypatch.setenv("BEFFROI_OAUTH_FACEBOOK_CLIENT_ID", "app")
    monkeypatch.setenv("BEFFROI_OAUTH_FACEBOOK_CLIENT_SECRET", "secret")
    monkeypatch.setenv("BEFFROI_OAUTH_FACEBOOK_AUTHORIZE_URL", "https://auth.example:8443/dialog")
    assert csp(admin_client.get(page))["form-action"] == ["'self'", "https://auth.example:8443"]
    # Other pages keep form-action 'self'.
    assert csp(admin_client.get(f"/o/{org.slug}/items/"))["form-action"] == ["'self'"]


# --- HTTPS behind a reverse proxy ------------------------------------------------------------

SECURE = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}


@pytest.mark.django_db
@override_settings(**SECURE, SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=True)
def test_behind_a_proxy_https_requests_get_hsts_and_http_ones_a_redirect() -> None:
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    secure = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    # The proxy's health check may use plain HTTP.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_the_forwarded_scheme_is_what_lets_https_forms_pass_the_csrf_check() -> None:
    """Django checks a POST's Origin against the request's scheme: behind a proxy ending
    TLS, that scheme comes from X-Forwarded-Proto, or every login fails with a 403."""
    # What nginx or Caddy passes on: the browser's Host and Origin, and the scheme it used.
    proxied = {"Host": "testserver", "X-Forwarded-Proto": "https", "Origin": "https://testserver"}

    def post_login() -> int:
        client = Client(enforce_csrf_checks=True)
        client.get("/accounts/login/")
        token = client.cookies["csrftoken"].value
        data = {"csrfmiddlewaretoken": token, "username": "x", "password": "y"}
        return client.post("/accounts/login/", data, headers=proxied).status_code

    assert post_login() == 403
    with override_settings(**SECURE):
        assert post_login() == 200  # the form, with "wrong password"


def _settings_with(env: dict[str, str]) -> dict[str, Any]:
    """Import the settings in a fresh interpreter with ``env``: they are read at import."""
    code = (
        "import json\n"
        "try:\n"
        "    from beffroi.web import settings as s\n"
        "except Exception as exc:\n"
        "    print(json.dumps({'error': f'{type(exc).__name__}: {exc}'}))\n"
        "else:\n"
        "    names = ['SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT',\n"
        "             'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE']\n"
        "    print(json.dumps({n: getattr(s, n, None) for n in names}))\n"
    )
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BEFFROI_HTTPS", "BEFFROI_HSTS", "BEFFROI_BEHIND", "BEFFROI_SSL"))
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_settings_from_the_environment() -> None:
    assert _settings_with({}) == {
        "SECURE_HSTS_SECONDS": None,
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": None,
        "CSRF_COOKIE_SECURE": None,
    }
    assert _settings_with(
        {"BEFFROI_HTTPS": "1", "BEFFROI_BEHIND_PROXY": "yes", "BEFFROI_SSL_REDIRECT": "true"}
    ) == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }
    assert (
        _settings_with({"BEFFROI_HTTPS": "1", "BEFFROI_HSTS_SECONDS": "0"})["SECURE_HSTS_SECONDS"]
        == 0
    )
    # Bad input is refused with a sentence, not ignored.
    refused = _settings_with({"BEFFROI_HTTPS": "1", "BEFFROI_HSTS_SECONDS": "one year"})
    assert "BEFFROI_HSTS_SECONDS must be a whole number" in refused["error"]
    loop = _settings_with({"BEFFROI_SSL_REDIRECT": "1"})
    assert "BEFFROI_SSL_REDIRECT=1 needs BEFFROI_BEHIND_PROXY=1" in loop["error"]


def _scheme_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    seen = {
        "scheme": environ["wsgi.url_scheme"],
        "forwarded": environ.get("HTTP_X_FORWARDED_PROTO"),
    }
    return [json.dumps(seen).encode()]


@pytest.fixture
def waitress_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., dict[str, Any]]]:
    """``beffroi serve``'s waitress, with its proxy options for the given environment."""
    from waitress import create_server

    from beffroi.cli import proxy_options

    servers = []

    def ask(env: dict[str, str]) -> dict[str, Any]:
        for key in ("BEFFROI_BEHIND_PROXY", "BEFFROI_PROXY_ADDRESS"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        server = create_server(_scheme_app, host="127.0.0.1", port=0, **proxy_options())
        servers.append(server)
        threading.Thread(target=server.run, daemon=True).start()
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.effective_port}/",  # type: ignore[union-attr]
            headers={"X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return dict(json.loads(answer.read()))

    yield ask
    for server in servers:
        server.close()


def test_beffroi_serve_believes_the_forwarded_scheme_from_the_proxy_only(
    waitress_with: Callable[..., dict[str, Any]],
) -> None:
    # Not behind a proxy: waitress drops the header, whoever sends it.
    assert waitress_with({}) == {"scheme": "http", "forwarded": None}
    # Behind a proxy on this machine (the default address): believed.
    assert waitress_with({"BEFFROI_BEHIND_PROXY": "1"}) == {
        "scheme": "https",
        "forwarded": "https",
    }
    # A proxy elsewhere: this request did not come from it, so it is not believed.
    assert waitress_with({"BEFFROI_BEHIND_PROXY": "1", "BEFFROI_PROXY_ADDRESS": "10.0.0.9"}) == {
        "scheme": "http",
        "forwarded": None,
    }
