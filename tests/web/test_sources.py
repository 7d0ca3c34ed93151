"""Sources: the form built from the connector's options, secrets, sync and file import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.web.conftest import audit_actions

pytestmark = pytest.mark.django_db

TOKEN = "tok-CLEAR-5e1f0a9c-never-shown"
SOURCES = "/o/ville-test/sources/"


@pytest.fixture
def admin(member_client: Callable[..., Any]) -> Any:
    return member_client("admin")


def create_mastodon(admin: Any, **extra: Any) -> Any:
    data = {
        "platform": "mastodon",
        "name": "Compte Mastodon",
        "kind": "account",
        "enabled": "on",
        "sync_interval_minutes": "30",
        "setting_base_url": "https://piaille.example",
        "secret_access_token": TOKEN,
        **extra,
    }
    return admin.post(f"{SOURCES}new/?platform=mastodon", data)


def test_new_source_starts_with_a_platform_choice(admin: Any) -> None:
    response = admin.get(f"{SOURCES}new/")
    assert response.status_code == 200
    platforms = dict(response.context["form"].fields["platform"].choices)
    assert "mastodon" in platforms and "file" in platforms


def test_form_is_built_from_the_connector_options(admin: Any) -> None:
    response = admin.get(f"{SOURCES}new/?platform=mastodon")
    form = response.context["form"]
    assert "setting_base_url" in form.fields and "secret_access_token" in form.fields
    html = response.content.decode()
    assert 'type="password"' in html and 'name="secret_access_token"' in html


def test_file_sources_never_offer_a_server_path(admin: Any) -> None:
    response = admin.get(f"{SOURCES}new/?platform=file")
    assert "setting_path" not in response.context["form"].fields


def test_create_stores_the_secret_encrypted_and_never_shows_it(admin: Any, org: Any) -> None:
    from django.db import connection

    from beffroi.audit.models import AuditEvent
    from beffroi.sources.models import Source

    response = create_mastodon(admin)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    source = Source.objects.get(organization=org, name="Compte Mastodon")
    assert source.platform == "mastodon"
    assert source.settings["base_url"] == "https://piaille.example"
    assert source.sync_interval_minutes == 15  # the default; changed on the edit page
    assert source.get_credentials() == {"access_token": TOKEN}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted FROM sources_source WHERE id = %s", [source.pk]
        )
        (stored,) = cursor.fetchone()
    assert stored and TOKEN not in stored

    edit = admin.get(f"{SOURCES}{source.pk}/edit/")
    assert edit.status_code == 200
    assert TOKEN not in edit.content.decode()
    assert "https://piaille.example" in edit.content.decode()
    assert TOKEN not in admin.get(SOURCES).content.decode()

    assert "source.create" in audit_actions(org)
    for event in AuditEvent.objects.all():
        assert TOKEN not in str(event.before) and TOKEN not in str(event.after)


def test_required_secret_is_required_on_creation(admin: Any, org: Any) -> None:
    response = create_mastodon(admin, secret_access_token="")
    assert response.status_code == 200
    assert response.context["form"].errors["secret_access_token"]


def test_blank_secret_keeps_the_stored_one(admin: Any, org: Any) -> None:
    from beffroi.sources.models import Source

    create_mastodon(admin)
    source = Source.objects.get(organization=org, name="Compte Mastodon")
    data = {
        "platform": "mastodon",
        "name": "Compte renommé",
        "kind": "account",
        "enabled": "on",
        "sync_interval_minutes": "15",
        "setting_base_url": "https://piaille.example",
        "secret_access_token": "",
    }
    assert admin.post(f"{SOURCES}{source.pk}/edit/", data).status_code == 302
    source.refresh_from_db()
    assert source.name == "Compte renommé"
    assert source.get_credentials() == {"access_token": TOKEN}

    data["secret_access_token"] = "a-brand-new-token"
    assert admin.post(f"{SOURCES}{source.pk}/edit/", data).status_code == 302
    source.refresh_from_db()
    assert source.get_credentials() == {"access_token": "a-brand-new-token"}
    assert audit_actions(org).count("source.update") == 2


def test_duplicate_name_is_a_form_error(admin: Any, org: Any) -> None:
    create_mastodon(admin)
    response = create_mastodon(admin)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_sync_enqueues_a_job(admin: Any, org: Any) -> None:
    from beffroi.jobs.models import Job
    from beffroi.sources.models import Source

    create_mastodon(admin)
    source = Source.objects.get(organization=org, name="Compte Mastodon")
    response = admin.post(f"{SOURCES}{source.pk}/sync/", follow=True)
    assert response.status_code == 200
    job = Job.objects.get(name="sources.sync")
    assert job.payload == {"source_id": source.pk} and job.organization == org
    assert "source.sync_request" in audit_actions(org)
    # Asking again while it waits does not queue a second one.
    admin.post(f"{SOURCES}{source.pk}/sync/")
    assert Job.objects.filter(name="sources.sync").count() == 1


def test_file_sources_are_not_synced(admin: Any, source: Any) -> None:
    from beffroi.jobs.models import Job

    response = admin.post(f"{SOURCES}{source.pk}/sync/", follow=True)
    assert response.status_code == 200
    assert not Job.objects.exists()
    assert next(iter(response.context["messages"])).level_tag == "error"


def test_list_shows_status_and_counts(admin: Any, source: Any) -> None:
    from tests.web.factories import make_author, make_item

    source.last_error = "Le serveur a refusé le jeton"
    source.status = "auth_failed"
    source.save()
    author = make_author(source.organization, "someone")
    make_item(source, author, "a", text="un")
    make_item(source, author, "b", text="deux", state="done")
    response = admin.get(SOURCES)
    listed = {s.pk: s for s in response.context["sources"]}
    assert listed[source.pk].item_count == 2 and listed[source.pk].new_count == 1
    html = response.content.decode()
    assert "Le serveur a refusé le jeton" in html
    assert f"{SOURCES}{source.pk}/import/" in html


GOOD_CSV = (
    "id,text,created_at,author,kind,thread_id,parent_id\n"
    "p1,La mairie ouvre un nouveau parc,2024-05-01T10:00:00Z,mairie,post,p1,\n"
    "c1,Super nouvelle !,2024-05-01T10:05:00Z,camille,comment,p1,p1\n"
)
BAD_CSV = (
    "id,text,created_at,author\n"
    "a1,Bonjour,2024-05-01T10:00:00Z,bob\n"
    "a2,Mauvaise date,31/02/2024,bob\n"
)


def upload(client: Any, source: Any, name: str, content: str | bytes, **extra: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"{SOURCES}{source.pk}/import/",
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **extra},
    )


def test_import_a_good_file(member_client: Callable[..., Any], source: Any, org: Any) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.items.models import Item

    moderator = member_client("moderator")  # INGEST is enough, no need to manage
    assert moderator.get(f"{SOURCES}{source.pk}/import/").status_code == 200
    response = upload(moderator, source, "export.csv", GOOD_CSV)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.imported and report.created == 2 and report.existing == 0
    assert Item.objects.filter(organization=org).count() == 2
    event = AuditEvent.objects.get(action="source.import")
    assert event.channel == "ui" and event.actor == moderator.user
    assert event.after["file"] == "export.csv"

    again = upload(moderator, source, "export.csv", GOOD_CSV)
    assert again.context["report"].created == 0 and again.context["report"].existing == 2


def test_import_a_bad_file_lists_errors_by_line(admin: Any, source: Any, org: Any) -> None:
    from beffroi.items.models import Item

    response = upload(admin, source, "bad.csv", BAD_CSV)
    assert response.status_code == 200
    assert not response.context["report"].imported
    errors = response.context["errors"]
    assert [error.line for error in errors] == [3]
    assert "created_at" in response.content.decode()
    assert not Item.objects.exists()

    skipped = upload(admin, source, "bad.csv", BAD_CSV, skip_invalid="on")
    assert skipped.context["report"].imported and skipped.context["report"].created == 1
    assert Item.objects.filter(organization=org).count() == 1


def test_import_refuses_other_extensions_and_big_files(admin: Any, source: Any) -> None:
    from beffroi.sources import forms

    response = upload(admin, source, "payload.exe", GOOD_CSV)
    assert response.status_code == 400
    assert response.context["form"].errors["file"]

    big = b"id,text,created_at,author\n" + b"x" * (forms.MAX_UPLOAD_BYTES + 10)
    response = upload(admin, source, "big.csv", big)
    assert response.status_code == 413
    assert response.context["limit"] == forms.MAX_UPLOAD_BYTES


def test_import_a_file_without_the_required_columns(admin: Any, source: Any) -> None:
    response = upload(admin, source, "odd.csv", "foo,bar\n1,2\n")
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
