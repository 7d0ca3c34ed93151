"""Web uploads of files (items, charter, fact-checks): size limits answered with a translated
413 page, all-or-nothing imports, and no temporary file left behind (issue 11)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from beffroi.audit.models import AuditEvent
from beffroi.charter.yaml_io import MAX_YAML_BYTES
from beffroi.core.uploads import remove_stale_uploads
from beffroi.items.models import Item
from beffroi.sources.forms import MAX_UPLOAD_BYTES

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org: Any, make_user: Any, verified_client: Any) -> Client:
    client: Client = verified_client(make_user("admin", org=org, role="admin"))
    return client


@pytest.fixture
def english(admin: Client) -> Client:
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin


@pytest.fixture
def uploads(settings: Any, tmp_path: Path) -> Path:
    """A folder of its own for the uploads' temporary files, to see what stays there."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def import_url(source: Any) -> str:
    return reverse("sources:import", args=[source.organization.slug, source.pk])


def upload(client: Client, source: Any, name: str, content: bytes, **extra: Any) -> Any:
    return client.post(import_url(source), {"file": SimpleUploadedFile(name, content), **extra})


def ndjson_rows(count: int, bad: int | None = None, value: str = "\ud800") -> bytes:
    """``count`` NDJSON rows; row ``bad`` (1-based) has ``value`` in its text."""
    lines = []
    for number in range(1, count + 1):
        text = f"bonjour {number}" + (f" {value}" if number == bad else "")
        row = {"id": str(number), "text": text, "created_at": 1714564980 + number, "author": "a"}
        lines.append(json.dumps(row))
    return ("\n".join(lines) + "\n").encode()


# --- all or nothing -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\ud800", "\x00"])
def test_a_row_storage_cannot_take_is_refused_and_nothing_is_stored(
    admin: Client, source: Any, uploads: Path, value: str
) -> None:
    # The probe: 600 rows, the 550th with a lone surrogate (or NUL) that JSON allows but no
    # database stores; before, the first 500 were committed and the page answered 500.
    response = upload(admin, source, "export.ndjson", ndjson_rows(600, bad=550, value=value))
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.imported
    assert [error.line for error in report.errors] == [550]
    assert "cannot be stored" in response.content.decode()
    assert not Item.objects.exists()
    assert not AuditEvent.objects.filter(action="source.import").exists()
    assert list(uploads.iterdir()) == []


def test_skip_invalid_stores_the_rest_and_records_it(
    admin: Client, source: Any, uploads: Path
) -> None:
    response = upload(admin, source, "export.ndjson", ndjson_rows(600, bad=550), skip_invalid="on")
    report = response.context["report"]
    assert report.imported and report.created == 599
    assert Item.objects.filter(source=source).count() == 599
    event = AuditEvent.objects.get(action="source.import")
    assert event.after == {"file": "export.ndjson", "created": 599, "existing": 0, "rejected": 1}
    assert list(uploads.iterdir()) == []


def test_an_empty_file_is_refused_with_a_message(english: Client, source: Any) -> None:
    # (Django's file field refuses 0 bytes itself.) Blank lines, a header without rows:
    for name, content in (("blank.ndjson", b"\n \n"), ("header.csv", b"text,created_at,author\n")):
        response = upload(english, source, name, content)
        assert response.status_code == 400, name
        assert "the file is empty" in response.context["form"].errors["file"][0], name
    assert not AuditEvent.objects.filter(action="source.import").exists()


# --- temporary files ------------------------------------------------------------------------


def test_a_failing_import_leaves_no_temporary_file(
    admin: Client, source: Any, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def interrupted(actor: Any, source: Any, path: Path, **kwargs: Any) -> Any:
        seen.append(path)
        assert path.read_bytes() == b"text,created_at,author\n"  # the upload, on disk
        raise ConnectionResetError("the request was interrupted")

    monkeypatch.setattr("beffroi.sources.views.import_file", interrupted)
    with pytest.raises(ConnectionResetError):
        upload(admin, source, "a.csv", b"text,created_at,author\n")
    assert seen and seen[0].is_relative_to(uploads)
    assert list(uploads.iterdir()) == []


def test_an_interrupted_upload_leaves_no_temporary_file(
    admin: Client, source: Any, uploads: Path, settings: Any
) -> None:
    # Django writes the file to the upload folder as it arrives (forced here); the client
    # goes away before the end of the body.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    boundary = "beffroi-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    body = (head + "text,created_at,author\n" * 5000).encode()
    response = admin.generic(
        "POST", import_url(source), body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert list(uploads.iterdir()) == []
    assert not Item.objects.exists()


def test_stale_uploads_are_swept_and_live_ones_kept(uploads: Path) -> None:
    old_folder = uploads / "beffroi-upload-dead"
    old_folder.mkdir()
    (old_folder / "a.csv").write_text("x")
    old_file = uploads / "tmp123.upload.csv"
    old_file.write_text("x")
    live = uploads / "beffroi-upload-live"
    live.mkdir()
    hours_ago = time.time() - 2 * 3600
    for path in (old_folder, old_file):
        os.utime(path, (hours_ago, hours_ago))
    assert remove_stale_uploads() == 2
    assert list(uploads.iterdir()) == [live]


# --- size limits ----------------------------------------------------------------------------


def test_an_oversized_item_import_answers_a_translated_413(
    admin: Client, english: Client, source: Any
) -> None:
    big = b"x" * (MAX_UPLOAD_BYTES + 100 * 1024)  # over the limit and the form's overhead
    response = upload(english, source, "big.csv", big)
    assert response.status_code == 413
    html = response.content.decode()
    assert "File too large" in html and "10.0\xa0MB" in html
    assert not Item.objects.exists()


def test_an_oversized_charter_import_answers_413(admin: Client, org: Any) -> None:
    url = reverse("charter:import", args=[org.slug])
    big = SimpleUploadedFile("c.yaml", b"#" * (MAX_YAML_BYTES + 100 * 1024))
    response = admin.post(url, {"file": big})  # before: 500 (an error added to an unbound form)
    assert response.status_code == 413
    assert response.context["limit"] == MAX_YAML_BYTES
    just_over = SimpleUploadedFile("c.yaml", b"#" * (MAX_YAML_BYTES + 1))
    assert admin.post(url, {"file": just_over}).status_code == 413


def test_an_oversized_fact_check_import_answers_413(admin: Client, org: Any) -> None:
    url = reverse("veille:claims_import", args=[org.slug])
    big = SimpleUploadedFile("feed.json", b" " * (MAX_UPLOAD_BYTES + 1))
    assert admin.post(url, {"file": big}).status_code == 413


def test_the_web_server_refuses_bodies_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from beffroi import config
    from beffroi.cli import main

    served: dict[str, Any] = {}
    monkeypatch.setattr("waitress.serve", lambda app, **options: served.update(options))
    monkeypatch.setattr("django.core.management.call_command", lambda *args, **kwargs: None)
    result = CliRunner().invoke(main, ["serve", "--no-background"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # waitress takes the media library's largest upload; every other address is refused
    # over MAX_REQUEST_BYTES by the application's outermost layer (tests/web/
    # test_request_limits.py), before Django reads the body.
    assert served["max_request_body_size"] == config.MAX_MEDIA_REQUEST_BYTES
    assert config.MAX_REQUEST_BYTES > MAX_UPLOAD_BYTES


# --- fact-checks nested too deeply ----------------------------------------------------------


def test_a_claim_review_nested_5000_deep_answers_400_with_a_message(
    english: Client, org: Any
) -> None:
    from beffroi.veille.models import CheckedClaim

    url = reverse("veille:claims_import", args=[org.slug])
    for depth in (5000, 100):  # too deep to parse; parsed but over the limit
        deep = ('{"@type": "ClaimReview", "x": ' + "[" * depth + "]" * depth + "}").encode()
        response = english.post(url, {"file": SimpleUploadedFile("feed.json", deep)})
        assert response.status_code == 400, depth
        error = response.context["form"].errors["file"][0]
        assert error.startswith("The file is nested more than 64 levels deep"), depth
    assert not CheckedClaim.objects.exists()


# --- platform, refused files, items another source holds (issue 13) -------------------------

REAL = Path(__file__).parent.parent / "fixtures" / "real"


def test_the_platform_chosen_applies_to_rows_that_name_none(english: Client, source: Any) -> None:
    form = english.get(import_url(source)).context["form"]
    assert form.fields["platform"].choices[0] == ("", "Detect")
    content = (REAL / "4cat" / "twitter-import.csv").read_bytes()
    unknown = upload(english, source, "x.csv", content, platform="myspace")
    assert unknown.status_code == 400 and not Item.objects.exists()
    response = upload(english, source, "x.csv", content, platform="x")
    assert response.context["report"].created == 3
    assert set(Item.objects.values_list("platform", flat=True)) == {"x"}
    shared = Item.objects.get(platform_id="1864998877766655443").urls
    assert shared == ["https://www.ville-test.fr/travaux-beffroi-2024"]


def test_a_refused_file_leaves_the_source_as_it_was(english: Client, source: Any) -> None:
    from beffroi.sources.models import Source

    before = list(Source.objects.values_list("pk", flat=True))
    response = upload(english, source, "bad.csv", b"text,created_at,author\nbonjour,hier,a\n")
    assert not response.context["report"].imported
    assert list(Source.objects.values_list("pk", flat=True)) == before
    assert not Item.objects.exists()


def test_items_another_source_holds_are_imported_and_said(english: Client, source: Any) -> None:
    from beffroi.sources.models import Source

    earlier = Source.objects.create(
        organization=source.organization, name="Zeeschuimer mai", platform="file", kind="import"
    )
    upload(english, earlier, "a.ndjson", ndjson_rows(3))
    response = upload(english, source, "a.ndjson", ndjson_rows(4))
    report = response.context["report"]
    assert report.created == 4 and report.in_other_sources == 3
    assert report.other_sources == ["Zeeschuimer mai"]
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "3 items of this file are also in another source (Zeeschuimer mai): each source keeps "
        "its own copy. An item is identified by its source and its platform id."
    ]
