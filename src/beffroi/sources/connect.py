"""Connecting an account with the platform's OAuth flow, from the sources page.

1. ``connect_start`` (POST, administrators) sends the browser to the platform with a fresh
   ``state`` and PKCE verifier kept in the session;
2. the platform sends it back to the one callback address of the instance
   (``/sources/oauth/callback/``, registered on the platform), where ``oauth_callback`` checks
   the state and the administrator's rights again, trades the code for a token and asks the
   connector which accounts the token opens (Facebook Pages, a YouTube channel…);
3. one account (or a reconnection) is connected at once; several are offered in
   ``connect_choose``. Tokens waiting for that choice stay in the session encrypted.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from beffroi.audit.models import AuditEvent
from beffroi.connectors import oauth
from beffroi.connectors.base import ConnectedAccount, Connector, ConnectorError, OAuthSpec
from beffroi.connectors.registry import available, connector_class
from beffroi.core.crypto import decrypt_json, encrypt_json
from beffroi.organizations.access import org_view, resolve
from beffroi.organizations.context import OrgContext, OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability
from beffroi.sources import services
from beffroi.sources.credentials import build_connector
from beffroi.sources.models import Source

log = logging.getLogger(__name__)

STATE_KEY = "beffroi_oauth_states"
PENDING_KEY = "beffroi_oauth_pending"
#: Seconds a sign-in may take on the platform.
STATE_TTL = 900
SIGN_IN_OVER = gettext_noop(
    "This sign-in is no longer valid: this session did not start it, or it took more than "
    "15 minutes. Start the connection again from the Sources page."
)
#: Sign-ins started and not finished that a session keeps.
MAX_STATES = 5


def oauth_platforms() -> list[dict[str, Any]]:
    """Platforms with an OAuth flow, their label and whether this instance has the app."""
    found = []
    for platform in available():
        try:
            cls = connector_class(platform)
        except Exception:  # a broken third-party connector must not break the page
            log.exception("connector %s cannot be loaded", platform)
            continue
        if cls.oauth is None:
            continue
        client = oauth.client_for(platform, cls.oauth)
        found.append(
            {
                "platform": platform,
                "label": cls.label,
                "configured": client is not None,
                "authorize_origin": _origin(client.authorize_url) if client else "",
                "env": oauth.env_prefix(platform),
                "doc": cls.setup_doc,
            }
        )
    return found


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allow_sign_in_redirects(response: HttpResponse, entries: list[dict[str, Any]]) -> None:
    """Let the page's connect buttons reach the platforms' authorization pages.

    The buttons post to ``connect_start``, whose answer redirects to the platform, and
    browsers check that redirect against the page's ``form-action`` (``'self'`` by default).
    """
    origins = sorted({e["authorize_origin"] for e in entries if e["authorize_origin"]})
    if origins:
        # What django-csp's @csp_update sets; the list depends on the server's OAuth apps.
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]


def _spec(platform: str) -> tuple[type[Connector], OAuthSpec]:
    try:
        cls = connector_class(platform)
    except ConnectorError as exc:
        raise Http404(str(exc)) from exc
    if cls.oauth is None:
        raise Http404(_("This platform is not connected with OAuth."))
    return cls, cls.oauth


def callback_url(request: HttpRequest) -> str:
    path = reverse("oauth_callback")
    public = str(getattr(settings, "BEFFROI_PUBLIC_URL", "") or "")
    return public.rstrip("/") + path if public else request.build_absolute_uri(path)


@org_view(Capability.MANAGE)
@require_POST
def connect_start(request: OrgRequest, platform: str) -> HttpResponse:
    organization = request.org.organization
    cls, spec = _spec(platform)
    client = oauth.client_for(platform, spec)
    if client is None:
        messages.error(
            request,
            _(
                "%(platform)s is not set up on this Beffroi server: its administrator must "
                "create an application on the platform and set %(env)sCLIENT_ID and "
                "%(env)sCLIENT_SECRET (see the documentation)."
            )
            % {"platform": cls.label, "env": oauth.env_prefix(platform)},
        )
        return redirect("sources:list", org_slug=organization.slug)
    reconnect_id = request.POST.get("source", "")
    if reconnect_id and not reconnect_id.isdigit():
        raise Http404(_("No such source."))
    reconnect = None
    if reconnect_id:
        reconnect = request.org.get(Source.objects.filter(platform=platform), pk=reconnect_id)
    authorization = oauth.authorization_request(client, spec, callback_url(request))
    states = dict(request.session.get(STATE_KEY) or {})
    states[authorization.state] = {
        "organization": organization.pk,
        "platform": platform,
        "verifier": authorization.code_verifier,
        "source": reconnect.pk if reconnect else None,
        "at": time.time(),
    }
    newest = sorted(states.items(), key=lambda kv: kv[1]["at"])[-MAX_STATES:]
    request.session[STATE_KEY] = dict(newest)
    services.start_connection(request.org.actor, organization, platform, reconnect=reconnect)
    return redirect(authorization.url)


def _api_settings(platform: str, client: oauth.OAuthClient) -> dict[str, Any]:
    """What ``accounts_from_token`` may need: the app (never stored) and an API address."""
    api_url = os.environ.get(f"{oauth.env_prefix(platform)}API_URL", "").strip()
    values: dict[str, Any] = {"client_id": client.client_id, "client_secret": client.client_secret}
    if api_url:
        values["base_url"] = api_url
    return values


def _stored_settings(account: ConnectedAccount) -> ConnectedAccount:
    kept = {k: v for k, v in account.settings.items() if k not in ("client_id", "client_secret")}
    return ConnectedAccount(account.name, kept, account.credentials)


@login_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    states = dict(request.session.get(STATE_KEY) or {})
    pending = states.pop(request.GET.get("state", ""), None)
    request.session[STATE_KEY] = states
    if pending is None or time.time() - float(pending["at"]) > STATE_TTL:
        messages.error(request, _(SIGN_IN_OVER))
        return redirect("core:home")
    org = get_object_or_404(Organization, pk=pending["organization"])
    context = resolve(request.user, org.slug, Capability.MANAGE, AuditEvent.Channel.UI)
    organization = context.organization
    platform = str(pending["platform"])
    cls, spec = _spec(platform)
    back = redirect("sources:list", org_slug=organization.slug)
    if request.GET.get("error"):
        messages.error(
            request,
            _("%(platform)s did not give access: %(reason)s")
            % {
                "platform": cls.label,
                "reason": request.GET.get("error_description") or request.GET["error"],
            },
        )
        return back
    client = oauth.client_for(platform, spec)
    if client is None:
        raise Http404(_("This platform is not set up on this server."))
    try:
        token = oauth.exchange_code(
            client,
            spec,
            code=request.GET.get("code", ""),
            redirect_uri=callback_url(request),
            code_verifier=pending.get("verifier"),
        )
        accounts = cls.accounts_from_token(token, _api_settings(platform, client))
    except ConnectorError as exc:
        messages.error(request, str(exc))
        return back
    accounts = [_stored_settings(a) for a in accounts]
    if not accounts:
        messages.error(
            request,
            _("%(platform)s gave access to no account that Beffroi can read.")
            % {"platform": cls.label},
        )
        return back
    reconnect = None
    if pending.get("source"):
        reconnect = context.scoped(Source).filter(platform=platform, pk=pending["source"]).first()
    if reconnect is not None or len(accounts) == 1:
        _connect(request, context, platform, accounts, reconnect)
        return back
    request.session[PENDING_KEY] = encrypt_json(
        {
            "organization": organization.pk,
            "platform": platform,
            "at": time.time(),
            "accounts": [
                {"name": a.name, "settings": dict(a.settings), "credentials": dict(a.credentials)}
                for a in accounts
            ],
        }
    )
    return redirect("sources:connect_choose", org_slug=organization.slug)


def _connect(
    request: HttpRequest,
    context: OrgContext,
    platform: str,
    accounts: list[ConnectedAccount],
    reconnect: Source | None,
) -> None:
    done = services.connect_accounts(
        context.actor, context.organization, platform, accounts, reconnect=reconnect
    )
    names = ", ".join(f"“{s.name}”" for s in done)
    messages.success(request, _("Connected: %(names)s.") % {"names": names})
    for source in done:
        connector = build_connector(source)
        try:
            connector.on_connected()
        except ConnectorError as exc:
            messages.warning(
                request,
                _("“%(name)s” is connected, but the platform refused a setting: %(error)s")
                % {"name": source.name, "error": exc},
            )
        finally:
            connector.close()


@org_view(Capability.MANAGE)
def connect_choose(request: OrgRequest) -> HttpResponse:
    organization = request.org.organization
    raw = request.session.get(PENDING_KEY)
    data = decrypt_json(raw) if raw else {}
    if (
        not data
        or data.get("organization") != organization.pk
        or time.time() - float(data.get("at", 0)) > STATE_TTL
    ):
        return render(
            request, "sources/connect_choose.html", {"nav": "sources", "over": _(SIGN_IN_OVER)}
        )
    accounts = [
        ConnectedAccount(a["name"], a["settings"], a["credentials"]) for a in data["accounts"]
    ]
    cls = connector_class(str(data["platform"]))
    if request.method == "POST":
        chosen = {int(i) for i in request.POST.getlist("account") if i.isdigit()}
        selected = [a for n, a in enumerate(accounts) if n in chosen]
        if selected:
            del request.session[PENDING_KEY]
            _connect(request, request.org, str(data["platform"]), selected, None)
            return redirect("sources:list", org_slug=organization.slug)
        messages.error(request, _("Choose at least one account."))
    return render(
        request,
        "sources/connect_choose.html",
        {
            "nav": "sources",
            "platform_label": cls.label,
            "accounts": [(n, a.name) for n, a in enumerate(accounts)],
        },
    )
