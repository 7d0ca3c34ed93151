"""Sources: credentials are write-only; changes are audited; syncs are enqueued once."""

from __future__ import annotations

from typing import Any

import pytest

SECRET = "tok-s3cr3t-9f8e7d6c5b4a"


@pytest.fixture
def admin_key(org: Any, make_user: Any, key_for: Any) -> str:
    return key_for(make_user("root", org=org, role="admin"))


def create_body(**extra: Any) -> dict[str, Any]:
    body = {
        "name": "Compte Mastodon",
        "platform": "fakesocial",
        "settings": {"instance": "https://social.example"},
        "credentials": {"access_token": SECRET},
    }
    body.update(extra)
    return body


def test_create_source_stores_credentials_and_never_returns_them(
    api: Any, org: Any, admin_key: str, fake_platform: str
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.sources.models import Source

    response = api.post(f"orgs/{org.slug}/sources", admin_key, create_body())
    assert response.status_code == 201, response.content
    assert SECRET not in response.content.decode()
    data = response.json()
    assert data["has_credentials"] is True
    assert "credentials" not in data and "credentials_encrypted" not in data
    assert data["settings"] == {"instance": "https://social.example"}
    assert data["status"] == "new"

    source = Source.objects.get(pk=data["id"])
    assert source.get_credentials() == {"access_token": SECRET}
    assert SECRET not in source.credentials_encrypted

    listing = api.get(f"orgs/{org.slug}/sources", admin_key)
    assert listing.status_code == 200
    assert SECRET not in listing.content.decode()
    assert listing.json()[0]["has_credentials"] is True

    event = AuditEvent.objects.get(action="source.create")
    assert event.channel == "api"
    assert event.actor_label == "api:root"
    assert event.actor.username == "root"
    assert event.organization == org
    assert SECRET not in str(event.after)
    audit = api.get(f"orgs/{org.slug}/audit", admin_key)
    assert SECRET not in audit.content.decode()


def test_create_with_a_sync_interval(api: Any, org: Any, admin_key: str) -> None:
    from beffroi.audit.models import AuditEvent

    body = {"name": "I", "platform": "file", "kind": "import", "sync_interval_minutes": 60}
    response = api.post(f"orgs/{org.slug}/sources", admin_key, body)
    assert response.status_code == 201
    assert response.json()["sync_interval_minutes"] == 60
    # One service call, one event: the source is created with its interval.
    event = AuditEvent.objects.get(channel="api")
    assert (event.action, event.after["sync_interval_minutes"]) == ("source.create", 60)


def test_unknown_platform_is_400_with_the_message(api: Any, org: Any, admin_key: str) -> None:
    response = api.post(f"orgs/{org.slug}/sources", admin_key, create_body(platform="myspace"))
    assert response.status_code == 400
    assert "myspace" in response.json()["detail"]
    assert SECRET not in response.content.decode()


def test_missing_connector_option_is_400(
    api: Any, org: Any, admin_key: str, fake_platform: str
) -> None:
    response = api.post(f"orgs/{org.slug}/sources", admin_key, create_body(credentials={}))
    assert response.status_code == 400
    assert "access_token" in response.json()["detail"]


def test_duplicate_name_is_400_with_field_errors(
    api: Any, org: Any, source: Any, admin_key: str
) -> None:
    body = {"name": source.name, "platform": "file", "kind": "import"}
    response = api.post(f"orgs/{org.slug}/sources", admin_key, body)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_invalid_body_is_422(api: Any, org: Any, admin_key: str) -> None:
    path = f"orgs/{org.slug}/sources"
    assert api.post(path, admin_key, {"platform": "file"}).status_code == 422
    response = api.post(path, admin_key, {"name": "X", "platform": "file", "kind": "weird"})
    assert response.status_code == 422
    assert "kind" in response.content.decode()


def test_update_source_keeps_or_replaces_credentials(
    api: Any, org: Any, admin_key: str, fake_platform: str
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.sources.models import Source

    created = api.post(f"orgs/{org.slug}/sources", admin_key, create_body()).json()
    path = f"orgs/{org.slug}/sources/{created['id']}"

    assert created["sync_interval_minutes"] == 15
    response = api.patch(path, admin_key, {"name": "Renamed", "sync_interval_minutes": 30})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert response.json()["sync_interval_minutes"] == 30
    assert Source.objects.get(pk=created["id"]).get_credentials() == {"access_token": SECRET}

    new_secret = "tok-n3w-0a1b2c3d"
    response = api.patch(path, admin_key, {"credentials": {"access_token": new_secret}})
    assert response.status_code == 200
    assert new_secret not in response.content.decode()
    assert Source.objects.get(pk=created["id"]).get_credentials() == {"access_token": new_secret}

    events = AuditEvent.objects.filter(action="source.update").order_by("id")
    assert [e.channel for e in events] == ["api", "api"]
    assert events[1].after["credentials_changed"] is True
    assert new_secret not in str([e.before for e in events] + [e.after for e in events])

    # Clearing the credentials the connector needs is refused by the service.
    response = api.patch(path, admin_key, {"credentials": {}})
    assert response.status_code == 400
    assert "access_token" in response.json()["detail"]


def test_update_rejects_nulls_and_foreign_sources(
    api: Any, org: Any, other_org: Any, source: Any, admin_key: str
) -> None:
    from beffroi.sources.models import Source

    path = f"orgs/{org.slug}/sources/{source.pk}"
    assert api.patch(path, admin_key, {"name": None}).status_code == 422
    assert api.patch(path, admin_key, {"sync_interval_minutes": 0}).status_code == 422
    foreign = Source.objects.create(organization=other_org, name="X", platform="file")
    response = api.patch(f"orgs/{org.slug}/sources/{foreign.pk}", admin_key, {"name": "Mine"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "X"


@pytest.fixture
def remote_source(org: Any) -> Any:
    from beffroi.sources.models import Source

    return Source.objects.create(organization=org, name="Mastodon", platform="mastodon")


def test_sync_enqueues_once_and_returns_the_live_job(
    api: Any, org: Any, remote_source: Any, member_key: Any
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.jobs.models import Job

    source = remote_source
    key = member_key(org, "moderator")
    path = f"orgs/{org.slug}/sources/{source.pk}/sync"
    first = api.post(path, key)
    assert first.status_code == 202, first.content
    job = first.json()
    assert job["state"] == "pending"
    assert job["name"] == "sources.sync"
    second = api.post(path, key)
    assert second.status_code == 202
    assert second.json()["id"] == job["id"]

    stored = Job.objects.get(pk=job["id"])
    assert stored.dedupe_key == f"sources.sync:{source.pk}"
    assert stored.payload == {"source_id": source.pk}
    assert stored.organization == org
    assert Job.objects.filter(name="sources.sync").count() == 1
    requests = AuditEvent.objects.filter(action="source.sync_request", channel="api")
    assert [e.after for e in requests] == [{"job": job["id"]}, {"job": job["id"]}]
    assert {e.actor_label for e in requests} == {"api:" + requests[0].actor.username}

    # Once the job is finished, a new request makes a new job.
    Job.objects.filter(pk=job["id"]).update(state=Job.State.DONE)
    third = api.post(path, key)
    assert third.status_code == 202
    assert third.json()["id"] != job["id"]

    status = api.get(f"orgs/{org.slug}/jobs/{job['id']}", key)
    assert status.status_code == 200
    assert status.json()["state"] == "done"


def test_sync_of_disabled_file_or_foreign_source_is_refused(
    api: Any, org: Any, other_org: Any, source: Any, remote_source: Any, member_key: Any
) -> None:
    from beffroi.jobs.models import Job
    from beffroi.sources.models import Source

    key = member_key(org, "moderator")
    response = api.post(f"orgs/{org.slug}/sources/{source.pk}/sync", key)
    assert response.status_code == 409
    assert "fichier" in response.json()["detail"]  # the default language is French
    remote_source.enabled = False
    remote_source.save()
    response = api.post(f"orgs/{org.slug}/sources/{remote_source.pk}/sync", key)
    assert response.status_code == 409
    assert "désactivée" in response.json()["detail"]
    foreign = Source.objects.create(organization=other_org, name="X", platform="file")
    assert api.post(f"orgs/{org.slug}/sources/{foreign.pk}/sync", key).status_code == 404
    assert not Job.objects.exists()


def test_jobs_of_other_organizations_are_404(
    api: Any, org: Any, other_org: Any, member_key: Any
) -> None:
    from beffroi.jobs.models import Job

    key = member_key(org, "viewer")
    foreign = Job.objects.create(name="sources.sync", organization=other_org)
    global_job = Job.objects.create(name="sources.sync", organization=None)
    assert api.get(f"orgs/{org.slug}/jobs/{foreign.pk}", key).status_code == 404
    assert api.get(f"orgs/{org.slug}/jobs/{global_job.pk}", key).status_code == 404
