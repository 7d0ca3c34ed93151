"""Real-time deliveries from Meta (Facebook Page and Instagram comments).

Meta calls one address per application (``/webhooks/meta/``, set in the app's Webhooks
product): ``GET`` to verify the subscription (``hub.mode``, ``hub.verify_token``,
``hub.challenge``), then ``POST`` for each change, signed with the app secret in
``X-Hub-Signature-256``. A delivery whose signature does not match is refused (403) and
nothing is read from it. Each comment it carries is stored in every enabled source that
reads the Page (or Instagram account) it concerns, exactly as a sync would store it (items
are unique per source and platform id, so the next sync adds nothing twice); the usual
moderation follows. Meta retries a delivery that is not answered 200, so the answer is
given once the items are stored.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from beffroi.connectors.base import ConnectorError, NormalizedItem
from beffroi.connectors.registry import connector_class
from beffroi.items.ingest import ingest
from beffroi.sources.models import Source

log = logging.getLogger(__name__)

#: The Meta app's secret signs deliveries; the verify token is chosen by the administrator.
APP_SECRET_ENV = "BEFFROI_OAUTH_FACEBOOK_CLIENT_SECRET"  # noqa: S105 (a variable name)
VERIFY_TOKEN_ENV = "BEFFROI_META_WEBHOOK_VERIFY_TOKEN"  # noqa: S105 (a variable name)
#: A delivery's ``object`` → the platform and the source setting naming the account.
OBJECTS = {"page": ("facebook", "page_id"), "instagram": ("instagram", "ig_user_id")}
#: Meta's deliveries are small; anything larger is not one of them.
MAX_BODY = 1024 * 1024


@csrf_exempt  # Meta cannot hold a CSRF token: the HMAC signature authenticates it
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    from beffroi.connectors import facebook

    if request.method == "GET":
        challenge = facebook.verify_subscription(
            {k: str(v) for k, v in request.GET.items()}, os.environ.get(VERIFY_TOKEN_ENV, "")
        )
        if challenge is None:
            return HttpResponse("Verification refused.", status=403, content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain")
    secret = os.environ.get(APP_SECRET_ENV, "")
    if not secret:
        return HttpResponse("Webhooks are not set up.", status=503, content_type="text/plain")
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    body = request.body
    if not facebook.verify_signature(secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("Meta webhook delivery with a bad signature refused")
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponse("Not JSON.", status=400, content_type="text/plain")
    if not isinstance(payload, dict) or payload.get("object") not in OBJECTS:
        return JsonResponse({"stored": 0, "ignored": True})
    return JsonResponse({"stored": store_delivery(payload)})


def store_delivery(payload: dict[str, Any]) -> int:
    """Store the items of a verified delivery in the sources that read their account."""
    platform, setting = OBJECTS[str(payload["object"])]
    try:
        by_account: dict[str, list[NormalizedItem]] = defaultdict(list)
        for account_id, item in connector_class(platform).webhook_items(payload):
            by_account[str(account_id)].append(item)
    except ConnectorError as exc:
        log.warning("Meta webhook delivery not understood: %s", exc)
        return 0
    stored = 0
    for account_id, items in by_account.items():
        sources = Source.objects.filter(
            platform=platform, enabled=True, **{f"settings__{setting}": account_id}
        ).select_related("organization")
        for source in sources:
            with transaction.atomic():
                stored += ingest(source, items).created
    return stored
