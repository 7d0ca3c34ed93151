"""The size of a request body by address (``web/request_limits.py``): 413 before the
application is called on every address but the media library's upload, which takes the
largest media the library keeps; a body of unknown length cut at the limit; the 413 page in
French and English; and the upload views that still read a file over
``FILE_UPLOAD_MAX_MEMORY_SIZE``, which now reaches them as a temporary file."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from beffroi import config
from beffroi.web.request_limits import MEDIA_UPLOAD, ORDINARY, RequestSizeLimits

MEDIA_PATH = "/o/ville-test/publishing/media/"
IMPORT_PATH = "/o/ville-test/sources/3/import/"
#: What a server that passes a chunked body on as it comes says of it.
CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked"}


class UnreadableInput(io.RawIOBase):
    """A body nobody may read: the refusal must come from the header alone."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    def readline(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read")


class CountingInput(io.BytesIO):
    """A body that remembers how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.given += len(data)
        return data


class App:
    """The application behind the layer: records whether it was called and what it read."""

    def __init__(self, *, read_body: bool = False, on_error: int | None = None) -> None:
        self.calls = 0
        self.read_body = read_body
        self.on_error = on_error
        self.body = b""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        if self.read_body:
            try:
                while chunk := environ["wsgi.input"].read(64 * 1024):
                    self.body += chunk
            except Exception:
                if self.on_error is None:
                    raise
                # As Django does with an error in a view: an answer of its own.
                start_response(f"{self.on_error} Bad Request", [("Content-Type", "text/plain")])
                return [b"error"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def call(
    layer: RequestSizeLimits,
    path: str,
    *,
    length: int | None,
    body: io.IOBase | None = None,
    method: str = "POST",
    **headers: str,
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": body if body is not None else UnreadableInput(),
        "CONTENT_TYPE": "multipart/form-data; boundary=x",
        **headers,
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    answer: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc: Any = None
    ) -> Any:
        answer["status"] = status
        answer["headers"] = dict(response_headers)
        return lambda data: None

    content = b"".join(layer(environ, start_response))
    return answer["status"], answer["headers"], content


# --- by the declared length -----------------------------------------------------------------


def test_an_ordinary_address_over_its_limit_is_refused_before_the_application() -> None:
    app = App()
    layer = RequestSizeLimits(app)
    status, headers, content = call(layer, IMPORT_PATH, length=config.MAX_REQUEST_BYTES + 1)
    assert status == "413 Request Entity Too Large"
    assert app.calls == 0  # and UnreadableInput shows nothing read the body
    assert headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Découpez-le en fichiers plus petits" in content.decode()  # the site's language
    # At the limit, it goes through.
    status, _headers, content = call(layer, IMPORT_PATH, length=config.MAX_REQUEST_BYTES)
    assert (status, content, app.calls) == ("200 OK", b"ok", 1)


def test_the_media_upload_takes_the_largest_media_and_no_more() -> None:
    app = App()
    layer = RequestSizeLimits(app)
    assert MEDIA_UPLOAD.request_bytes == config.MAX_MEDIA_BYTES + config.REQUEST_FRAMING_BYTES
    assert config.MAX_MEDIA_BYTES >= config.MAX_VIDEO_BYTES > ORDINARY.request_bytes
    status, _headers, _content = call(layer, MEDIA_PATH, length=30 * config.MEGABYTE)
    assert (status, app.calls) == ("200 OK", 1)
    status, _headers, _content = call(layer, MEDIA_PATH, length=MEDIA_UPLOAD.request_bytes)
    assert (status, app.calls) == ("200 OK", 2)
    status, _headers, content = call(
        layer, MEDIA_PATH, length=MEDIA_UPLOAD.request_bytes + 1, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert (status, app.calls) == ("413 Request Entity Too Large", 2)
    html = content.decode()
    assert f"{config.MAX_VIDEO_BYTES // config.MEGABYTE}.0\xa0MB" in html
    assert "Split it" not in html  # a video is not cut into parts
    # Only its POST: the same address read with a body is an ordinary request.
    status, _headers, _content = call(layer, MEDIA_PATH, length=30 * config.MEGABYTE, method="PUT")
    assert (status, app.calls) == ("413 Request Entity Too Large", 2)
    # Nor an address that merely looks like it.
    for path in ("/o/ville-test/publishing/media/1/", "/o/ville-test/publishing/mediax/"):
        assert call(layer, path, length=30 * config.MEGABYTE)[0].startswith("413"), path


def test_the_api_answers_a_json_problem() -> None:
    layer = RequestSizeLimits(App())
    status, headers, content = call(
        layer, "/api/v1/orgs/ville-test/posts", length=config.MAX_REQUEST_BYTES + 1
    )
    assert status.startswith("413")
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(content)["status"] == 413


# --- a body of unknown length -----------------------------------------------------------------


def test_a_chunked_body_is_cut_at_the_limit() -> None:
    app = App(read_body=True)
    layer = RequestSizeLimits(app)
    body = CountingInput(b"x" * (config.MAX_REQUEST_BYTES + 10 * 1024 * 1024))
    status, _headers, _content = call(layer, IMPORT_PATH, length=None, body=body, **CHUNKED)
    assert status == "413 Request Entity Too Large"
    assert app.calls == 1
    # Read up to the first byte past the limit, not one more.
    assert body.given == config.MAX_REQUEST_BYTES + 1
    assert len(app.body) <= config.MAX_REQUEST_BYTES
    # The application met the error and answered 400 itself: the answer is still the 413.
    app = App(read_body=True, on_error=400)
    body = CountingInput(b"x" * (config.MAX_REQUEST_BYTES + 1))
    status, _headers, content = call(
        RequestSizeLimits(app), IMPORT_PATH, length=None, body=body, **CHUNKED
    )
    assert status == "413 Request Entity Too Large" and content != b"error"


def test_a_request_without_a_body_goes_through_untouched() -> None:
    """Neither a length nor chunks: no body (RFC 9112, 6.3), as for every GET."""
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"ok"]

    body = UnreadableInput()
    status, _headers, _content = call(RequestSizeLimits(app), IMPORT_PATH, length=None, body=body)
    assert status == "200 OK" and seen == [body]


def test_a_chunked_body_within_the_limit_reaches_the_application_whole() -> None:
    app = App(read_body=True)
    data = b"y" * (config.MAX_REQUEST_BYTES - 5)
    status, _headers, content = call(
        RequestSizeLimits(app), IMPORT_PATH, length=None, body=CountingInput(data), **CHUNKED
    )
    assert (status, content, app.body == data) == ("200 OK", b"ok", True)
    # On the media upload, a body over the ordinary limit goes through too.
    app = App(read_body=True)
    data = b"z" * (config.MAX_REQUEST_BYTES + 1024)
    status, _headers, _content = call(
        RequestSizeLimits(app), MEDIA_PATH, length=None, body=CountingInput(data), **CHUNKED
    )
    assert (status, len(app.body)) == ("200 OK", len(data))


# --- the page, in both languages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "language", "expected"),
    [
        (
            {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"},
            "en",
            ["File too large", "The file is larger than 10.0\xa0MB", "Back to the form"],
        ),
        (
            {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"},
            "fr",
            ["Fichier trop volumineux", "Le fichier dépasse 10,0\xa0Mio", "Retour au formulaire"],
        ),
        # The language chosen in the interface (its cookie) wins over the browser's.
        (
            {"HTTP_ACCEPT_LANGUAGE": "fr", "HTTP_COOKIE": f"{settings.LANGUAGE_COOKIE_NAME}=en"},
            "en",
            ["File too large"],
        ),
        ({}, "fr", ["Fichier trop volumineux"]),  # the site's own language
    ],
)
def test_the_413_page_is_translated(
    headers: dict[str, str], language: str, expected: list[str]
) -> None:
    status, response_headers, content = call(
        RequestSizeLimits(App()), IMPORT_PATH, length=config.MAX_REQUEST_BYTES + 1, **headers
    )
    html = content.decode()
    assert status.startswith("413")
    assert response_headers["Content-Language"] == language
    assert f'<html lang="{language}">' in html
    for sentence in expected:
        assert sentence in html, sentence
    assert f'<a href="{IMPORT_PATH}">' in html
    other = "Fichier trop volumineux" if language == "en" else "File too large"
    assert other not in html


# --- the limits' settings ---------------------------------------------------------------------


def test_the_video_limit_is_the_operators_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEFFROI_MAX_VIDEO_MB", raising=False)
    assert config.max_video_bytes() == 200 * config.MEGABYTE
    monkeypatch.setenv("BEFFROI_MAX_VIDEO_MB", "500")
    assert config.max_video_bytes() == 500 * config.MEGABYTE
    for wrong in ("0", "1.5", "lots", "-3"):
        monkeypatch.setenv("BEFFROI_MAX_VIDEO_MB", wrong)
        with pytest.raises(ValueError, match="BEFFROI_MAX_VIDEO_MB"):
            config.max_video_bytes()


def test_beffroi_serve_gives_waitress_the_media_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from beffroi.cli import main
    from beffroi.web import wsgi

    served: dict[str, Any] = {}

    def serve(app: Any, **options: Any) -> None:
        served.update(options, app=app)

    monkeypatch.setattr("waitress.serve", serve)
    monkeypatch.setattr("django.core.management.call_command", lambda *args, **kwargs: None)
    result = CliRunner().invoke(main, ["serve", "--no-background"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert served["max_request_body_size"] == config.MAX_MEDIA_REQUEST_BYTES
    assert served["inbuf_overflow"] <= 1024 * 1024  # a large body waits on disk
    # The application it serves is the Django one inside the limits.
    assert served["app"] is wsgi.application
    assert isinstance(wsgi.application, RequestSizeLimits)
    assert wsgi.application.application is wsgi.django_application
    # Files over this reach the views as temporary files, not in memory.
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 4 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == config.MAX_REQUEST_BYTES


# --- the upload views, with a file that arrives as a temporary file ------------------------------


@pytest.fixture
def temporary_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The files Django's temporary-file upload handler gave to the views."""
    given: list[Any] = []
    complete = TemporaryFileUploadHandler.file_complete

    def spy(handler: TemporaryFileUploadHandler, file_size: int) -> Any:
        uploaded = complete(handler, file_size)
        given.append(uploaded)
        return uploaded

    monkeypatch.setattr(TemporaryFileUploadHandler, "file_complete", spy)
    return given


@pytest.fixture
def admin(org: Any, make_user: Any, verified_client: Any) -> Client:
    client: Client = verified_client(make_user("admin", org=org, role="admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def padded_json(row: dict[str, Any], size: int) -> bytes:
    """``row`` as JSON with spaces inside, ``size`` bytes long."""
    text = json.dumps(row)
    return (text[:-1] + " " * (size - len(text.encode())) + "}").encode()


OVER_MEMORY = 3 * 1024 * 1024  # over Django's 2.5 MB, under the imports' 10 MB


@pytest.mark.django_db
def test_an_item_import_over_the_memory_size_is_imported(
    admin: Client, source: Any, temporary_files: list[Any]
) -> None:
    from beffroi.items.models import Item

    rows = [
        padded_json(
            {"id": str(n), "text": f"bonjour {n}", "created_at": 1714564980 + n, "author": "a"},
            OVER_MEMORY // 3,
        )
        for n in (1, 2, 3)
    ]
    content = b"\n".join(rows) + b"\n"
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    url = reverse("sources:import", args=[source.organization.slug, source.pk])
    response = admin.post(url, {"file": SimpleUploadedFile("big.ndjson", content)})
    assert response.status_code == 200
    assert response.context["report"].created == 3
    assert Item.objects.filter(source=source).count() == 3
    assert [type(file) for file in temporary_files] == [TemporaryUploadedFile]


@pytest.mark.django_db
def test_a_fact_check_import_over_the_memory_size_is_imported(
    admin: Client, org: Any, temporary_files: list[Any]
) -> None:
    from beffroi.veille.models import CheckedClaim

    review = {
        "@type": "ClaimReview",
        "url": "https://f.example/1",
        "claimReviewed": "Le maire a vendu la mairie",
        "reviewRating": {"alternateName": "Faux"},
        "author": {"name": "F"},
    }
    content = padded_json(review, OVER_MEMORY)
    url = reverse("veille:claims_import", args=[org.slug])
    response = admin.post(url, {"file": SimpleUploadedFile("feed.jsonld", content)})
    assert response.status_code == 302
    assert CheckedClaim.objects.get(organization=org).verdict == "Faux"
    assert [type(file) for file in temporary_files] == [TemporaryUploadedFile]


@pytest.mark.django_db
def test_a_charter_import_read_from_a_temporary_file(
    admin: Client, org: Any, temporary_files: list[Any], settings: Any
) -> None:
    """A charter is 1 MB at most, under the memory size: the size is lowered so that it
    arrives as a temporary file all the same."""
    from beffroi.audit.services import Actor
    from beffroi.charter import services
    from beffroi.charter.models import CharterVersion

    services.ensure_default_charter(org)
    draft = services.create_draft(Actor.system("test"), org)
    content = services.export_yaml(draft).encode()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    assert len(content) > 1024
    url = reverse("charter:import", args=[org.slug])
    response = admin.post(url, {"file": SimpleUploadedFile("charte.yaml", content)})
    assert response.status_code == 302
    imported = CharterVersion.objects.get(organization=org, number=draft.number + 1)
    assert services.diff_versions(draft, imported).is_empty
    assert [type(file) for file in temporary_files] == [TemporaryUploadedFile]
