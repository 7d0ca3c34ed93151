"""Every API operation, every kind of caller.

The operations are read from the generated OpenAPI document, so an endpoint added later
cannot escape: the test fails until it is added to ``MATRIX`` with its required capability
and a way to build a valid request for it.

For each operation: no token, a revoked token and an expired token answer 401; a member of
another organization gets 404 (organization-scoped operations); and each role gets a 2xx
answer to a valid request when ``ROLE_CAPABILITIES`` allows the capability, else 403. Two
more columns for each role the operation allows:

- another organization's object: the same path with the ids of the other organization's
  objects (``…_id`` parameters) answers 404 and writes nothing
  (``tests/api/test_api_cross_organization.py`` probes every operation as the other
  organization's administrator, version numbers and query filters included);
- the audit event: every change (POST, PATCH, DELETE) writes an audit event of the
  organization through the API channel, unless the operation is in ``NOT_AUDITED``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.api.auth import AUTHENTICATED, CAPABILITY_EXTENSION
from beffroi.api.urls import api as ninja_api
from beffroi.organizations.roles import ROLE_CAPABILITIES, Capability, Role
from tests.briefs import factories as briefs

PREFIX = "/api/v1"
METHODS = {"get", "post", "put", "patch", "delete"}


@dataclass
class World:
    """Objects of the target organization, created fresh for each case."""

    org: Any
    source: Any
    remote_source: Any
    item: Any
    author: Any
    job: Any
    new_member: Callable[[], Any]
    new_user: Callable[[], Any]


# (params, body) for a valid request to the operation, built from a fresh World once the
# caller is a member of it.
Builder = Callable[[World], tuple[dict[str, Any], Any]]


def _no_params(world: World) -> tuple[dict[str, Any], Any]:
    return {}, None


def _org(world: World) -> tuple[dict[str, Any], Any]:
    return {"slug": world.org.slug}, None


def _with_charter(world: World) -> tuple[dict[str, Any], Any]:
    """The organization, with the default charter live (version 1)."""
    from beffroi.charter.services import ensure_default_charter

    ensure_default_charter(world.org)
    return {"slug": world.org.slug}, None


def _invitation(world: World) -> Any:
    """An open invitation of the organization to a new account."""
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import invite

    return invite(Actor.system(), world.org, world.new_user().username, "viewer")


def _conversation(world: World) -> dict[str, Any]:
    """The organization and a citizen's conversation about its item."""
    from beffroi.conversations.models import Conversation

    item = world.item
    conversation, _made = Conversation.objects.get_or_create(
        organization=world.org,
        key=f"api-matrix:{item.pk}",
        defaults={
            "kind": "public",
            "source": item.source,
            "platform": item.platform,
            "author": item.author,
            "root": item,
            "opened_at": item.created_at,
            "last_citizen_at": item.created_at,
        },
    )
    conversation.items.add(item)
    return {"slug": world.org.slug, "conversation_id": conversation.pk}


def _team(world: World) -> str:
    from beffroi.conversations.models import Team

    return Team.objects.get_or_create(organization=world.org, slug="voirie", name="Voirie")[0].slug


def _draft(world: Any, *, submitted: bool = False) -> Any:
    """A post of the organization from its Mastodon account, written by no member; submitted,
    it is approved at once (no workflow) or waits in review (with ``_in_review``'s)."""
    from beffroi.audit.services import Actor
    from beffroi.publishing import services

    post = services.save_post(
        Actor.system(),
        world.org,
        [services.VariantInput(world.remote_source, text="Marché de Noël samedi.")],
        title="Marché",
    )
    return services.submit(Actor.system(), post) if submitted else post


def _post(world: World, *, submitted: bool = False) -> dict[str, Any]:
    return {"slug": world.org.slug, "post_id": _draft(world, submitted=submitted).pk}


def _in_review(world: World) -> tuple[dict[str, Any], Any]:
    """A post waiting for a step whose group is every member whose role may approve (the
    caller among them, when it may)."""
    from django.contrib.auth import get_user_model

    from beffroi.publishing.models import ApprovalStep, ApprovalWorkflow, Post

    approving = [
        role for role, allowed in ROLE_CAPABILITIES.items() if Capability.APPROVE in allowed
    ]
    workflow = ApprovalWorkflow.objects.create(organization=world.org, name="Cabinet")
    step = ApprovalStep.objects.create(workflow=workflow, name="Cabinet du maire")
    step.approvers.set(
        get_user_model().objects.filter(
            memberships__organization=world.org, memberships__role__in=approving
        )
    )
    params = _post(world, submitted=True)
    seen = Post.objects.get(pk=params["post_id"]).content_hash
    return params, {"seen_hash": seen, "comment": "Vu"}


def _pause(world: Any) -> Any:
    from beffroi.audit.services import Actor
    from beffroi.publishing import services

    return services.pause(Actor.system(), world.org, "Crise")


def _library_entry(world: World, *, submitted: bool = False) -> dict[str, Any]:
    """A counter-speech entry of the organization written from the command line (by no
    member, so that every role may approve it); in review when ``submitted``."""
    from beffroi.counterspeech import services
    from beffroi.counterspeech.validation import EntryData
    from beffroi.organizations.context import OrgContext

    data = EntryData(strategy="facts", title="Eau", texts=[("fr", "L'eau est contrôlée.")])
    ctx = OrgContext.for_command_line(world.org, "matrix")
    entry = services.create_entry(ctx, data, submit=submitted)
    return {"slug": world.org.slug, "entry_id": entry.pk}


MATRIX: dict[tuple[str, str], tuple[Capability | None, Builder]] = {
    ("GET", "/orgs"): (None, _no_params),
    ("GET", "/orgs/{slug}"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/stats"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/items"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/items/{item_id}"): (
        Capability.VIEW,
        lambda w: ({"slug": w.org.slug, "item_id": w.item.pk}, None),
    ),
    ("GET", "/orgs/{slug}/authors/{author_id}"): (
        Capability.VIEW,
        lambda w: ({"slug": w.org.slug, "author_id": w.author.pk}, None),
    ),
    ("GET", "/orgs/{slug}/sources"): (Capability.VIEW, _org),
    ("POST", "/orgs/{slug}/sources"): (
        Capability.MANAGE,
        lambda w: (
            {"slug": w.org.slug},
            {"name": "New import", "platform": "file", "kind": "import"},
        ),
    ),
    ("PATCH", "/orgs/{slug}/sources/{source_id}"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug, "source_id": w.source.pk}, {"name": "Renamed"}),
    ),
    ("POST", "/orgs/{slug}/sources/{source_id}/sync"): (
        Capability.INGEST,
        lambda w: ({"slug": w.org.slug, "source_id": w.remote_source.pk}, None),
    ),
    ("GET", "/orgs/{slug}/jobs/{job_id}"): (
        Capability.VIEW,
        lambda w: ({"slug": w.org.slug, "job_id": w.job.pk}, None),
    ),
    ("GET", "/orgs/{slug}/decisions"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/cases"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/members"): (Capability.MANAGE, _org),
    ("PATCH", "/orgs/{slug}/members/{member_id}"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug, "member_id": w.new_member().pk}, {"role": "analyst"}),
    ),
    ("DELETE", "/orgs/{slug}/members/{member_id}"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug, "member_id": w.new_member().pk}, None),
    ),
    ("GET", "/orgs/{slug}/invitations"): (Capability.MANAGE, _org),
    ("POST", "/orgs/{slug}/invitations"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug}, {"identifier": w.new_user().username, "role": "viewer"}),
    ),
    ("POST", "/orgs/{slug}/invitations/{invitation_id}/revoke"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug, "invitation_id": _invitation(w).pk}, None),
    ),
    ("GET", "/orgs/{slug}/audit"): (Capability.MANAGE, _org),
    ("GET", "/orgs/{slug}/charter"): (Capability.VIEW, _with_charter),
    ("GET", "/orgs/{slug}/alerts"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/watches"): (Capability.ANALYZE, _org),
    ("POST", "/orgs/{slug}/watches"): (
        Capability.ANALYZE,
        lambda w: ({"slug": w.org.slug}, {"name": f"w{w.item.pk}", "query": "eau OR water"}),
    ),
    ("GET", "/orgs/{slug}/narratives"): (Capability.READ_VEILLE, _org),
    ("GET", "/orgs/{slug}/claims"): (Capability.READ_VEILLE, _org),
    ("GET", "/orgs/{slug}/claim-matches"): (Capability.READ_VEILLE, _org),
    ("GET", "/orgs/{slug}/campaigns"): (Capability.READ_VEILLE, _org),
    ("GET", "/orgs/{slug}/impersonators"): (Capability.READ_VEILLE, _org),
    ("GET", "/orgs/{slug}/charter/versions"): (Capability.VIEW, _with_charter),
    ("GET", "/orgs/{slug}/charter/versions/{number}/yaml"): (
        Capability.VIEW,
        lambda w: ({**_with_charter(w)[0], "number": 1}, None),
    ),
    ("GET", "/orgs/{slug}/conversations"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/conversations/response-times"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/conversations/saved-replies"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/conversations/{conversation_id}"): (
        Capability.VIEW,
        lambda w: (_conversation(w), None),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/assign"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"assignee": w.new_member().user.username}),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/state"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"state": "closed"}),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/team"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"team": _team(w)}),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/labels"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"labels": ["voirie"]}),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/notes"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"text": "À voir avec la voirie"}),
    ),
    ("POST", "/orgs/{slug}/conversations/{conversation_id}/replies"): (
        Capability.ANSWER,
        lambda w: (_conversation(w), {"text": "Bonjour", "key": f"key-{w.item.pk}"}),
    ),
    ("GET", "/orgs/{slug}/posts"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/posts/{post_id}"): (Capability.VIEW, lambda w: (_post(w), None)),
    ("POST", "/orgs/{slug}/posts"): (
        Capability.PUBLISH,
        lambda w: (
            {"slug": w.org.slug},
            {"variants": [{"account_id": w.remote_source.pk, "text": "Marché samedi."}]},
        ),
    ),
    ("PATCH", "/orgs/{slug}/posts/{post_id}"): (
        Capability.PUBLISH,
        lambda w: (_post(w), {"title": "Marché de Noël"}),
    ),
    ("POST", "/orgs/{slug}/posts/{post_id}/submit"): (
        Capability.PUBLISH,
        lambda w: (_post(w), None),
    ),
    ("POST", "/orgs/{slug}/posts/{post_id}/approve"): (Capability.APPROVE, _in_review),
    ("POST", "/orgs/{slug}/posts/{post_id}/reject"): (Capability.APPROVE, _in_review),
    ("POST", "/orgs/{slug}/posts/{post_id}/schedule"): (
        Capability.PUBLISH,
        lambda w: (_post(w), {"scheduled_at": (timezone.now() + timedelta(days=1)).isoformat()}),
    ),
    ("POST", "/orgs/{slug}/posts/{post_id}/publish-now"): (
        Capability.PUBLISH,
        lambda w: (_post(w, submitted=True), None),
    ),
    ("POST", "/orgs/{slug}/posts/{post_id}/suspend"): (
        Capability.PUBLISH,
        lambda w: (_post(w, submitted=True), {"reason": "Erreur de date"}),
    ),
    ("GET", "/orgs/{slug}/calendar"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/pause"): (Capability.VIEW, _org),
    ("POST", "/orgs/{slug}/pause"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug}, {"reason": "Inondation"}),
    ),
    ("POST", "/orgs/{slug}/pause/{pause_id}/resume"): (
        Capability.MANAGE,
        lambda w: ({"slug": w.org.slug, "pause_id": _pause(w).pk}, None),
    ),
    ("GET", "/orgs/{slug}/media"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/counter-speech/entries"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/counter-speech/entries/{entry_id}"): (
        Capability.VIEW,
        lambda w: (_library_entry(w), None),
    ),
    ("POST", "/orgs/{slug}/counter-speech/entries"): (
        Capability.ANSWER,
        lambda w: (
            {"slug": w.org.slug},
            {"strategy": "facts", "texts": {"fr": "L'eau est contrôlée."}, "title": "Eau"},
        ),
    ),
    ("PATCH", "/orgs/{slug}/counter-speech/entries/{entry_id}"): (
        Capability.ANSWER,
        lambda w: (_library_entry(w), {"title": "Eau du robinet"}),
    ),
    ("POST", "/orgs/{slug}/counter-speech/entries/{entry_id}/submit"): (
        Capability.ANSWER,
        lambda w: (_library_entry(w), None),
    ),
    ("POST", "/orgs/{slug}/counter-speech/entries/{entry_id}/approve"): (
        Capability.APPROVE,
        lambda w: (_library_entry(w, submitted=True), {}),
    ),
    ("POST", "/orgs/{slug}/counter-speech/entries/{entry_id}/send-back"): (
        Capability.APPROVE,
        lambda w: (_library_entry(w, submitted=True), {"comment": "Citer la source"}),
    ),
    ("POST", "/orgs/{slug}/counter-speech/entries/{entry_id}/retire"): (
        Capability.APPROVE,
        lambda w: (_library_entry(w), {}),
    ),
    ("POST", "/orgs/{slug}/counter-speech/export"): (
        Capability.VIEW,
        lambda w: ({"slug": w.org.slug}, {"format": "json"}),
    ),
    ("GET", "/orgs/{slug}/briefs"): (Capability.VIEW, _org),
    ("POST", "/orgs/{slug}/briefs"): (
        Capability.APPROVE,
        lambda w: ({"slug": w.org.slug}, {"title": "Rumeur sur l'eau"}),
    ),
    ("GET", "/orgs/{slug}/briefs/{brief_id}"): (Capability.VIEW, briefs.api_brief),
    ("POST", "/orgs/{slug}/briefs/{brief_id}/send"): (Capability.APPROVE, briefs.api_send),
    ("POST", "/orgs/{slug}/briefs/{brief_id}/close"): (Capability.APPROVE, briefs.api_brief),
    ("POST", "/orgs/{slug}/briefs/{brief_id}/export"): (Capability.APPROVE, briefs.api_export),
    ("POST", "/orgs/{slug}/briefs/responses/import"): (
        Capability.APPROVE,
        briefs.api_import_responses,
    ),
    ("GET", "/orgs/{slug}/briefs/received"): (Capability.VIEW, _org),
    ("GET", "/orgs/{slug}/briefs/received/{delivery_id}"): (Capability.VIEW, briefs.api_delivery),
    ("POST", "/orgs/{slug}/briefs/received/{delivery_id}/responses"): (
        Capability.ANSWER,
        briefs.api_declare,
    ),
    ("POST", "/orgs/{slug}/briefs/received/{delivery_id}/export"): (
        Capability.ANSWER,
        briefs.api_report,
    ),
    ("POST", "/orgs/{slug}/briefs/import"): (Capability.ANSWER, briefs.api_import),
}


def _operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    found = []
    for path, item in schema["paths"].items():
        assert path.startswith(PREFIX), path
        for method in item:
            if method in METHODS:
                found.append((method.upper(), path.removeprefix(PREFIX)))
    return sorted(found)


OPERATIONS = _operations()
ROLES = [role.value for role in Role]
CALLERS = ["no_token", "revoked_token", "expired_token", "other_org_member", *ROLES]


#: Changes that write no audit event, and why (none today: every change is audited).
NOT_AUDITED: dict[tuple[str, str], str] = {}
WRITES = {"POST", "PATCH", "DELETE"}


def test_every_operation_is_in_the_matrix() -> None:
    missing = sorted(set(OPERATIONS) - set(MATRIX))
    assert not missing, f"Add these operations to MATRIX with their capability: {missing}"
    stale = sorted(set(MATRIX) - set(OPERATIONS))
    assert not stale, f"MATRIX lists operations the API no longer has: {stale}"


def test_documented_capability_matches_the_matrix() -> None:
    schema = ninja_api.get_openapi_schema()
    for method, path in OPERATIONS:
        operation = schema["paths"][PREFIX + path][method.lower()]
        capability = MATRIX[(method, path)][0]
        expected = capability.value if capability is not None else AUTHENTICATED
        assert operation.get(CAPABILITY_EXTENSION) == expected, (method, path)
        assert operation.get("security") or schema.get("security"), (method, path)


def _world(
    org: Any,
    source: Any,
    make_user: Callable[..., Any],
    make_item: Callable[..., Any],
    stem: str = "",
) -> World:
    from beffroi.jobs.models import Job
    from beffroi.organizations.models import Membership
    from beffroi.sources.models import Source

    remote = Source.objects.create(organization=org, name="Mastodon", platform="mastodon")
    item = make_item(source, raw={"id": "status-1"})
    job = Job.objects.create(name="sources.sync", organization=org, payload={})
    counter = {"n": 0}

    def new_user() -> Any:
        counter["n"] += 1
        return make_user(f"{stem}newcomer-{counter['n']}")

    def new_member() -> Membership:
        return Membership.objects.create(user=new_user(), organization=org, role=Role.VIEWER)

    return World(org, source, remote, item, item.author, job, new_member, new_user)


@pytest.fixture
def world(
    org: Any, source: Any, make_user: Callable[..., Any], make_item: Callable[..., Any]
) -> World:
    return _world(org, source, make_user, make_item)


def _theirs(other_org: Any, make_user: Callable[..., Any], make_item: Callable[..., Any]) -> World:
    """The same objects, in another organization."""
    from beffroi.sources.models import Source

    source = Source.objects.create(
        organization=other_org, name="Import", platform="file", kind="import"
    )
    return _world(other_org, source, make_user, make_item, stem="theirs-")


def _last_event() -> int:
    from beffroi.audit.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_since(last: int, **match: Any) -> list[str]:
    from beffroi.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(pk__gt=last, **match).values_list("action", flat=True))


@pytest.mark.postgres_runs_only(caller=("admin", "other_org_member"))
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_permission_matrix(
    method: str,
    path: str,
    caller: str,
    world: World,
    other_org: Any,
    make_user: Callable[..., Any],
    key_for: Callable[..., str],
    make_item: Callable[..., Any],
    api: Any,
) -> None:
    if (method, path) not in MATRIX:
        pytest.fail(f"{method} {path} is not in MATRIX")
    capability, build = MATRIX[(method, path)]
    org_scoped = "{slug}" in path

    key: str | None
    if caller == "no_token":
        key = None
    elif caller == "revoked_token":
        key = key_for(make_user("revoked", org=world.org, role="admin"), revoked=True)
    elif caller == "expired_token":
        past = timezone.now() - timedelta(minutes=1)
        key = key_for(make_user("expired", org=world.org, role="admin"), expires_at=past)
    elif caller == "other_org_member":
        key = key_for(make_user("stranger", org=other_org, role="admin"))
    else:
        key = key_for(make_user(f"as-{caller}", org=world.org, role=caller))
    # Built once the caller is a member: a post to approve waits for its approvers.
    params, body = build(world)
    url = PREFIX + path.format(**params)

    last = _last_event()
    response = api.call(method, url, key, body)
    text = response.content.decode()

    if caller in {"no_token", "revoked_token", "expired_token"}:
        assert response.status_code == 401, text
        assert response.json()["detail"]
        return
    if caller == "other_org_member":
        if org_scoped:
            assert response.status_code == 404, text
            assert "detail" in response.json()
        else:
            assert 200 <= response.status_code < 300, text
            assert world.org.slug not in text
        return

    allowed = capability is None or capability in ROLE_CAPABILITIES[caller]
    if not allowed:
        assert response.status_code == 403, f"{caller}: {response.status_code} {text}"
        assert response.json()["detail"]
        assert not _events_since(last), (method, path, caller)
        return
    assert 200 <= response.status_code < 300, f"{caller}: {response.status_code} {text}"
    if method in WRITES and (method, path) not in NOT_AUDITED:
        written = _events_since(last, organization=world.org, channel="api")
        assert written, f"{method} {path} ({caller}) wrote no audit event of the organization"

    ids = [name for name in params if name.endswith("_id")]
    if ids:
        # Another organization's objects in this organization's path: not found, nothing
        # written. (Their objects are made before counting: making some is audited.)
        their_params, _ = build(_theirs(other_org, make_user, make_item))
        theirs = params | {name: their_params[name] for name in ids}
        last = _last_event()
        response = api.call(method, PREFIX + path.format(**theirs), key, body)
        assert response.status_code == 404, f"theirs: {response.status_code} {response.content!r}"
        assert not _events_since(last), (method, path, caller, "theirs")
