"""Every change to the veille goes one way: through ``beffroi.veille.services``.

- each page that changes something writes its own audit action, as the person, through the
  web; a page added later that is neither listed here as a change nor as a reading fails;
- a watch created through the API is the same act as on its page: the same checks, the
  person as its creator, the same audit event;
- another organization's object is not found (404) by any of these pages, and neither it nor
  anything else of that organization changes;
- the services take any actor (the command line's too); their rules hold whoever calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beffroi.audit.actions import AuditAction
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.organizations.context import OrgContext
from beffroi.veille import services
from beffroi.veille.models import AlertChannel, CheckedClaim, Narrative, Watch
from beffroi.veille.urls import urlpatterns
from tests.cross_org import fill_world, fingerprint

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Change:
    """A page that changes something: the object it takes (an attribute of the permission
    matrix's ``World``), what is posted, and the audit action it must write."""

    action: AuditAction
    pk: str | None = None
    data: Callable[[Any], dict[str, Any]] = lambda world: {}


def _library_file(world: Any) -> dict[str, Any]:
    content = b"claim,verdict,url\nLe maire a vendu la mairie,Faux,https://f.example/1\n"
    return {"file": SimpleUploadedFile("claims.csv", content, "text/csv")}


CHANGES: dict[str, Change] = {
    "watch_create": Change(
        AuditAction.WATCH_SAVE,
        data=lambda w: {"name": "Eau", "query": "eau", "sensitivity": 0.5, "enabled": "on"},
    ),
    "watch_edit": Change(
        AuditAction.WATCH_SAVE,
        pk="watch",
        data=lambda w: {"name": "w", "query": "robinet", "sensitivity": 0.5},
    ),
    "watch_delete": Change(AuditAction.WATCH_DELETE, pk="watch"),
    "alert_acknowledge": Change(AuditAction.ALERT_ACKNOWLEDGE, pk="alert"),
    "channel_create": Change(
        AuditAction.ALERT_CHANNEL_SAVE,
        data=lambda w: {"name": "Hook", "kind": "webhook", "target": "https://hooks.example/a"},
    ),
    "channel_edit": Change(
        AuditAction.ALERT_CHANNEL_SAVE,
        pk="channel",
        data=lambda w: {"name": "c", "kind": "webhook", "target": "https://hooks.example/b"},
    ),
    "channel_delete": Change(AuditAction.ALERT_CHANNEL_DELETE, pk="channel"),
    "claim_create": Change(
        AuditAction.CLAIM_SAVE,
        data=lambda w: {"statement": "L'eau est contaminée", "verdict": "Faux"},
    ),
    "claim_edit": Change(
        AuditAction.CLAIM_SAVE,
        pk="claim",
        data=lambda w: {"statement": "L'eau est très polluée", "verdict": "Faux"},
    ),
    "claim_delete": Change(AuditAction.CLAIM_DELETE, pk="claim"),
    "claims_import": Change(AuditAction.CLAIMS_IMPORT, data=_library_file),
    "narrative_rename": Change(
        AuditAction.NARRATIVE_RENAME, pk="narrative", data=lambda w: {"name": "Eau"}
    ),
    "narrative_merge": Change(
        AuditAction.NARRATIVE_MERGE,
        pk="narrative",
        data=lambda w: {"into": w.other_narrative.pk},
    ),
    "narrative_split": Change(
        AuditAction.NARRATIVE_SPLIT, pk="narrative", data=lambda w: {"items": [w.item.pk]}
    ),
    "campaign_status": Change(
        AuditAction.CAMPAIGN_UPDATE,
        pk="campaign",
        data=lambda w: {"status": "confirmed", "name": "Parking"},
    ),
    "identity_create": Change(
        AuditAction.PROTECTED_IDENTITY_SAVE,
        data=lambda w: {"kind": "person", "name": "Jean Martin", "handles_text": "jean"},
    ),
    "identity_edit": Change(
        AuditAction.PROTECTED_IDENTITY_SAVE,
        pk="identity",
        data=lambda w: {"kind": "person", "name": "Claire Dumas", "handles_text": "claire2"},
    ),
    "identity_delete": Change(AuditAction.PROTECTED_IDENTITY_DELETE, pk="identity"),
    "impersonator_status": Change(
        AuditAction.IMPERSONATION_DECIDE, pk="flag", data=lambda w: {"status": "dismissed"}
    ),
}

#: Pages that change no object of the veille, with the reason.
NOT_CHANGES = {
    "scan": "asks for a scan (a job); the scan's findings are the analysis steps' own",
    "channel_test": "sends a test message through the channel and stores nothing",
}

#: Pages that only read.
READINGS = {
    "dashboard",
    "alerts",
    "alert",
    "channels",
    "watches",
    "watch",
    "narratives",
    "narrative",
    "claims",
    "claim_matches",
    "campaigns",
    "campaign",
    "identities",
    "impersonators",
    "impersonator",
}


def _url(name: str, org: Any, pk: int | None = None) -> str:
    kwargs: dict[str, Any] = {"org_slug": org.slug}
    if pk is not None:
        kwargs["pk"] = pk
    return reverse(f"veille:{name}", kwargs=kwargs)


@pytest.fixture
def admin(org: Any, make_user: Callable[..., Any]) -> Any:
    return make_user("sophie", org=org, role="admin")


def test_every_veille_page_is_a_change_or_a_reading() -> None:
    names = {pattern.name for pattern in urlpatterns}
    unlisted = names - set(CHANGES) - set(NOT_CHANGES) - READINGS
    assert not unlisted, f"say whether these pages change something: {sorted(unlisted)}"
    assert not (set(CHANGES) | set(NOT_CHANGES) | READINGS) - names


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_change_writes_its_audit_action_as_the_person(
    name: str,
    org: Any,
    other_org: Any,
    admin: Any,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    change = CHANGES[name]
    world = fill_world(org, other_org, make_user)
    pk = getattr(world, change.pk).pk if change.pk else None
    data = change.data(world)
    client = verified_client(admin)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = client.post(_url(name, org, pk), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    [event] = AuditEvent.objects.exclude(pk__in=before)
    assert event.action == change.action
    assert (event.organization, event.actor, event.channel) == (org, admin, "ui")


@pytest.mark.parametrize("name", sorted(n for n, change in CHANGES.items() if change.pk))
def test_another_organizations_object_is_not_found_and_left_alone(
    name: str,
    org: Any,
    other_org: Any,
    admin: Any,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    change = CHANGES[name]
    theirs = fill_world(other_org, org, make_user)
    pk = getattr(theirs, change.pk).pk
    data = change.data(theirs)
    client = verified_client(admin)
    events = AuditEvent.objects.count()
    untouched = fingerprint(other_org)
    response = client.post(_url(name, org, pk), data)
    assert response.status_code == 404
    assert AuditEvent.objects.count() == events
    assert fingerprint(other_org) == untouched


def test_a_narrative_is_not_merged_into_another_organizations(
    org: Any,
    other_org: Any,
    admin: Any,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    ours = fill_world(org, other_org, make_user)
    theirs = fill_world(other_org, org, make_user).other_narrative
    client = verified_client(admin)
    untouched = fingerprint(other_org)
    url = _url("narrative_merge", org, ours.narrative.pk)
    assert client.post(url, {"into": theirs.pk}).status_code == 404
    # Nor into itself, which the page does not offer either.
    assert client.post(url, {"into": ours.narrative.pk}).status_code == 404
    assert fingerprint(other_org) == untouched
    ours.narrative.refresh_from_db()
    assert ours.narrative.status == Narrative.Status.ACTIVE
    assert not AuditEvent.objects.filter(action=AuditAction.NARRATIVE_MERGE).exists()


def test_a_watch_made_on_its_page_and_through_the_api_is_one_act(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    from beffroi.accounts.models import ApiToken

    sophie = make_user("analyst", org=org, role="analyst")
    client = verified_client(sophie)
    page = client.post(
        _url("watch_create", org),
        {
            "name": "Eau",
            "query": "eau",
            "sensitivity": 0.5,
            "enabled": "on",
            "alerts_enabled": "on",
        },
    )
    assert page.status_code == 302
    _, key = ApiToken.issue(sophie, "test")
    api = client.post(
        f"/api/v1/orgs/{org.slug}/watches",
        {"name": "Piscine", "query": "piscine"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert api.status_code == 201, api.content
    on_page, through_api = (
        AuditEvent.objects.get(action=AuditAction.WATCH_SAVE, object_id=str(watch.pk))
        for watch in (Watch.objects.get(name="Eau"), Watch.objects.get(name="Piscine"))
    )
    assert (on_page.channel, through_api.channel) == ("ui", "api")
    assert on_page.actor == through_api.actor == sophie
    assert on_page.object_type == through_api.object_type == "veille.watch"
    assert on_page.after.keys() == through_api.after.keys()
    assert on_page.after["created_by"] == through_api.after["created_by"] == sophie.pk
    assert Watch.objects.filter(created_by=sophie).count() == 2


def test_the_services_take_the_command_lines_actor(org: Any) -> None:
    ctx = OrgContext.for_command_line(org, "cli:test")
    data = {"name": "Eau", "query": "eau", "sensitivity": 0.5}
    form = services.watch_form(ctx.organization, ctx.actor, data)
    watch = services.save_watch(ctx.actor, form)
    assert watch is not None and watch.created_by is None
    event = AuditEvent.objects.get(action=AuditAction.WATCH_SAVE)
    assert (event.channel, event.actor_label, event.actor) == ("cli", "cli:test", None)
    services.delete_watch(ctx.actor, watch)
    assert not Watch.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.WATCH_DELETE, channel="cli").exists()


def test_a_channels_token_never_reaches_the_audit_trail(
    org: Any, admin: Any, verified_client: Callable[[Any], Any]
) -> None:
    client = verified_client(admin)
    data = {
        "name": "Tchap",
        "kind": "matrix",
        "target": "https://matrix.example",
        "room": "!r:example.org",
        "secret": "syt_secret_token_value",
        "enabled": "on",
    }
    assert client.post(_url("channel_create", org), data).status_code == 302
    channel = AlertChannel.objects.get()
    edit = {**data, "name": "Tchap 2", "secret": ""}
    assert client.post(_url("channel_edit", org, channel.pk), edit).status_code == 302
    assert client.post(_url("channel_delete", org, channel.pk)).status_code == 302
    events = AuditEvent.objects.filter(action__startswith="alert_channel.").order_by("pk")
    assert [event.action for event in events] == [
        AuditAction.ALERT_CHANNEL_SAVE,
        AuditAction.ALERT_CHANNEL_SAVE,
        AuditAction.ALERT_CHANNEL_DELETE,
    ]
    trail = json.dumps([[event.before, event.after] for event in events])
    assert "syt_secret" not in trail and channel.secret_encrypted not in trail
    assert "secret_encrypted" not in trail
    assert events[1].before["has_secret"] and events[1].after["has_secret"]
    assert events[1].before["name"] == "Tchap" and events[1].after["name"] == "Tchap 2"


def test_a_rebuttal_keeps_its_own_place_in_the_library_when_edited(
    org: Any,
    admin: Any,
    verified_client: Callable[[Any], Any],
    post: Callable[..., Any],
) -> None:
    """A rebuttal whose post has no address is keyed by its post, when made and when edited:
    a hand-typed claim of the same statement is another entry."""
    denial = post("C'est faux, l'eau est potable.", "mairie", url="")
    client = verified_client(admin)
    statement = {"statement": "L'eau est contaminée", "verdict": "Faux"}
    response = client.post(_url("claim_create", org) + f"?item={denial.pk}", statement)
    assert response.status_code == 302
    rebuttal = CheckedClaim.objects.get(item=denial)
    assert client.post(_url("claim_create", org), statement).status_code == 302
    assert CheckedClaim.objects.count() == 2
    key = rebuttal.key
    edited = {**statement, "verdict": "Trompeur"}
    response = client.post(_url("claim_edit", org, rebuttal.pk), edited)
    assert response.status_code == 302, response.content.decode()[-2000:]
    rebuttal.refresh_from_db()
    assert (rebuttal.verdict, rebuttal.key) == ("Trompeur", key)


def test_the_narrative_rules_hold_whoever_calls(
    org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    world = fill_world(org, other_org, make_user)
    narrative = world.narrative
    actor = Actor.system()
    with pytest.raises(ValidationError):
        services.merge_narratives(actor, narrative, narrative)
    theirs = fill_world(other_org, org, make_user).other_narrative
    with pytest.raises(ValidationError):
        services.merge_narratives(actor, narrative, theirs)
    members = list(narrative.members.values_list("item_id", flat=True))
    for chosen in ([], members):
        with pytest.raises(ValidationError):
            services.split_narrative(actor, narrative, chosen, "")
    assert not AuditEvent.objects.filter(action__startswith="narrative.").exists()


def test_listening_hashtags_are_written_by_the_sources_service(org: Any) -> None:
    """The veille hands its hashtags to ``sources.services``: one audited change, none when
    nothing changes, and a source still waiting for its credentials gets them too."""
    from beffroi.sources.models import Source
    from beffroi.veille.watch_query import sync_listening

    mastodon = Source.objects.create(organization=org, name="Mastodon", platform="mastodon")
    Watch.objects.create(organization=org, name="Eau", query="#eau", listen=True)
    assert sync_listening(org) == ["eau"]
    assert sync_listening(org) == ["eau"]
    mastodon.refresh_from_db()
    assert mastodon.settings["watch_hashtags"] == "eau"
    [event] = AuditEvent.objects.filter(action=AuditAction.SOURCE_UPDATE)
    assert (event.object_id, event.channel) == (str(mastodon.pk), "system")
    assert event.after == {"settings": {"watch_hashtags": "eau"}}
