"""Two organizations for the cross-organization probes (no fixtures here: see conftest.py).

Organization B is filled through the web permission matrix's ``World`` (its objects are made
on first use), with a marker in what a page or an answer would show of them; ``fingerprint``
reads every row that belongs to an organization, so a probe can tell that B was left alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model

#: Shown by B's item, author and source: it must never reach organization A's admin.
MARKER = "zz-confidential-of-b"


def fill_world(org: Any, other_org: Any, make_user: Callable[..., Any], marker: str = "") -> Any:
    """The web permission matrix's ``World`` for ``org``: an item, its author, a source, a
    member, a user outside it, a token of a member; everything else is made on first use."""
    from beffroi.accounts.models import ApiToken
    from beffroi.organizations.models import Membership
    from beffroi.sources.models import Source
    from tests.web.factories import make_author, make_item
    from tests.web.test_permission_matrix import World

    stem = org.slug
    source = Source.objects.create(
        organization=org, name=f"Import {marker}".strip(), platform="file", kind="import"
    )
    author = make_author(org, f"{stem}-someone", display_name=f"Someone {marker}".strip())
    item = make_item(source, author, f"{stem}-x1", text=f"Hello {marker}".strip())
    target = make_user(f"{stem}-target", org=org, role="viewer")
    owner = make_user(f"{stem}-tokenowner", org=org, role="viewer")
    token, _key = ApiToken.issue(owner, "script")
    return World(
        org=org,
        other_org=other_org,
        source=source,
        author=author,
        item=item,
        target_membership=Membership.objects.get(user=target, organization=org),
        loose_user=make_user(f"{stem}-loose"),
        token_owner=owner,
        token=token,
    )


def owners(obj: Any) -> set[Any]:
    """The organizations an object belongs to: its own, that of what it hangs from (a rule's
    charter version), or, for an API token, its user's."""
    if hasattr(obj, "invitee"):  # an invitation: its organization's, and its invitee's
        invited = obj.invitee.memberships.all() if obj.invitee is not None else []
        return {obj.organization, *(membership.organization for membership in invited)}
    if hasattr(obj, "organization"):
        return {obj.organization}
    if hasattr(obj, "subscriber"):  # a library subscription: the subscriber's
        return {obj.subscriber}
    for field in obj._meta.concrete_fields:
        related = getattr(obj, field.name) if field.is_relation and field.many_to_one else None
        if hasattr(related, "organization"):
            return {related.organization}
    if hasattr(obj, "user"):
        return {membership.organization for membership in obj.user.memberships.all()}
    raise AssertionError(f"Cannot tell which organization {obj!r} belongs to")


def _organization_paths(model: Any) -> list[str]:
    """Lookups from ``model`` to its organization: direct, or through one relation."""
    from beffroi.organizations.models import Organization

    direct = _relations_to(model, Organization)
    if direct:
        return direct
    paths = []
    for field in model._meta.concrete_fields:
        target = field.related_model if field.is_relation else None
        if target is not None and target is not model:
            paths += [f"{field.name}__{path}" for path in _relations_to(target, Organization)]
    return paths


def _relations_to(model: Any, target: Any) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.related_model is target]


def fingerprint(org: Any) -> dict[str, str]:
    """A digest of every row of every model that belongs to ``org`` (directly or through one
    relation), plus its members' accounts and tokens: any change to them changes it."""
    from django.db.models import Q

    from beffroi.accounts.models import ApiToken

    digests: dict[str, str] = {}
    for model in apps.get_models():
        paths = _organization_paths(model)
        if not paths:
            continue
        where = Q()
        for path in paths:
            where |= Q(**{path: org})
        rows = list(model._default_manager.filter(where).order_by("pk").values())
        digests[model._meta.label] = _digest(rows)
    users = org.memberships.values_list("user_id", flat=True)
    digests["tokens"] = _digest(list(ApiToken.objects.filter(user__in=users).values()))
    accounts = get_user_model().objects.filter(pk__in=users).order_by("pk").values()
    digests["users"] = _digest(
        [{k: v for k, v in row.items() if k != "last_login"} for row in accounts]
    )
    return digests


def _digest(rows: list[dict[str, Any]]) -> str:
    text = json.dumps(rows, sort_keys=True, default=str)
    return f"{len(rows)}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


#: Text fields that pages and answers show; the marker goes into the first one an object has.
SHOWN_TEXT = ("name", "title", "reason", "clause", "statement", "shared", "text", "display_name")


def fill_everything(world: Any, marker: str) -> list[Any]:
    """Make every kind of object the permission matrix fills addresses with, and put
    ``marker`` into the text each shows; returns them."""
    from tests.web.test_permission_matrix import ORG_PAGES, OTHER_PAGES

    kinds = {page.pk for page in ORG_PAGES.values()} | {p.pk for p, _ in OTHER_PAGES.values()}
    made = [getattr(world, kind) for kind in sorted(k for k in kinds if k is not None)]
    for obj in made:
        fields = {f.name for f in obj._meta.concrete_fields}
        field = next((name for name in SHOWN_TEXT if name in fields), None)
        if field is not None and marker not in str(getattr(obj, field)):
            type(obj)._default_manager.filter(pk=obj.pk).update(
                **{field: f"{getattr(obj, field)} {marker}"}
            )
    return made
